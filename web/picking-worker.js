// Builds screen-space pick indices off the main thread (see picking.js).
import { buildScreenIndex } from './picking.js';

/** @type {Float32Array | null} */
let coords = null;
let dims = 2;

self.onmessage = (event) => {
  const msg = event.data;
  if (msg.op === 'coords') {
    coords = msg.coords;
    dims = msg.dims;
  } else if (msg.op === 'build' && coords) {
    const index = buildScreenIndex(coords, dims, msg.mvp, msg.width, msg.height, msg.version);
    self.postMessage(index, [index.cellStart.buffer, index.ids.buffer, index.sx.buffer, index.sy.buffer, index.depth.buffer]);
  }
};
