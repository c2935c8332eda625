// Following a projection job while it runs: the server pushes the projection object on
// every change over Server-Sent Events (GET /api/projections/{pid}/events); polling
// GET /api/projections/{pid} is only the fallback for when that stream fails.

import * as api from '../api.js';

export const FINAL = new Set(['done', 'failed', 'cancelled']);
export const POLL_MS = 250;

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @typedef {'events' | 'poll'} Channel */

/**
 * Report every change of projection `p` to `onUpdate` until it reaches a final status.
 * Resolves with the last projection object seen (final, or the latest when `signal` aborts);
 * rejects only when polling fails too.
 * @param {import('../types').Projection} p
 * @param {(p: import('../types').Projection, channel: Channel) => void} onUpdate
 * @param {AbortSignal} signal
 * @returns {Promise<import('../types').Projection>}
 */
export function followJob(p, onUpdate, signal) {
  return new Promise((resolve, reject) => {
    let last = p;
    let ended = false;
    /** @type {EventSource | null} */
    let source = null;
    const end = (/** @type {unknown} */ error) => {
      if (ended) return;
      ended = true;
      source?.close();
      signal.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve(last);
    };
    const onAbort = () => end(null);
    /** @param {import('../types').Projection} next @param {Channel} channel */
    const update = (next, channel) => {
      if (ended || !next || next.id !== p.id) return;
      last = next;
      onUpdate(next, channel);
      if (FINAL.has(next.status)) end(null);
    };
    const poll = async () => {
      while (!ended) {
        await sleep(POLL_MS);
        if (ended) return;
        try {
          update(await api.getProjection(p.id, signal), 'poll');
        } catch (error) {
          end(signal.aborted ? null : error);
        }
      }
    };
    if (FINAL.has(p.status) || signal.aborted) return end(null);
    signal.addEventListener('abort', onAbort);
    if (typeof EventSource === 'undefined') return void poll();
    source = new EventSource(api.eventsUrl(p.id));
    source.onmessage = (event) => {
      let next;
      try {
        next = JSON.parse(event.data);
      } catch {
        return; // not a projection object (a comment or keep-alive): ignore
      }
      update(next, 'events');
    };
    // The stream ends after a final status, which closes it first; any error before that
    // (refused, dropped, a proxy that buffers) switches to polling for good.
    source.onerror = () => {
      if (ended) return;
      source?.close();
      source = null;
      poll();
    };
  });
}

/**
 * Fetches the latest frame of a running job without piling requests up: while one fetch is
 * in flight, later requests collapse into a single follow-up fetch.
 */
export class FrameLoader {
  /**
   * @param {string} pid
   * @param {AbortSignal} signal
   * @param {(frame: {coords: Float32Array, n: number, dims: number, iteration: number | null}) => Promise<void> | void} onFrame
   */
  constructor(pid, signal, onFrame) {
    this.pid = pid;
    this.signal = signal;
    this.onFrame = onFrame;
    /** @type {Promise<void> | null} */
    this._running = null;
    this._again = false;
  }

  /** Fetch the latest frame now (or right after the fetch in flight); resolves once it is shown. */
  request() {
    if (this._running) {
      this._again = true;
      return this._running;
    }
    this._running = (async () => {
      try {
        do {
          this._again = false;
          const frame = await api.getCoords(this.pid, this.signal);
          if (this.signal.aborted) return;
          await this.onFrame(frame);
        } while (this._again && !this.signal.aborted);
      } finally {
        this._running = null;
      }
    })();
    return this._running;
  }

  /** Resolves when no fetch is in flight. */
  async idle() {
    while (this._running) await this._running.catch(() => {});
  }
}
