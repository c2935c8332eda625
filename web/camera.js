// Pure camera math: 4x4 column-major matrices (WebGL layout), an orbit camera
// for 3D and a pan/zoom camera for 2D. No DOM here, so it can be tested headless.

/** @typedef {import('./types').CameraState} CameraState */

const DEG = Math.PI / 180;
export const FOV_Y = 45 * DEG;
/** Distance at which the unit cube's cross-section fills the view with a margin for rotation. */
export const HOME_DISTANCE = 1.25 / Math.tan(FOV_Y / 2);
const MIN_PITCH = -89 * DEG;
const MAX_PITCH = 89 * DEG;

/** @returns {Float32Array} */
export function identity() {
  const m = new Float32Array(16);
  m[0] = m[5] = m[10] = m[15] = 1;
  return m;
}

/**
 * out = a * b (apply b first, then a).
 * @param {Float32Array} a @param {Float32Array} b
 * @returns {Float32Array}
 */
export function multiply(a, b) {
  const out = new Float32Array(16);
  for (let col = 0; col < 4; col++) {
    for (let row = 0; row < 4; row++) {
      let s = 0;
      for (let k = 0; k < 4; k++) s += a[k * 4 + row] * b[col * 4 + k];
      out[col * 4 + row] = s;
    }
  }
  return out;
}

/**
 * @param {number} fovY radians @param {number} aspect @param {number} near @param {number} far
 * @returns {Float32Array}
 */
export function perspective(fovY, aspect, near, far) {
  const f = 1 / Math.tan(fovY / 2);
  const m = new Float32Array(16);
  m[0] = f / aspect;
  m[5] = f;
  m[10] = (far + near) / (near - far);
  m[11] = -1;
  m[14] = (2 * far * near) / (near - far);
  return m;
}

/** @returns {Float32Array} */
export function ortho(left, right, bottom, top, near, far) {
  const m = new Float32Array(16);
  m[0] = 2 / (right - left);
  m[5] = 2 / (top - bottom);
  m[10] = -2 / (far - near);
  m[12] = -(right + left) / (right - left);
  m[13] = -(top + bottom) / (top - bottom);
  m[14] = -(far + near) / (far - near);
  m[15] = 1;
  return m;
}

/**
 * View matrix looking from eye to target.
 * @param {number[]} eye @param {number[]} target @param {number[]} up
 * @returns {Float32Array}
 */
export function lookAt(eye, target, up) {
  let zx = eye[0] - target[0], zy = eye[1] - target[1], zz = eye[2] - target[2];
  let len = Math.hypot(zx, zy, zz) || 1;
  zx /= len; zy /= len; zz /= len;
  let xx = up[1] * zz - up[2] * zy, xy = up[2] * zx - up[0] * zz, xz = up[0] * zy - up[1] * zx;
  len = Math.hypot(xx, xy, xz) || 1;
  xx /= len; xy /= len; xz /= len;
  const yx = zy * xz - zz * xy, yy = zz * xx - zx * xz, yz = zx * xy - zy * xx;
  const m = new Float32Array(16);
  m[0] = xx; m[4] = xy; m[8] = xz;
  m[1] = yx; m[5] = yy; m[9] = yz;
  m[2] = zx; m[6] = zy; m[10] = zz;
  m[12] = -(xx * eye[0] + xy * eye[1] + xz * eye[2]);
  m[13] = -(yx * eye[0] + yy * eye[1] + yz * eye[2]);
  m[14] = -(zx * eye[0] + zy * eye[1] + zz * eye[2]);
  m[15] = 1;
  return m;
}

/**
 * Model matrix that maps data with the given centre and radius into the unit sphere.
 * @param {number[]} center @param {number} radius
 */
export function modelFromBounds(center, radius) {
  const s = radius > 0 && Number.isFinite(radius) ? 1 / radius : 1;
  const m = identity();
  m[0] = m[5] = m[10] = s;
  m[12] = -center[0] * s;
  m[13] = -center[1] * s;
  m[14] = -(center[2] ?? 0) * s;
  return m;
}

