// WebGL2 context, GPU buffers and the point shader.
//
// One draw call renders every point as a gl.POINTS sprite. Per-point data
// lives in three vertex buffers: positions (float32, 2 or 3 per point, copied
// straight from the API's Float32Array), colours (RGBA8) and flag bytes
// (selected / neighbour / match / hidden). Nothing per point is a JS object.

export const FLAG_SELECTED = 1;
export const FLAG_NEIGHBOR = 2;
export const FLAG_MATCH = 4;
export const FLAG_HIDDEN = 8;
export const FLAG_HOVER = 16;
/** Inside the lasso / box selection (web/selection/). */
export const FLAG_REGION = 32;

/** Selected and matching points are drawn at least this large (CSS px), rings included. */
export const MIN_LIT_PX = 10;

/** While the camera moves, at most this many points are drawn (a fixed random subset). */
export const MOTION_BUDGET = 200_000;

// The vertex shader decides size, colour dimming and draw order from the flags.
const POINT_VS = `#version 300 es
layout(location = 0) in vec3 a_pos;
layout(location = 1) in vec4 a_color;
layout(location = 2) in uint a_flags;
uniform mat4 u_mvp;
uniform float u_size;
uniform float u_perspectiveRef;   // > 0 in 3D: sizes shrink with distance
uniform bool u_highlight;         // something is highlighted: fade the rest
uniform vec3 u_background;
uniform float u_fade;             // how far a faded point's colour goes towards the background
uniform float u_minLit;           // smallest size of a selected or matching point (neighbours: 70%)
uniform int u_spriteCols;         // > 0 when drawing thumbnails
uniform vec2 u_tileSize;          // one thumbnail in texture coordinates
out vec4 v_color;
flat out float v_ring;            // 0 none, 1 selected or hovered, 2 search match
flat out vec2 v_tileOrigin;
void main() {
  uint f = a_flags;
  if ((f & 8u) != 0u) {            // hidden: outside the clip volume
    gl_Position = vec4(2.0, 2.0, 2.0, 1.0);
    gl_PointSize = 0.0;
    return;
  }
  vec4 p = u_mvp * vec4(a_pos, 1.0);
  float size = u_size;
  if (u_perspectiveRef > 0.0) size *= clamp(u_perspectiveRef / max(p.w, 1e-4), 0.35, 4.0);
  bool selected = (f & 1u) != 0u;
  bool hovered = (f & 16u) != 0u;
  bool match = (f & 4u) != 0u;
  bool lit = (f & 23u) != 0u;      // selected, neighbour, match or hover
  vec4 color = a_color;
  if (lit) {
    p.z -= 0.01 * p.w;             // draw highlighted points in front
    if (u_highlight || hovered) size *= selected ? 2.2 : 1.6;
    // Matches, the selection and its neighbours stay findable in a cloud of 2-pixel points
    // (thumbnails are large already).
    if (u_spriteCols == 0) size = max(size, (selected || match) ? u_minLit : 0.7 * u_minLit);
  } else if ((f & 32u) != 0u) {     // in the lasso / box selection: in front, a little larger
    p.z -= 0.005 * p.w;
    if (u_spriteCols == 0) size = max(size * 1.4, 0.3 * u_minLit);
  } else if (u_highlight) {
    color.rgb = mix(color.rgb, u_background, u_fade);
    p.z += 0.01 * p.w;
  }
  v_ring = (selected || hovered) ? 1.0 : match ? 2.0 : 0.0;
  if (u_spriteCols > 0) {
    int id = gl_VertexID;
    v_tileOrigin = vec2(float(id % u_spriteCols), float(id / u_spriteCols)) * u_tileSize;
    size *= 4.0;
  } else {
    v_tileOrigin = vec2(0.0);
  }
  v_color = color;
  gl_Position = p;
  gl_PointSize = size;
}`;

