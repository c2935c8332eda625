// Region selection math (lasso and box), pure so it runs in the selection Worker and headless.
// The screen is cut into 8 px cells (the pick index's), each outside, inside, or on the outline
// (an edge passes through it): a point then costs one lookup, whether it is projected here (the
// Worker) or read from the pick index (points already grouped by cell, whole cells at a time).
// Only points in outline cells get the exact even-odd test, against the few edges crossing
// their pixel row.

/**
 * @typedef {object} RegionQuery
 * @property {Float32Array} mvp model-view-projection (column-major)
 * @property {number} width CSS px @property {number} height CSS px
 * @property {Float32Array | number[]} polygon x0, y0, x1, y1, ... in CSS px (closed implicitly)
 * @property {Uint8Array} [flags] per-point flags; points with `hiddenBit` set are never selected
 * @property {number} [hiddenBit]
 */

const OUT = 0, IN = 1, EDGE = 2;
/** Screen cell (px) of the Worker's classification: the pick index's size. */
const CELL = 8;

/** A rectangle as a polygon. @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1 */
export function boxPolygon(x0, y0, x1, y1) {
  return Float32Array.of(x0, y0, x1, y0, x1, y1, x0, y1);
}

/**
 * The outline clipped to the canvas (what lies outside it is not on screen), its edges grouped
 * by the pixel rows they span (for the exact test).
 * @param {Float32Array | number[]} polygon @param {number} width @param {number} height
 */
export function outline(polygon, width, height) {
  const poly = Float32Array.from(polygon, (v, i) => Math.min(i % 2 ? height : width, Math.max(0, v)));
  const m = Math.floor(poly.length / 2);
  const W = Math.max(1, Math.ceil(width)), H = Math.max(1, Math.ceil(height));
  const start = new Uint32Array(H + 1);
  /** @param {number} k @returns {[number, number]} */
  const span = (k) => {
    const ya = poly[2 * k + 1], yb = poly[2 * ((k + 1) % m) + 1];
    return [Math.floor(Math.min(ya, yb)), Math.min(H - 1, Math.floor(Math.max(ya, yb)))];
  };
  for (let k = 0; k < m; k++) {
    const [a, b] = span(k);
    for (let r = a; r <= b; r++) start[r + 1]++;
  }
  for (let r = 0; r < H; r++) start[r + 1] += start[r];
  const fill = start.slice(0, H);
  const edges = new Uint32Array(start[H]);
  for (let k = 0; k < m; k++) {
    const [a, b] = span(k);
    for (let r = a; r <= b; r++) edges[fill[r]++] = k;
  }
  return { poly, m, W, H, start, edges };
}

/** The exact even-odd test, against the edges crossing y's pixel row. @param {ReturnType<typeof outline>} ras @param {number} x @param {number} y */
function onOutline(ras, x, y) {
  const py = Math.floor(y);
  const { poly, start, edges, m } = ras;
  let odd = false;
  for (let e = start[py]; e < start[py + 1]; e++) {
    const k = 2 * edges[e], l = 2 * ((edges[e] + 1) % m);
    const ya = poly[k + 1], yb = poly[l + 1];
    if ((ya > y) !== (yb > y) && x < poly[k] + ((y - ya) * (poly[l] - poly[k])) / (yb - ya)) odd = !odd;
  }
  return odd;
}

/**
 * Rows of the points whose screen position falls inside the polygon, ascending. Points behind
 * the camera, outside the canvas or hidden are left out.
 * @param {Float32Array} coords n*dims @param {number} dims 2 or 3 @param {RegionQuery} q
 * @returns {Uint32Array}
 */
export function selectInPolygon(coords, dims, q) {
  const n = Math.floor(coords.length / dims);
  const ras = outline(q.polygon, q.width, q.height);
  if (ras.m < 3 || !n) return new Uint32Array(0);
  const { W, H } = ras;
  const cols = Math.ceil(W / CELL), rows = Math.ceil(H / CELL);
  const kinds = classifyCells(ras, CELL, cols, rows);
  const flags = q.flags && q.flags.length === n ? q.flags : null;
  const hidden = q.hiddenBit ?? 0;
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = q.mvp;
  const hw = q.width / 2, hh = q.height / 2;
  // Without perspective (every 2D view) w is the same for every point: no division per point.
  const affine = m3 === 0 && m7 === 0 && m11 === 0;
  if (affine && !(m15 > 0)) return new Uint32Array(0);
  const ax = hw / m15, ay = hh / m15;
  const out = new Uint32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const j = i * dims;
    const x = coords[j], y = coords[j + 1], z = dims > 2 ? coords[j + 2] : 0;
    let sx, sy;
    if (affine) {
      const cz = m2 * x + m6 * y + m10 * z + m14;
      if (cz < -m15 || cz > m15) continue;
      sx = (m0 * x + m4 * y + m8 * z + m12) * ax + hw;
      sy = hh - (m1 * x + m5 * y + m9 * z + m13) * ay;
    } else {
      const w = m3 * x + m7 * y + m11 * z + m15;
      if (!(w > 0)) continue;
      const cz = m2 * x + m6 * y + m10 * z + m14;
      if (cz < -w || cz > w) continue;
      sx = ((m0 * x + m4 * y + m8 * z + m12) / w + 1) * hw;
      sy = (1 - (m1 * x + m5 * y + m9 * z + m13) / w) * hh;
    }
    if (!(sx >= 0 && sx < W && sy >= 0 && sy < H) || (flags && flags[i] & hidden)) continue;
    const c = kinds[Math.floor(sy / CELL) * cols + Math.floor(sx / CELL)];
    if (c === IN || (c === EDGE && onOutline(ras, sx, sy))) out[count++] = i;
  }
  return out.slice(0, count);
}