/** Points sampled to frame a layout: enough for stable percentiles, few enough for any n. */
export const FRAME_SAMPLE = 20_000;
/**
 * The frame covers the 2nd to 98th percentile on each axis... (UMAP of real text scatters ~2% of
 * its points in small far islands; the 1st-99th percentile still framed those, not the mass.)
 */
const FRAME_QUANTILE = 0.02;
/** ...widened by this fraction of that range on each side, and never past the extremes. */
const FRAME_MARGIN = 0.15;

/**
 * Centre and radius that frame n points of `dims` coordinates on robust extents: per axis the
 * 2nd to 98th percentile widened by a margin (clipped to the actual extremes), so a few far
 * outliers do not shrink the mass of the cloud. Optionally only points whose flag byte has
 * none of the `hiddenBit` bits. O(FRAME_SAMPLE) without flags, one O(n) scan with them.
 * The sample's own extremes stand for the cloud's when it is sampled.
 * @param {Float32Array} coords @param {number} dims
 * @param {Uint8Array} [flags] @param {number} [hiddenBit]
 * @returns {{center: number[], radius: number}}
 */
export function bounds(coords, dims, flags, hiddenBit = 0) {
  const n = Math.floor(coords.length / dims);
  /** @type {number[] | null} the rows to frame, when only some are visible */
  let rows = null;
  if (flags && hiddenBit) {
    const kept = [];
    for (let i = 0; i < n; i++) if (!(flags[i] & hiddenBit)) kept.push(i);
    rows = kept;
  }
  const count = rows ? rows.length : n;
  if (!count) return { center: [0, 0, 0], radius: 1 };
  // Every row when few; else a seeded random sample (a stride could alias with the row order).
  const m = Math.min(count, FRAME_SAMPLE);
  const pick = new Uint32Array(m);
  let seed = 0x2545f491;
  for (let k = 0; k < m; k++) {
    let j = k;
    if (m < count) {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      j = (seed >>> 0) % count;
    }
    pick[k] = rows ? rows[j] : j;
  }
  const sorted = new Float32Array(m);
  const center = [0, 0, 0];
  let radius = 0;
  for (let d = 0; d < dims; d++) {
    for (let q = 0; q < m; q++) sorted[q] = coords[pick[q] * dims + d];
    sorted.sort();
    const at = (/** @type {number} */ q) => sorted[Math.min(m - 1, Math.max(0, Math.round(q * (m - 1))))];
    const qlo = at(FRAME_QUANTILE), qhi = at(1 - FRAME_QUANTILE);
    const pad = (qhi - qlo) * FRAME_MARGIN;
    const lo = Math.max(sorted[0], qlo - pad), hi = Math.min(sorted[m - 1], qhi + pad);
    if (!(lo <= hi)) return { center: [0, 0, 0], radius: 1 };
    center[d] = (lo + hi) / 2;
    // Radius: the largest half-extent of any axis, so the cloud fills the view
    // (the box diagonal would leave it small, most clouds being round).
    radius = Math.max(radius, (hi - lo) / 2);
  }
  return { center, radius: radius > 0 ? radius : 1 };
}

/**
 * The camera that shows the whole unit sphere.
 * @param {2 | 3} dims
 * @returns {CameraState}
 */
export function homeCamera(dims) {
  return {
    dims,
    target: [0, 0, 0],
    distance: HOME_DISTANCE,
    yaw: dims === 3 ? 30 * DEG : 0,
    pitch: dims === 3 ? 20 * DEG : 0,
    zoom: 1,
  };
}

/** @param {CameraState} cam */
export function eyePosition(cam) {
  const cp = Math.cos(cam.pitch);
  return [
    cam.target[0] + cam.distance * cp * Math.sin(cam.yaw),
    cam.target[1] + cam.distance * Math.sin(cam.pitch),
    cam.target[2] + cam.distance * cp * Math.cos(cam.yaw),
  ];
}

/** Camera right and up unit vectors in world space. @param {CameraState} cam */
function cameraAxes(cam) {
  const right = [Math.cos(cam.yaw), 0, -Math.sin(cam.yaw)];
  const sp = Math.sin(cam.pitch), cp = Math.cos(cam.pitch);
  const up = [-sp * Math.sin(cam.yaw), cp, -sp * Math.cos(cam.yaw)];
  return { right, up };
}