const POINT_FS = `#version 300 es
precision highp float;
precision highp int;
in vec4 v_color;
flat in float v_ring;
flat in vec2 v_tileOrigin;
uniform sampler2D u_sprite;
uniform int u_spriteCols;
uniform vec2 u_tileSize;
uniform bool u_highlight;
uniform vec3 u_ring;
uniform vec3 u_matchRing;
out vec4 outColor;
void main() {
  vec2 q = gl_PointCoord * 2.0 - 1.0;
  if (u_spriteCols > 0) {
    float edge = max(abs(q.x), abs(q.y));
    if (edge > 0.86) { outColor = vec4(v_ring > 1.5 ? u_matchRing : v_ring > 0.5 ? u_ring : v_color.rgb, 1.0); return; }
    vec4 t = texture(u_sprite, v_tileOrigin + (gl_PointCoord - 0.5) / 0.86 * u_tileSize + 0.5 * u_tileSize);
    outColor = vec4(u_highlight && v_ring < 0.5 ? mix(t.rgb, vec3(1.0), 0.0) : t.rgb, 1.0);
    return;
  }
  float r2 = dot(q, q);
  if (r2 > 1.0) discard;
  vec3 c = v_color.rgb;
  if (v_ring > 1.5 && r2 > 0.4) c = u_matchRing;
  else if (v_ring > 0.5 && r2 > 0.45) c = u_ring;
  else c *= 1.0 - 0.18 * r2;       // a little shading reads as a sphere
  outColor = vec4(c, 1.0);
}`;

/** @param {WebGL2RenderingContext} gl @param {number} type @param {string} source */
function compile(gl, type, source) {
  const shader = /** @type {WebGLShader} */ (gl.createShader(type));
  gl.shaderSource(shader, source);
  gl.compileShader(shader);
  if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
    throw new Error(`shader compile failed: ${gl.getShaderInfoLog(shader)}`);
  }
  return shader;
}

/** @param {WebGL2RenderingContext} gl @param {string} vs @param {string} fs */
function link(gl, vs, fs) {
  const program = /** @type {WebGLProgram} */ (gl.createProgram());
  gl.attachShader(program, compile(gl, gl.VERTEX_SHADER, vs));
  gl.attachShader(program, compile(gl, gl.FRAGMENT_SHADER, fs));
  gl.linkProgram(program);
  if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
    throw new Error(`program link failed: ${gl.getProgramInfoLog(program)}`);
  }
  return program;
}

