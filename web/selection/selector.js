// Main-thread handle on the selection Worker. The Worker receives the coordinates once per
// layout (a copy, on the first selection drawn on it), then each query is a small message:
// the camera matrix, the outline and, when some points are hidden, their flags.

/**
 * @typedef {object} SelectResult
 * @property {Uint32Array} rows ascending
 * @property {number} workerMs time spent selecting in the Worker
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
      else pending.resolve({ rows, workerMs: ms });
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
   * @returns {Promise<SelectResult>}
   */
  select(coords, dims, query) {
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
