// The scatter view: owns the camera, the renderer, the picker, the per-point
// flag bytes and the 2D overlay (overlay.js: hover ring and text labels). It renders
// on demand, one requestAnimationFrame at a time, and reports hover and clicks
// on the bus.

import { bounds, homeCamera, modelFromBounds, multiply, projectPoint, viewProjection } from './camera.js';
import { attachControls } from './controls.js';
import { Renderer, FLAG_HIDDEN, FLAG_MATCH, FLAG_NEIGHBOR, FLAG_REGION, FLAG_SELECTED } from './gl/renderer.js';
import { Picker } from './picking.js';
import { Overlay } from './overlay.js';

const SETTLE_MS = 90;

/** Default point size (CSS px) for n points. @param {number} n */
export function defaultPointSize(n) {
  if (n <= 2_000) return 7;
  if (n <= 20_000) return 4.5;
  if (n <= 200_000) return 3;
  if (n <= 1_000_000) return 2;
  return 1.5;
}

export class Scene {
  /**
   * @param {HTMLCanvasElement} canvas WebGL canvas
   * @param {HTMLCanvasElement} overlay 2D canvas on top of it
   * @param {import('./events.js').EventBus} bus
   */
  constructor(canvas, overlay, bus) {
    this.canvas = canvas;
    this.overlay = new Overlay(overlay, () => this._drawOverlay());
    this.bus = bus;
    this.renderer = new Renderer(canvas);
    this.picker = new Picker();
    this.picker.onready = () => this._drawOverlay();
    /** @type {Float32Array | null} */
    this.coords = null;
    this.dims = 2;
    this.n = 0;
    this.flags = new Uint8Array(0);
    this.camera = homeCamera(3);
    this.cameraVersion = 0;
    this.model = modelFromBounds([0, 0, 0], 1);
    this.pointSize = 3;
    this.userPointSize = 0;
    this.sprites = false;
    this.isolated = false;
    this.hover = -1;
    this.selected = -1;
    /** @type {number[]} */
    this.neighbors = [];
    /** @type {Uint32Array | number[]} */
    this.matches = [];
    /** Rows of the lasso / box selection (web/selection/). @type {Uint32Array} */
    this.region = new Uint32Array(0);
    this.dragging = false;
    /** @type {Uint8Array | null} */
    this.colors = null;
    this._frameRequested = false;
    this._settleTimer = 0;
    /** The camera is moving: draw a subset of very large clouds. */
    this.moving = false;
    this.stats = { frames: 0, pointsDrawn: 0, lastFrameMs: 0, firstFrameAt: 0, lastPickMs: 0 };
    this.dark = false;

    attachControls(canvas, {
      getCamera: () => this.camera,
      setCamera: (cam) => this.setCamera(cam),
      onHover: (x, y) => this._hover(x, y),
      onLeave: () => this._setHover(-1, 0, 0),
      onClick: (x, y) => {
        const i = this.pickAt(x, y, 10);
        this.bus.emit('point:select', i >= 0 ? { index: i } : null);
      },
      onReset: () => this.resetView(),
      onEscape: () => this.bus.emit('point:select', null),
      onDragChange: (dragging) => {
        this.dragging = dragging;
        if (dragging) this._setHover(-1, 0, 0);
      },
    });
    new ResizeObserver(() => this.requestFrame(true)).observe(canvas);
  }

  /**
   * Show new coordinates. keepView keeps the camera (t-SNE frames of the same run).
   * @param {Float32Array} coords @param {number} dims @param {{keepView?: boolean}} [opts]
   */
  setCoords(coords, dims, opts = {}) {
    const sameSize = coords.length / dims === this.n;
    this.coords = coords;
    const dimsChanged = dims !== this.dims;
    this.dims = dims;
    this.renderer.setPositions(coords, dims);
    if (!sameSize) {
      if (this.colors) this.renderer.setColors(this.colors);
      this.n = coords.length / dims;
      this.flags = new Uint8Array(this.n);
      this.selected = -1;
      this.neighbors = [];
      this.matches = [];
      this.region = new Uint32Array(0);
      this.isolated = false;
      this.overlay.forget();
    }
    this.pointSize = this.userPointSize || defaultPointSize(this.n);
    this._fit();
    if (!opts.keepView || dimsChanged) this.camera = homeCamera(/** @type {2|3} */ (dims));
    this.picker.setCoords(coords, dims);
    this.cameraVersion++;
    this.requestFrame(true);
  }