/** Half the visible height, in world units, at the target plane. @param {CameraState} cam */
function halfHeight(cam) {
  return cam.dims === 3 ? cam.distance * Math.tan(FOV_Y / 2) : 1.15 / cam.zoom;
}

/**
 * View-projection matrix (without the model matrix).
 * @param {CameraState} cam @param {number} aspect width / height
 * @returns {Float32Array}
 */
export function viewProjection(cam, aspect) {
  if (cam.dims === 3) {
    const near = Math.max(cam.distance * 0.01, 1e-4);
    const far = cam.distance + 10;
    const view = lookAt(eyePosition(cam), cam.target, [0, 1, 0]);
    return multiply(perspective(FOV_Y, aspect, near, far), view);
  }
  const h = halfHeight(cam);
  const w = h * aspect;
  const [cx, cy] = cam.target;
  return ortho(cx - w, cx + w, cy - h, cy + h, -10, 10);
}

/**
 * Rotate around the target by a pointer drag (pixels).
 * @param {CameraState} cam @param {number} dx @param {number} dy
 * @returns {CameraState}
 */
export function orbit(cam, dx, dy) {
  if (cam.dims !== 3) return cam;
  const speed = 0.008;
  const pitch = Math.min(MAX_PITCH, Math.max(MIN_PITCH, cam.pitch + dy * speed));
  return { ...cam, yaw: cam.yaw - dx * speed, pitch };
}

/**
 * Move the view so the content follows a pointer drag of (dx, dy) pixels.
 * @param {CameraState} cam @param {number} dx @param {number} dy @param {number} viewportHeight
 * @returns {CameraState}
 */
export function pan(cam, dx, dy, viewportHeight) {
  const perPixel = (2 * halfHeight(cam)) / Math.max(1, viewportHeight);
  if (cam.dims !== 3) {
    return { ...cam, target: [cam.target[0] - dx * perPixel, cam.target[1] + dy * perPixel, 0] };
  }
  const { right, up } = cameraAxes(cam);
  const t = cam.target.slice();
  for (let i = 0; i < 3; i++) t[i] += (-dx * right[i] + dy * up[i]) * perPixel;
  return { ...cam, target: t };
}

/**
 * Zoom by `factor` (>1 zooms in). In 2D the world point under the cursor
 * stays put; ndcX/ndcY are the cursor in normalized device coordinates.
 * @param {CameraState} cam @param {number} factor @param {number} [ndcX] @param {number} [ndcY] @param {number} [aspect]
 * @returns {CameraState}
 */
export function zoom(cam, factor, ndcX = 0, ndcY = 0, aspect = 1) {
  if (cam.dims === 3) {
    const distance = Math.min(50, Math.max(0.02, cam.distance / factor));
    return { ...cam, distance };
  }
  const newZoom = Math.min(1e5, Math.max(0.05, cam.zoom * factor));
  const h0 = 1.15 / cam.zoom, h1 = 1.15 / newZoom;
  const wx = cam.target[0] + ndcX * h0 * aspect;
  const wy = cam.target[1] + ndcY * h0;
  return { ...cam, zoom: newZoom, target: [wx - ndcX * h1 * aspect, wy - ndcY * h1, 0] };
}

/**
 * Project one point to pixel coordinates (origin top-left).
 * @param {Float32Array} mvp @param {number} x @param {number} y @param {number} z
 * @param {number} width @param {number} height
 * @returns {{x: number, y: number, depth: number, visible: boolean}}
 */
export function projectPoint(mvp, x, y, z, width, height) {
  const cx = mvp[0] * x + mvp[4] * y + mvp[8] * z + mvp[12];
  const cy = mvp[1] * x + mvp[5] * y + mvp[9] * z + mvp[13];
  const cz = mvp[2] * x + mvp[6] * y + mvp[10] * z + mvp[14];
  const cw = mvp[3] * x + mvp[7] * y + mvp[11] * z + mvp[15];
  const visible = cw > 0 && Math.abs(cz) <= cw;
  const nx = cx / cw, ny = cy / cw;
  return { x: (nx * 0.5 + 0.5) * width, y: (0.5 - ny * 0.5) * height, depth: cz / cw, visible };
}
