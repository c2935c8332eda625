// Finds the rows inside an outline. When the scene's pick index is current (every point on
// screen already projected for this camera, picking.js) the rows are read from it at once, a
// lookup per point; otherwise the selection Worker projects the points. The Worker receives the
// coordinates once per layout (a copy, on the first selection that needs it), then each query
// is a small message: the camera matrix, the outline and, when some points are hidden, flags.

import { selectFromIndex } from './region.js';

/**
 * @typedef {object} SelectResult
 * @property {Uint32Array} rows ascending
 * @property {number} ms time spent selecting (in the Worker, or reading the pick index)
 * @property {'index' | 'worker'} path
 */

export class RegionSelector {
  constructor() {
    this._worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    this._next = 1;
    /** @type {Map<number, {resolve: (r: SelectResult) => void, reject: (e: Error) => void}>} */
    this._pending = new Map();
    /** The coordinates the Worker holds (compared by identity) and their version. */
    this._sent = /** @type {Float32Array | null} */ (null);
    this._version = 0;
    this._worker.onmessage = (event) => {
      const { id, rows, ms, error } = event.data;
      const pending = this._pending.get(id);
      if (!pending) return;
      this._pending.delete(id);
      if (error) pending.reject(new Error(error));
      else pending.resolve({ rows, ms, path: 'worker' });
    };
    this._worker.onerror = (event) => {
      const err = new Error(`selection worker failed: ${event.message}`);
      for (const p of this._pending.values()) p.reject(err);
      this._pending.clear();
    };
  }

  /**
   * Rows inside the outline, as the points are drawn now.
   * @param {Float32Array} coords @param {number} dims
   * @param {import('./region.js').RegionQuery} query
   * @param {import('../picking.js').ScreenIndex | null} index the scene's pick index, when built for this camera and size
   * @returns {Promise<SelectResult>}
   */
  async select(coords, dims, query, index) {
    if (index) {
      const t0 = performance.now();
      const rows = selectFromIndex(index, coords.length / dims, query);
      return { rows, ms: performance.now() - t0, path: 'index' };
    }
    if (coords !== this._sent) {
      this._sent = coords;
      this._version++;
      // A copy: the scene keeps drawing (and a running job keeps replacing) its own array.
      this._worker.postMessage({ op: 'coords', coords: coords.slice(), dims, version: this._version });
    }
    const id = this._next++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this._worker.postMessage({ op: 'select', id, version: this._version, query });
    });
  }

  /** Forget the coordinates (another dataset opened). */
  forget() {
    this._sent = null;
  }

  dispose() {
    this._worker.terminate();
    this._pending.clear();
  }
}