  /** Show nothing (another dataset is loading); colours and highlights go too. */
  clear() {
    this.coords = null;
    this.n = 0;
    this.flags = new Uint8Array(0);
    this.colors = null;
    this.selected = -1;
    this.neighbors = [];
    this.matches = [];
    this.region = new Uint32Array(0);
    this.isolated = false;
    this.hover = -1;
    this.overlay.forget();
    this.renderer.setPositions(new Float32Array(0), this.dims);
    this.picker.clear();
    this.stats.pointsDrawn = 0;
    this.requestFrame();
  }

  /** Recentre the model on the visible points. */
  _fit() {
    if (!this.coords) return;
    const { center, radius } = bounds(this.coords, this.dims, this.isolated ? this.flags : undefined, FLAG_HIDDEN);
    this.model = modelFromBounds(center, radius);
  }

  /** Per-point colours; kept so they survive new coordinates. @param {Uint8Array | null} rgba */
  setColors(rgba) {
    this.colors = rgba;
    this.renderer.setColors(rgba);
    this.requestFrame();
  }

  /** @param {import('./types').CameraState} cam */
  setCamera(cam) {
    this.camera = cam;
    this.cameraVersion++;
    this.requestFrame(true);
    this.bus.emit('camera:change', null);
  }

  resetView() {
    this._fit();
    this.setCamera(homeCamera(/** @type {2|3} */ (this.dims)));
  }

  /** @param {number} size CSS px, 0 for automatic */
  setPointSize(size) {
    this.userPointSize = size;
    this.pointSize = size || defaultPointSize(this.n);
    this.requestFrame();
  }

  /** Colours of the light or the night theme. @param {boolean} dark */
  setTheme(dark) {
    this.dark = dark;
    this.renderer.setTheme(dark);
    this.requestFrame();
  }

  /** @param {boolean} on */
  setSprites(on) {
    this.sprites = on;
    this.requestFrame();
  }

  // ---- highlight state -> flag bytes ------------------------------------

  /** @param {number} index @param {number[]} neighbors */
  setSelection(index, neighbors) {
    const f = this.flags;
    if (this.selected >= 0 && this.selected < this.n) f[this.selected] &= ~FLAG_SELECTED;
    for (const i of this.neighbors) if (i < this.n) f[i] &= ~FLAG_NEIGHBOR;
    this.selected = index < this.n ? index : -1;
    this.neighbors = neighbors.filter((i) => i >= 0 && i < this.n);
    if (this.selected >= 0) f[this.selected] |= FLAG_SELECTED;
    for (const i of this.neighbors) f[i] |= FLAG_NEIGHBOR;
    this._flagsChanged();
  }

  /** @param {Uint32Array | number[]} indices search or legend matches */
  setMatches(indices) {
    const f = this.flags;
    for (const i of this.matches) if (i < this.n) f[i] &= ~FLAG_MATCH;
    this.matches = indices;
    for (const i of indices) if (i < this.n) f[i] |= FLAG_MATCH;
    this._flagsChanged();
  }

  /** The lasso / box selection (ascending rows). @param {Uint32Array} rows */
  setRegion(rows) {
    const f = this.flags, n = this.n, old = this.region;
    for (let k = 0; k < old.length; k++) if (old[k] < n) f[old[k]] &= ~FLAG_REGION;
    this.region = rows;
    for (let k = 0; k < rows.length; k++) if (rows[k] < n) f[rows[k]] |= FLAG_REGION;
    this._flagsChanged();
  }

  /** Number of highlighted (selected, neighbour, matching or region-selected) points. */
  highlightCount() {
    let count = 0;
    const mask = FLAG_SELECTED | FLAG_NEIGHBOR | FLAG_MATCH | FLAG_REGION;
    for (let i = 0; i < this.n; i++) if (this.flags[i] & mask) count++;
    return count;
  }

  /** Show only highlighted points (on), or everything (off). @param {boolean} on */
  setIsolate(on) {
    const f = this.flags;
    const mask = FLAG_SELECTED | FLAG_NEIGHBOR | FLAG_MATCH | FLAG_REGION;
    this.isolated = on;
    for (let i = 0; i < this.n; i++) {
      if (on && !(f[i] & mask)) f[i] |= FLAG_HIDDEN;
      else f[i] &= ~FLAG_HIDDEN;
    }
    this._flagsChanged();
    this.resetView();
  }

  _flagsChanged() {
    if (this.isolated) {
      // New highlights inside an isolated view are shown; nothing else appears.
      for (const i of [this.selected, ...this.neighbors]) if (i >= 0) this.flags[i] &= ~FLAG_HIDDEN;
    }
    this.renderer.setFlags(this.flags);
    this.requestFrame();
  }

