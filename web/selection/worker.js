// Selection Worker: keeps a copy of the coordinates on screen and answers lasso and box
// queries (region.js) off the main thread; the rows come back as a transferred Uint32Array.
import { selectInPolygon } from './region.js';

/** @type {Float32Array | null} */
let coords = null;
let dims = 2;
let version = -1;

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.op === 'coords') {
    coords = msg.coords;
    dims = msg.dims;
    version = msg.version;
    return;
  }
  if (msg.op !== 'select') return;
  if (!coords || msg.version !== version) {
    self.postMessage({ id: msg.id, error: 'the coordinates changed; draw the selection again' });
    return;
  }
  const t0 = performance.now();
  const rows = selectInPolygon(coords, dims, msg.query);
  self.postMessage({ id: msg.id, rows, ms: performance.now() - t0 }, [rows.buffer]);
};
