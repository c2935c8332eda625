// Hover and click picking through a screen-space grid.
//
// After the camera settles (and whenever coordinates change) every point is
// projected once and bucketed into cells of CELL pixels (a counting sort).
// A pick then looks only at the few cells around the cursor: O(points there),
// never O(n) per mouse move. Above WORKER_THRESHOLD points the build runs in a
// Worker and the arrays come back as transferables. buildScreenIndex and pick
// are pure, so they also run headless.

export const CELL = 8;
const WORKER_THRESHOLD = 150_000;

/**
 * @typedef {object} ScreenIndex
 * @property {number} width @property {number} height @property {number} cell
 * @property {number} cols @property {number} rows
 * @property {Uint32Array} cellStart  (cols*rows+1) offsets into the arrays below
 * @property {Uint32Array} ids        point index, grouped by cell
 * @property {Float32Array} sx        screen x (CSS px) of ids[k]
 * @property {Float32Array} sy        screen y
 * @property {Float32Array} depth     NDC depth (smaller is nearer)
 * @property {number} version         camera version it was built for
 */

/**
 * @param {Float32Array} coords n*dims
 * @param {number} dims 2 or 3
 * @param {Float32Array} mvp model-view-projection (column-major)
 * @param {number} width CSS px @param {number} height CSS px
 * @param {number} [version]
 * @param {number} [cell]
 * @returns {ScreenIndex}
 */
export function buildScreenIndex(coords, dims, mvp, width, height, version = 0, cell = CELL) {
  const n = Math.floor(coords.length / dims);
  const cols = Math.max(1, Math.ceil(width / cell));
  const rows = Math.max(1, Math.ceil(height / cell));
  const cellOf = new Int32Array(n);
  const px = new Float32Array(n);
  const py = new Float32Array(n);
  const pz = new Float32Array(n);
  const counts = new Uint32Array(cols * rows + 1);
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = mvp;
  let visible = 0;
  for (let i = 0; i < n; i++) {
    const x = coords[i * dims], y = coords[i * dims + 1], z = dims > 2 ? coords[i * dims + 2] : 0;
    const w = m3 * x + m7 * y + m11 * z + m15;
    const cz = m2 * x + m6 * y + m10 * z + m14;
    if (!(w > 0) || cz < -w || cz > w) { cellOf[i] = -1; continue; }
    const sx = ((m0 * x + m4 * y + m8 * z + m12) / w * 0.5 + 0.5) * width;
    const sy = (0.5 - (m1 * x + m5 * y + m9 * z + m13) / w * 0.5) * height;
    if (!(sx >= 0 && sx < width && sy >= 0 && sy < height)) { cellOf[i] = -1; continue; }
    const c = Math.floor(sy / cell) * cols + Math.floor(sx / cell);
    cellOf[i] = c;
    px[i] = sx; py[i] = sy; pz[i] = cz / w;
    counts[c + 1]++;
    visible++;
  }
  for (let c = 1; c < counts.length; c++) counts[c] += counts[c - 1];
  const cellStart = counts;
  const fill = cellStart.slice(0, cols * rows);
  const ids = new Uint32Array(visible);
  const sx = new Float32Array(visible), sy = new Float32Array(visible), depth = new Float32Array(visible);
  for (let i = 0; i < n; i++) {
    const c = cellOf[i];
    if (c < 0) continue;
    const k = fill[c]++;
    ids[k] = i; sx[k] = px[i]; sy[k] = py[i]; depth[k] = pz[i];
  }
  return { width, height, cell, cols, rows, cellStart, ids, sx, sy, depth, version };
}

/**
 * The point under (x, y): among points whose disc (pointRadius) covers the
 * cursor the nearest in depth, else the closest within `radius`; -1 if none.
 * @param {ScreenIndex} index @param {number} x @param {number} y
 * @param {number} radius search radius (px) @param {number} pointRadius drawn radius (px)
 * @param {Uint8Array} [flags] per-point flags @param {number} [hiddenBit] skip points with this bit
 * @returns {number}
 */
export function pick(index, x, y, radius, pointRadius, flags, hiddenBit = 0) {
  const { cell, cols, rows, cellStart, ids, sx, sy, depth } = index;
  const c0 = Math.max(0, Math.floor((x - radius) / cell)), c1 = Math.min(cols - 1, Math.floor((x + radius) / cell));
  const r0 = Math.max(0, Math.floor((y - radius) / cell)), r1 = Math.min(rows - 1, Math.floor((y + radius) / cell));
  let best = -1, bestDepth = Infinity, bestDist = Infinity, covered = false;
  const pr2 = pointRadius * pointRadius, rr2 = radius * radius;
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const cellIndex = r * cols + c;
      for (let k = cellStart[cellIndex]; k < cellStart[cellIndex + 1]; k++) {
        const dx = sx[k] - x, dy = sy[k] - y;
        const d2 = dx * dx + dy * dy;
        if (d2 > rr2) continue;
        const id = ids[k];
        if (flags && hiddenBit && flags[id] & hiddenBit) continue;
        if (d2 <= pr2) {
          if (!covered || depth[k] < bestDepth) { best = id; bestDepth = depth[k]; covered = true; }
        } else if (!covered && d2 < bestDist) {
          best = id; bestDist = d2;
        }
      }
    }
  }
  return best;
}