  hasHighlight() {
    return this.selected >= 0 || this.neighbors.length > 0 || this.matches.length > 0 || this.region.length > 0;
  }

  /** @param {string} column @param {((indices: number[]) => Promise<string[]>) | null} provider */
  setLabels(column, provider) {
    this.overlay.setLabels(column, provider);
    this._drawOverlay();
  }

  // ---- frames ---------------------------------------------------------------

  mvp() {
    const aspect = this.canvas.clientWidth / Math.max(1, this.canvas.clientHeight);
    return multiply(viewProjection(this.camera, aspect), this.model);
  }

  /** @param {boolean} [cameraMoved] the pick index must be rebuilt afterwards */
  requestFrame(cameraMoved = false) {
    if (cameraMoved) {
      this.moving = this.stats.firstFrameAt > 0;
      clearTimeout(this._settleTimer);
      this._settleTimer = window.setTimeout(() => {
        this.moving = false;
        this._rebuildPickIndex();
        this.requestFrame();
      }, SETTLE_MS);
    }
    if (this._frameRequested) return;
    this._frameRequested = true;
    requestAnimationFrame(() => {
      this._frameRequested = false;
      this.renderNow();
    });
  }

  /** @param {boolean} [sync] wait for the GPU (benchmarks) */
  renderNow(sync = false) {
    const t0 = performance.now();
    const resized = this.renderer.resize();
    if (resized) {
      this.overlay.resize(this.canvas.width, this.canvas.height);
    }
    const drawn = this.renderer.render({
      mvp: this.mvp(),
      pointSize: this.pointSize,
      perspectiveRef: this.dims === 3 ? this.camera.distance : 0,
      highlight: this.hasHighlight(),
      sprites: this.sprites,
      moving: this.moving,
    });
    const first = drawn > 0 && !this.stats.firstFrameAt;
    // Benchmarks set __projectorSync so frame times include the GPU's work.
    if (sync || (first && /** @type {any} */ (window).__projectorSync)) this.renderer.sync();
    const t1 = performance.now();
    this.stats.frames++;
    this.stats.pointsDrawn = drawn;
    this.stats.lastFrameMs = t1 - t0;
    if (first) this.stats.firstFrameAt = t1;
    this._drawOverlay();
    if (resized) this._rebuildPickIndex();
  }

  _rebuildPickIndex() {
    if (!this.coords) return;
    this.picker.update(this.mvp(), this.canvas.clientWidth, this.canvas.clientHeight, this.cameraVersion);
  }

  // ---- picking and hover ------------------------------------------------------

  /** @param {number} x CSS px in the canvas @param {number} y @param {number} [radius] */
  pickAt(x, y, radius = 8) {
    const t0 = performance.now();
    const r = this.sprites ? this.pointSize * 2 : this.pointSize / 2;
    const i = this.picker.pick(x, y, this.cameraVersion, Math.max(radius, r), r, this.flags, FLAG_HIDDEN);
    this.stats.lastPickMs = performance.now() - t0;
    return i;
  }

  /** @param {number} x @param {number} y */
  _hover(x, y) {
    if (this.dragging) return;
    const i = this.pickAt(x, y);
    this._setHover(i, x, y);
  }

  /** @param {number} i @param {number} x @param {number} y */
  _setHover(i, x, y) {
    if (i === this.hover && i < 0) return;
    const changed = i !== this.hover;
    this.hover = i;
    this.bus.emit('point:hover', i >= 0 ? { index: i, x, y } : null);
    if (changed) this._drawOverlay();
  }

  /** Screen position (CSS px in the canvas) of point i. @param {number} i */
  screenOf(i) {
    if (!this.coords || i < 0 || i >= this.n) return null;
    const d = this.dims;
    const p = projectPoint(this.mvp(), this.coords[i * d], this.coords[i * d + 1], d > 2 ? this.coords[i * d + 2] : 0, this.canvas.clientWidth, this.canvas.clientHeight);
    return p;
  }

  _drawOverlay() {
    const index = this.picker.index;
    this.overlay.draw({
      coords: this.coords, dims: this.dims, mvp: this.mvp(), width: this.canvas.clientWidth, height: this.canvas.clientHeight,
      hover: this.hover, selected: this.selected, neighbors: this.neighbors, matches: this.matches,
      pointSize: this.pointSize, dragging: this.dragging, dark: this.dark, flags: this.flags,
      index: index && index.version === this.cameraVersion ? index : null,
    });
  }
}