/**
 * The same selection from a pick index (picking.js: every point on screen already projected
 * for this camera and grouped by screen cell), without projecting anything: the points of a
 * cell wholly outside are skipped, those of a cell wholly inside taken, and only the points of
 * cells the outline crosses get the exact test. No pixel mask: at 1M points on a 1280 × 800
 * canvas the work is the cells (~16,000), the outline and the points near it.
 * @param {import('../picking.js').ScreenIndex} index @param {number} n points in the layout
 * @param {RegionQuery} q its width and height must be the index's
 * @returns {Uint32Array}
 */
export function selectFromIndex(index, n, q) {
  const ras = outline(q.polygon, index.width, index.height);
  if (ras.m < 3 || !n) return new Uint32Array(0);
  const { cell, cols, rows, cellStart, ids, sx, sy } = index;
  const kinds = classifyCells(ras, cell, cols, rows);
  const flags = q.flags && q.flags.length === n ? q.flags : null;
  const hidden = q.hiddenBit ?? 0;
  const mark = new Uint8Array(n);
  let count = 0;
  for (let c = 0; c < cols * rows; c++) {
    const kind = kinds[c];
    if (kind === OUT) continue;
    for (let k = cellStart[c]; k < cellStart[c + 1]; k++) {
      if (kind === EDGE && !onOutline(ras, sx[k], sy[k])) continue;
      const id = ids[k];
      if (flags && flags[id] & hidden) continue;
      mark[id] = 1;
      count++;
    }
  }
  // Ascending rows: the index is grouped by screen cell, not by row.
  const out = new Uint32Array(count);
  for (let i = 0, k = 0; k < count; i++) if (mark[i]) out[k++] = i;
  return out;
}

/**
 * Each cell of a screen grid (`cell` px squares, row-major): EDGE when an edge of the outline
 * passes through it, else IN or OUT as its centre (no edge inside: every point of it alike).
 * Work in proportion to the cells and the outline's length, not to the pixels.
 * @param {ReturnType<typeof outline>} ras @param {number} cell @param {number} cols @param {number} rows
 */
export function classifyCells(ras, cell, cols, rows) {
  const { poly, m } = ras;
  const kinds = new Uint8Array(cols * rows);
  /** @type {number[]} */
  const xs = [];
  for (let r = 0; r < rows; r++) {
    const y = (r + 0.5) * cell;
    xs.length = 0;
    for (let k = 0; k < m; k++) {
      const l = (k + 1) % m;
      const ya = poly[2 * k + 1], yb = poly[2 * l + 1];
      if ((ya > y) !== (yb > y)) xs.push(poly[2 * k] + ((y - ya) * (poly[2 * l] - poly[2 * k])) / (yb - ya));
    }
    xs.sort((a, b) => a - b);
    for (let j = 0; j + 1 < xs.length; j += 2) {
      // Cells whose centre x lies in [xs[j], xs[j + 1]).
      const c0 = Math.max(0, Math.ceil(xs[j] / cell - 0.5)), c1 = Math.min(cols, Math.ceil(xs[j + 1] / cell - 0.5));
      if (c1 > c0) kinds.fill(IN, r * cols + c0, r * cols + c1);
    }
  }
  // Cells an edge passes through, widened by a hair so rounding never leaves one out.
  const eps = 1e-3;
  for (let k = 0; k < m; k++) {
    const l = (k + 1) % m;
    const xa = poly[2 * k], ya = poly[2 * k + 1], xb = poly[2 * l], yb = poly[2 * l + 1];
    const lo = Math.min(ya, yb), hi = Math.max(ya, yb);
    const r0 = Math.max(0, Math.floor((lo - eps) / cell)), r1 = Math.min(rows - 1, Math.floor((hi + eps) / cell));
    for (let r = r0; r <= r1; r++) {
      let x0 = Math.min(xa, xb), x1 = Math.max(xa, xb);
      if (ya !== yb) {
        const u = xa + ((Math.max(lo, r * cell) - ya) * (xb - xa)) / (yb - ya), v = xa + ((Math.min(hi, (r + 1) * cell) - ya) * (xb - xa)) / (yb - ya);
        x0 = Math.min(u, v);
        x1 = Math.max(u, v);
      }
      const c0 = Math.max(0, Math.floor((x0 - eps) / cell)), c1 = Math.min(cols - 1, Math.floor((x1 + eps) / cell));
      if (c1 >= c0) kinds.fill(EDGE, r * cols + c0, r * cols + c1 + 1);
    }
  }
  return kinds;
}

/**
 * A selection changed by a new region: replaced by it, or (ascending row lists) with its rows
 * added or removed.
 * @param {Uint32Array} current ascending @param {Uint32Array} found ascending
 * @param {'replace' | 'add' | 'remove'} mode
 * @returns {Uint32Array}
 */
export function combine(current, found, mode) {
  if (mode === 'replace') return found;
  const out = new Uint32Array(mode === 'add' ? current.length + found.length : current.length);
  let a = 0, b = 0, k = 0;
  while (a < current.length) {
    const x = current[a];
    while (b < found.length && found[b] < x) {
      if (mode === 'add') out[k++] = found[b];
      b++;
    }
    const inFound = b < found.length && found[b] === x;
    if (mode === 'add' || !inFound) out[k++] = x;
    if (inFound) b++;
    a++;
  }
  if (mode === 'add') while (b < found.length) out[k++] = found[b++];
  return out.slice(0, k);
}