export class Renderer {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    const gl = canvas.getContext('webgl2', { antialias: false, alpha: false, depth: true, powerPreference: 'high-performance' });
    if (!gl) throw new Error('WebGL2 is not available in this browser, so the scatter cannot be drawn.');
    /** @type {WebGL2RenderingContext} */
    this.gl = gl;
    this.program = link(gl, POINT_VS, POINT_FS);
    this.uniforms = Object.fromEntries(
      ['u_mvp', 'u_size', 'u_perspectiveRef', 'u_highlight', 'u_background', 'u_fade', 'u_minLit', 'u_ring', 'u_matchRing', 'u_spriteCols', 'u_tileSize', 'u_sprite'].map((name) => [
        name,
        gl.getUniformLocation(this.program, name),
      ]),
    );
    this.vao = gl.createVertexArray();
    this.positionBuffer = gl.createBuffer();
    this.colorBuffer = gl.createBuffer();
    this.flagBuffer = gl.createBuffer();
    this.subsetBuffer = gl.createBuffer();
    this.hasSubset = false;
    this.spriteTexture = null;
    this.spriteCols = 0;
    this.tileSize = [0, 0];
    this.count = 0;
    this.dims = 2;
    this._positionBytes = 0;
    this.hasColors = false;
    this.setTheme(false);
    this.maxTextureSize = gl.getParameter(gl.MAX_TEXTURE_SIZE);
    const range = gl.getParameter(gl.ALIASED_POINT_SIZE_RANGE);
    this.maxPointSize = range ? range[1] : 64;
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.flagBuffer);
    gl.enableVertexAttribArray(2);
    gl.vertexAttribIPointer(2, 1, gl.UNSIGNED_BYTE, 0, 0);
    gl.bindVertexArray(null);
    this.lost = false;
    canvas.addEventListener('webglcontextlost', (e) => {
      e.preventDefault();
      this.lost = true;
    });
  }

  /** Background and ring colours of the light or the night theme. @param {boolean} dark */
  setTheme(dark) {
    this.background = dark ? [0.09, 0.1, 0.125] : [0.985, 0.985, 0.99];
    // Faded colours keep less of themselves on white than on the night background, where 18% of
    // a colour is nearly black: the rest of the map stays readable around a selection.
    this.fade = dark ? 0.62 : 0.82;
    this.ring = dark ? [0.95, 0.95, 0.98] : [0.08, 0.08, 0.1];
    this.matchRing = dark ? [1.0, 0.72, 0.2] : [0.9, 0.38, 0.0];
  }

  /**
   * Upload coordinates (n*dims float32). Reuses the GPU buffer when the size is unchanged
   * (t-SNE frames), so animation costs one bufferSubData per frame.
   * @param {Float32Array} coords @param {number} dims
   */
  setPositions(coords, dims) {
    const gl = this.gl;
    gl.bindVertexArray(this.vao);
    gl.bindBuffer(gl.ARRAY_BUFFER, this.positionBuffer);
    if (coords.byteLength === this._positionBytes) gl.bufferSubData(gl.ARRAY_BUFFER, 0, coords);
    else gl.bufferData(gl.ARRAY_BUFFER, coords, gl.DYNAMIC_DRAW);
    this._positionBytes = coords.byteLength;
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, dims, gl.FLOAT, false, 0, 0);
    const n = Math.floor(coords.length / dims);
    if (n !== this.count) {
      this.count = n;
      this._buildSubset(n);
      this.setColors(null);
      this.setFlags(new Uint8Array(n));
    }
    this.dims = dims;
    gl.bindVertexArray(null);
  }

  /**
   * Index buffer holding a seeded random permutation of the points; drawing its
   * first MOTION_BUDGET entries gives an unbiased subset while the camera moves,
   * whatever the order of the rows.
   * @param {number} n
   */
  _buildSubset(n) {
    const gl = this.gl;
    this.hasSubset = n > MOTION_BUDGET;
    if (!this.hasSubset) return;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    let seed = 0x9e3779b9;
    for (let i = n - 1; i > 0; i--) {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      const j = (seed >>> 0) % (i + 1);
      const t = order[i]; order[i] = order[j]; order[j] = t;
    }
    // The element buffer binding is part of the VAO (bound by the caller).
    gl.bindBuffer(gl.ELEMENT_ARRAY_BUFFER, this.subsetBuffer);
    gl.bufferData(gl.ELEMENT_ARRAY_BUFFER, order.subarray(0, MOTION_BUDGET), gl.STATIC_DRAW);
  }

  /** @param {Uint8Array | null} rgba n*4 bytes, or null for one default colour */
  setColors(rgba, defaultRgb = [38, 110, 200]) {
    const gl = this.gl;
    gl.bindVertexArray(this.vao);
    if (rgba && rgba.length === this.count * 4) {
      gl.bindBuffer(gl.ARRAY_BUFFER, this.colorBuffer);
      gl.bufferData(gl.ARRAY_BUFFER, rgba, gl.STATIC_DRAW);
      gl.enableVertexAttribArray(1);
      gl.vertexAttribPointer(1, 4, gl.UNSIGNED_BYTE, true, 0, 0);
      this.hasColors = true;
    } else {
      gl.disableVertexAttribArray(1);
      gl.vertexAttrib4f(1, defaultRgb[0] / 255, defaultRgb[1] / 255, defaultRgb[2] / 255, 1);
      this.hasColors = false;
    }
    gl.bindVertexArray(null);
  }

  /** @param {Uint8Array} flags one byte per point */
  setFlags(flags) {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.flagBuffer);
    gl.bufferData(gl.ARRAY_BUFFER, flags, gl.DYNAMIC_DRAW);
  }

  /**
   * Thumbnails: the sprite sheet, tiles of tileW x tileH pixels, row-major.
   * @param {ImageBitmap | HTMLImageElement | null} image @param {number} tileW @param {number} tileH
   */
  setSprite(image, tileW, tileH) {
    const gl = this.gl;
    if (this.spriteTexture) gl.deleteTexture(this.spriteTexture);
    this.spriteTexture = null;
    this.spriteCols = 0;
    if (!image) return;
    if (image.width > this.maxTextureSize || image.height > this.maxTextureSize) {
      throw new Error(`sprite sheet is ${image.width}x${image.height}, larger than this GPU's ${this.maxTextureSize}px textures`);
    }
    this.spriteTexture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.spriteTexture);
    gl.pixelStorei(gl.UNPACK_FLIP_Y_WEBGL, false);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, image);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    this.spriteCols = Math.max(1, Math.floor(image.width / tileW));
    this.tileSize = [tileW / image.width, tileH / image.height];
  }

  /** Resize the drawing buffer to the canvas' CSS size; returns true if it changed. */
  resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(this.canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(this.canvas.clientHeight * dpr));
    if (this.canvas.width === w && this.canvas.height === h) return false;
    this.canvas.width = w;
    this.canvas.height = h;
    return true;
  }

  /**
   * Draw one frame.
   * @param {{mvp: Float32Array, pointSize: number, perspectiveRef: number, highlight: boolean, sprites: boolean, moving?: boolean}} view
   * @returns {number} points submitted
   */
  render(view) {
    const gl = this.gl;
    if (this.lost) return 0;
    const [r, g, b] = this.background;
    gl.viewport(0, 0, this.canvas.width, this.canvas.height);
    gl.clearColor(r, g, b, 1);
    gl.clearDepth(1);
    gl.clear(gl.COLOR_BUFFER_BIT | gl.DEPTH_BUFFER_BIT);
    if (!this.count) return 0;
    gl.enable(gl.DEPTH_TEST);
    gl.depthFunc(gl.LEQUAL);
    gl.disable(gl.BLEND);
    gl.useProgram(this.program);
    const u = this.uniforms;
    const dpr = window.devicePixelRatio || 1;
    const sprites = view.sprites && this.spriteTexture !== null;
    gl.uniformMatrix4fv(u.u_mvp, false, view.mvp);
    gl.uniform1f(u.u_size, Math.min(this.maxPointSize, view.pointSize * dpr));
    gl.uniform1f(u.u_perspectiveRef, view.perspectiveRef);
    gl.uniform1i(u.u_highlight, view.highlight ? 1 : 0);
    gl.uniform3f(u.u_background, r, g, b);
    gl.uniform1f(u.u_fade, this.fade);
    gl.uniform1f(u.u_minLit, Math.min(this.maxPointSize, MIN_LIT_PX * dpr));
    gl.uniform3fv(u.u_ring, this.ring);
    gl.uniform3fv(u.u_matchRing, this.matchRing);
    gl.uniform1i(u.u_spriteCols, sprites ? this.spriteCols : 0);
    gl.uniform2f(u.u_tileSize, this.tileSize[0], this.tileSize[1]);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, sprites ? this.spriteTexture : null);
    gl.uniform1i(u.u_sprite, 0);
    gl.bindVertexArray(this.vao);
    let drawn = this.count;
    if (view.moving && this.hasSubset) {
      drawn = MOTION_BUDGET;
      gl.drawElements(gl.POINTS, drawn, gl.UNSIGNED_INT, 0);
    } else {
      gl.drawArrays(gl.POINTS, 0, this.count);
    }
    gl.bindVertexArray(null);
    return drawn;
  }

  /** Block until the GPU has finished (benchmarks and tests only). */
  sync() {
    const px = new Uint8Array(4);
    this.gl.readPixels(0, 0, 1, 1, this.gl.RGBA, this.gl.UNSIGNED_BYTE, px);
  }
}
