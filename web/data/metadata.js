// Main-thread handle on the metadata Worker: promise-based calls.

import { ApiError } from '../api.js';

export class Metadata {
  constructor() {
    this._worker = new Worker(new URL('./metadata-worker.js', import.meta.url), { type: 'module' });
    this._next = 1;
    /** @type {Map<number, {resolve: Function, reject: Function}>} */
    this._pending = new Map();
    /** @type {{n: number, columns: import('../types').ColumnInfo[]} | null} */
    this.info = null;
    this._worker.onmessage = (event) => {
      const { id, result, error } = event.data;
      const pending = this._pending.get(id);
      if (!pending) return;
      this._pending.delete(id);
      if (error) {
        pending.reject(error.code ? new ApiError(error.status, error.code, error.detail, '') : new Error(error.message));
      } else pending.resolve(result);
    };
    this._worker.onerror = (event) => {
      const err = new Error(`metadata worker failed: ${event.message}`);
      for (const p of this._pending.values()) p.reject(err);
      this._pending.clear();
    };
  }

  /** @param {string} op @param {any} args */
  _call(op, args) {
    const id = this._next++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject });
      this._worker.postMessage({ id, op, args });
    });
  }

  /** @param {string} datasetId @param {Record<string,string>|null} columnTypes */
  async load(datasetId, columnTypes) {
    this.info = null;
    this.info = await this._call('load', { datasetId, columnTypes });
    return this.info;
  }

  /** @param {string} column @param {number} [distinct] */
  colorBy(column, distinct) { return this._call('colorBy', { column, distinct }); }
  /** @param {string} column @param {string} text @param {number} [limit] */
  legendSearch(column, text, limit) { return this._call('legendSearch', { column, text, limit }); }
  /** @param {string} column @param {number} code @param {number} [fromRank] @returns {Promise<Uint32Array>} */
  categoryIndices(column, code, fromRank = -1) { return this._call('categoryIndices', { column, code, fromRank }); }
  /** @param {number[]} indices @returns {Promise<(Record<string,string>|null)[]>} */
  rows(indices) { return this._call('rows', { indices }); }
  /** @param {string} column @param {number[]} indices @returns {Promise<string[]>} */
  labels(column, indices) { return this._call('labels', { column, indices }); }

  dispose() {
    this._worker.terminate();
    for (const p of this._pending.values()) p.reject(new Error('metadata discarded'));
    this._pending.clear();
  }
}
