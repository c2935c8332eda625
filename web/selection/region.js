// Region selection math (lasso and box), pure so it runs in the selection Worker and headless:
// project every point with the camera's matrix and keep those inside a screen-space polygon
// (even-odd rule). Polygon edges are bucketed by pixel row first, so each point is tested
// against the few edges crossing its row, not against the whole outline.

/**
 * @typedef {object} RegionQuery
 * @property {Float32Array} mvp model-view-projection (column-major)
 * @property {number} width CSS px @property {number} height CSS px
 * @property {Float32Array | number[]} polygon x0, y0, x1, y1, ... in CSS px (closed implicitly)
 * @property {Uint8Array} [flags] per-point flags; points with `hiddenBit` set are never selected
 * @property {number} [hiddenBit]
 */

/** A rectangle as a polygon. @param {number} x0 @param {number} y0 @param {number} x1 @param {number} y1 */
export function boxPolygon(x0, y0, x1, y1) {
  return Float32Array.of(x0, y0, x1, y0, x1, y1, x0, y1);
}

/**
 * The polygon's edges grouped by the pixel rows they span, for crossing tests.
 * @param {Float32Array | number[]} poly @param {number} height
 */
function edgeRows(poly, height) {
  const m = Math.floor(poly.length / 2);
  let minY = Infinity, maxY = -Infinity;
  for (let k = 0; k < m; k++) {
    minY = Math.min(minY, poly[2 * k + 1]);
    maxY = Math.max(maxY, poly[2 * k + 1]);
  }
  const row0 = Math.max(0, Math.floor(minY));
  const rows = Math.max(0, Math.min(height, Math.floor(maxY) + 1) - row0);
  const start = new Uint32Array(rows + 1);
  /** @param {number} k @returns {[number, number]} rows spanned by edge k, clipped */
  const span = (k) => {
    const ya = poly[2 * k + 1], yb = poly[2 * ((k + 1) % m) + 1];
    return [Math.max(0, Math.floor(Math.min(ya, yb)) - row0), Math.min(rows - 1, Math.floor(Math.max(ya, yb)) - row0)];
  };
  for (let k = 0; k < m; k++) {
    const [a, b] = span(k);
    for (let r = a; r <= b; r++) start[r + 1]++;
  }
  for (let r = 0; r < rows; r++) start[r + 1] += start[r];
  const fill = start.slice(0, rows);
  const edges = new Uint32Array(start[rows]);
  for (let k = 0; k < m; k++) {
    const [a, b] = span(k);
    for (let r = a; r <= b; r++) edges[fill[r]++] = k;
  }
  return { row0, rows, start, edges, m };
}

/**
 * Rows of the points whose screen position falls inside the polygon, ascending. Points behind
 * the camera, outside the canvas or hidden are left out.
 * @param {Float32Array} coords n*dims @param {number} dims 2 or 3 @param {RegionQuery} q
 * @returns {Uint32Array}
 */
export function selectInPolygon(coords, dims, q) {
  const { width, height } = q;
  // The canvas clips the outline: what lies outside it is not on screen.
  const poly = Float32Array.from(q.polygon, (v, i) => Math.min(i % 2 ? height : width, Math.max(0, v)));
  const m = Math.floor(poly.length / 2);
  const n = Math.floor(coords.length / dims);
  if (m < 3 || !n) return new Uint32Array(0);
  let minX = Infinity, maxX = -Infinity;
  for (let k = 0; k < m; k++) {
    minX = Math.min(minX, poly[2 * k]);
    maxX = Math.max(maxX, poly[2 * k]);
  }
  const { row0, rows, start, edges } = edgeRows(poly, height);
  const flags = q.flags && q.flags.length === n ? q.flags : null;
  const hidden = q.hiddenBit ?? 0;
  const [m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15] = q.mvp;
  const hw = width / 2, hh = height / 2;
  const out = new Uint32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const j = i * dims;
    const x = coords[j], y = coords[j + 1], z = dims > 2 ? coords[j + 2] : 0;
    const w = m3 * x + m7 * y + m11 * z + m15;
    if (!(w > 0)) continue;
    const cz = m2 * x + m6 * y + m10 * z + m14;
    if (cz < -w || cz > w) continue;
    const sx = ((m0 * x + m4 * y + m8 * z + m12) / w + 1) * hw;
    if (!(sx >= minX && sx <= maxX)) continue;
    const sy = (1 - (m1 * x + m5 * y + m9 * z + m13) / w) * hh;
    const r = Math.floor(sy) - row0;
    if (!(r >= 0 && r < rows)) continue;
    if (flags && flags[i] & hidden) continue;
    let inside = false;
    for (let e = start[r]; e < start[r + 1]; e++) {
      const k = 2 * edges[e], l = 2 * ((edges[e] + 1) % m);
      const ya = poly[k + 1], yb = poly[l + 1];
      if ((ya > sy) !== (yb > sy) && sx < poly[k] + ((sy - ya) * (poly[l] - poly[k])) / (yb - ya)) inside = !inside;
    }
    if (inside) out[count++] = i;
  }
  return out.slice(0, count);
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