/**
 * Up to one point per `spacing`-px block (the nearest in depth), for decluttered labels.
 * @param {ScreenIndex} index @param {number} spacing @param {number} max
 * @param {Uint8Array} [flags] @param {number} [hiddenBit]
 * @returns {number[]}
 */
export function spreadSample(index, spacing, max, flags, hiddenBit = 0) {
  const per = Math.max(1, Math.round(spacing / index.cell));
  const out = [];
  for (let br = 0; br < index.rows; br += per) {
    for (let bc = 0; bc < index.cols; bc += per) {
      let best = -1, bestDepth = Infinity;
      for (let r = br; r < Math.min(index.rows, br + per); r++) {
        for (let c = bc; c < Math.min(index.cols, bc + per); c++) {
          const ci = r * index.cols + c;
          for (let k = index.cellStart[ci]; k < index.cellStart[ci + 1]; k++) {
            const id = index.ids[k];
            if (flags && hiddenBit && flags[id] & hiddenBit) continue;
            if (index.depth[k] < bestDepth) { best = id; bestDepth = index.depth[k]; }
          }
        }
      }
      if (best >= 0) {
        out.push(best);
        if (out.length >= max) return out;
      }
    }
  }
  return out;
}

/** Keeps a ScreenIndex in step with the coordinates and the camera. */
export class Picker {
  constructor() {
    /** @type {ScreenIndex | null} */
    this.index = null;
    /** @type {Float32Array | null} */
    this._coords = null;
    this._dims = 2;
    this._worker = null;
    this._busy = false;
    /** @type {{mvp: Float32Array, width: number, height: number, version: number} | null} */
    this._wanted = null;
    /** Called when a fresh index is ready. @type {() => void} */
    this.onready = () => {};
    this.lastBuildMs = 0;
  }

  /**
   * New coordinates (the array is not modified).
   * @param {Float32Array} coords @param {number} dims
   */
  setCoords(coords, dims) {
    this._coords = coords;
    this._dims = dims;
    this.index = null;
    const n = coords.length / dims;
    if (n > WORKER_THRESHOLD) {
      if (!this._worker) {
        this._worker = new Worker(new URL('./picking-worker.js', import.meta.url), { type: 'module' });
        this._worker.onmessage = (event) => this._received(event.data);
      }
      this._worker.postMessage({ op: 'coords', coords: coords.slice(), dims });
    }
  }

  /** Forget the coordinates (the scene shows nothing). */
  clear() {
    this._coords = null;
    this.index = null;
    this._wanted = null;
  }

  /**
   * Ask for an index for this camera; built now (small n) or in the Worker.
   * @param {Float32Array} mvp @param {number} width @param {number} height @param {number} version
   */
  update(mvp, width, height, version) {
    if (!this._coords) return;
    this._wanted = { mvp, width, height, version };
    const n = this._coords.length / this._dims;
    if (n <= WORKER_THRESHOLD || !this._worker) {
      const t0 = performance.now();
      this.index = buildScreenIndex(this._coords, this._dims, mvp, width, height, version);
      this.lastBuildMs = performance.now() - t0;
      this._wanted = null;
      this.onready();
      return;
    }
    this._dispatch();
  }

  _dispatch() {
    if (this._busy || !this._wanted || !this._worker) return;
    const { mvp, width, height, version } = this._wanted;
    this._wanted = null;
    this._busy = true;
    this._started = performance.now();
    this._worker.postMessage({ op: 'build', mvp, width, height, version });
  }

  /** @param {ScreenIndex} index */
  _received(index) {
    this._busy = false;
    this.lastBuildMs = performance.now() - this._started;
    if (!this._coords) return; // cleared while building
    this.index = index;
    if (this._wanted) this._dispatch();
    else this.onready();
  }

  /**
   * @param {number} version current camera version; a stale index picks nothing
   * @returns {number}
   */
  pick(x, y, version, radius, pointRadius, flags, hiddenBit) {
    if (!this.index || this.index.version !== version) return -1;
    return pick(this.index, x, y, radius, pointRadius, flags, hiddenBit);
  }

  dispose() {
    this._worker?.terminate();
    this._worker = null;
  }
}
