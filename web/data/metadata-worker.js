// Module Worker that owns a dataset's metadata. It fetches and parses the
// JSON off the main thread, stores each column in typed arrays (categorical:
// dictionary codes; numeric: Float64Array) and answers small queries, so a
// million rows never freeze the page.

import { getMetadata } from '../api.js';
import { categoricalPalette, numericRamp, OTHER_RGB, MAX_DISTINCT } from '../colors.js';

const NOISE_RGB = [168, 168, 176];

/**
 * @typedef {{name: string, kind: 'categorical', codes: Uint32Array, dict: string[], counts: Uint32Array, order: Uint32Array, rank: Uint32Array}} CatColumn
 * @typedef {{name: string, kind: 'numeric', values: Float64Array, min: number, max: number, missing: number}} NumColumn
 * @typedef {CatColumn | NumColumn} Column
 */

/** @type {Column[]} */
let columns = [];
let n = 0;
const NUMERIC_MIN_DISTINCT = 13;

/**
 * @param {string[]} names @param {string[][]} rows @param {Record<string,string>|null} types
 */
function columnarize(names, rows, types) {
  n = rows.length;
  columns = names.map((name, c) => {
    const declared = types?.[name];
    // A "numeric" column of a few integers (class ids such as the digits'
    // labels) reads better as categories, so it is coloured as such.
    if (declared !== 'categorical' && looksNumeric(rows, c, declared === 'numeric' && !fewIntegers(rows, c))) {
      return numericColumn(name, rows, c);
    }
    return categoricalColumn(name, rows, c);
  });
}

/** @param {string[][]} rows @param {number} c @param {boolean} declared */
function looksNumeric(rows, c, declared) {
  const seen = new Set();
  let numbers = 0;
  for (let i = 0; i < rows.length; i++) {
    const s = rows[i][c];
    if (s === '' || s === undefined || s === null) continue;
    const v = Number(s);
    if (!Number.isFinite(v)) return false;
    numbers++;
    if (seen.size < NUMERIC_MIN_DISTINCT) seen.add(v);
  }
  return numbers > 0 && (declared || seen.size >= NUMERIC_MIN_DISTINCT);
}

/** True when a column holds at most NUMERIC_MIN_DISTINCT - 1 distinct integers. */
function fewIntegers(rows, c) {
  const seen = new Set();
  for (let i = 0; i < rows.length; i++) {
    const s = rows[i][c];
    if (s === '' || s === undefined || s === null) continue;
    const v = Number(s);
    if (!Number.isInteger(v)) return false;
    seen.add(v);
    if (seen.size >= NUMERIC_MIN_DISTINCT) return false;
  }
  return true;
}

/** @returns {NumColumn} */
function numericColumn(name, rows, c) {
  const values = new Float64Array(rows.length);
  let min = Infinity, max = -Infinity, missing = 0;
  for (let i = 0; i < rows.length; i++) {
    const s = rows[i][c];
    const v = s === '' || s === undefined || s === null ? NaN : Number(s);
    values[i] = v;
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    } else missing++;
  }
  return { name, kind: 'numeric', values, min, max, missing };
}

/** @returns {CatColumn} */
function categoricalColumn(name, rows, c) {
  const codes = new Uint32Array(rows.length);
  /** @type {Map<string, number>} */
  const lookup = new Map();
  /** @type {string[]} */
  const dict = [];
  /** @type {number[]} */
  const counts = [];
  for (let i = 0; i < rows.length; i++) {
    const s = String(rows[i][c] ?? '');
    let code = lookup.get(s);
    if (code === undefined) {
      code = dict.length;
      lookup.set(s, code);
      dict.push(s);
      counts.push(0);
    }
    counts[code]++;
    codes[i] = code;
  }
  // order: codes by decreasing count (ties: natural string order); rank: inverse.
  const collator = new Intl.Collator(undefined, { numeric: true });
  const order = Uint32Array.from(dict.keys()).sort((a, b) => counts[b] - counts[a] || collator.compare(dict[a], dict[b]));
  const rank = new Uint32Array(dict.length);
  for (let r = 0; r < order.length; r++) rank[order[r]] = r;
  return { name, kind: 'categorical', codes, dict, counts: Uint32Array.from(counts), order, rank };
}

/** @param {string} name */
function column(name) {
  const col = columns.find((c) => c.name === name);
  if (!col) throw new Error(`no metadata column "${name}"`);
  return col;
}

/** @param {Column} col @param {number} i */
function cell(col, i) {
  if (col.kind === 'categorical') return col.dict[col.codes[i]];
  const v = col.values[i];
  return Number.isNaN(v) ? '' : String(v);
}

function describe() {
  return columns.map((c) =>
    c.kind === 'categorical'
      ? { name: c.name, kind: c.kind, cardinality: c.dict.length }
      : { name: c.name, kind: c.kind, min: c.min, max: c.max, missing: c.missing },
  );
}

/**
 * Per-point RGBA colours plus the legend that explains them.
 * @param {string} name @param {number} distinct how many top categories get a colour
 */
function colorBy(name, distinct = MAX_DISTINCT) {
  const col = column(name);
  const rgba = new Uint8Array(n * 4);
  if (col.kind === 'numeric') {
    const ramp = numericRamp();
    const span = col.max - col.min || 1;
    for (let i = 0; i < n; i++) {
      const v = col.values[i];
      const o = i * 4;
      if (Number.isFinite(v)) {
        const k = Math.round(((v - col.min) / span) * 255) * 3;
        rgba[o] = ramp[k]; rgba[o + 1] = ramp[k + 1]; rgba[o + 2] = ramp[k + 2];
      } else {
        rgba[o] = OTHER_RGB[0]; rgba[o + 1] = OTHER_RGB[1]; rgba[o + 2] = OTHER_RGB[2];
      }
      rgba[o + 3] = 255;
    }
    return { rgba, legend: { kind: 'numeric', column: name, min: col.min, max: col.max, missing: col.missing, ramp } };
  }
  const k = Math.min(distinct, col.dict.length);
  // When only one category would be left over, colour it too rather than call it "other".
  const coloured = col.dict.length === k + 1 ? k + 1 : k;
  const palette = categoricalPalette(coloured);
  // A clusters column's noise (-1, often the largest group) is grey, not the most vivid colour.
  const noise = name.startsWith('cluster_') ? col.dict.indexOf('-1') : -1;
  if (noise >= 0 && col.rank[noise] < coloured) palette.set(NOISE_RGB, col.rank[noise] * 3);
  for (let i = 0; i < n; i++) {
    const r = col.rank[col.codes[i]];
    const o = i * 4;
    if (r < coloured) {
      rgba[o] = palette[r * 3]; rgba[o + 1] = palette[r * 3 + 1]; rgba[o + 2] = palette[r * 3 + 2];
    } else {
      rgba[o] = OTHER_RGB[0]; rgba[o + 1] = OTHER_RGB[1]; rgba[o + 2] = OTHER_RGB[2];
    }
    rgba[o + 3] = 255;
  }
  let otherPoints = 0;
  for (let r = coloured; r < col.order.length; r++) otherPoints += col.counts[col.order[r]];
  const entries = [];
  for (let r = 0; r < coloured; r++) {
    const code = col.order[r];
    entries.push({ code, label: col.dict[code], count: col.counts[code], rgb: [palette[r * 3], palette[r * 3 + 1], palette[r * 3 + 2]] });
  }
  return {
    rgba,
    legend: {
      kind: 'categorical', column: name, entries, cardinality: col.dict.length,
      other: { categories: col.dict.length - coloured, points: otherPoints, rgb: OTHER_RGB },
    },
  };
}

/**
 * Legend entries whose label matches a plain, case-insensitive substring,
 * across all categories (including the "other" tail).
 * @param {string} name @param {string} text @param {number} limit
 */
function legendSearch(name, text, limit = 200) {
  const col = column(name);
  if (col.kind !== 'categorical') return { entries: [], total: 0 };
  const needle = text.toLowerCase();
  const entries = [];
  let total = 0;
  for (let r = 0; r < col.order.length; r++) {
    const code = col.order[r];
    if (!col.dict[code].toLowerCase().includes(needle)) continue;
    total++;
    if (entries.length < limit) entries.push({ code, rank: r, label: col.dict[code], count: col.counts[code] });
  }
  return { entries, total };
}

/** Row indices of one category (by code) or of the "other" tail (code = -1 with `fromRank`). */
function categoryIndices(name, code, fromRank = -1) {
  const col = column(name);
  if (col.kind !== 'categorical') return new Uint32Array(0);
  const out = [];
  for (let i = 0; i < n; i++) {
    const c = col.codes[i];
    if (fromRank >= 0 ? col.rank[c] >= fromRank : c === code) out.push(i);
  }
  return Uint32Array.from(out);
}

/** Metadata rows for the given indices, as {column: value} objects. */
function rows(indices) {
  return indices.map((i) => (i >= 0 && i < n ? Object.fromEntries(columns.map((c) => [c.name, cell(c, i)])) : null));
}

/** One column's values for the given indices. */
function labels(name, indices) {
  const col = column(name);
  return indices.map((i) => (i >= 0 && i < n ? cell(col, i) : ''));
}

const ops = {
  async load({ datasetId, columnTypes }) {
    const t0 = performance.now();
    const meta = await getMetadata(datasetId);
    const t1 = performance.now();
    columnarize(meta.columns, meta.rows, columnTypes ?? null);
    return { n, columns: describe(), fetchMs: t1 - t0, parseMs: performance.now() - t1 };
  },
  colorBy: ({ column: name, distinct }) => colorBy(name, distinct),
  legendSearch: ({ column: name, text, limit }) => legendSearch(name, text, limit),
  categoryIndices: ({ column: name, code, fromRank }) => categoryIndices(name, code, fromRank),
  rows: ({ indices }) => rows(indices),
  labels: ({ column: name, indices }) => labels(name, indices),
};

self.onmessage = async (event) => {
  const { id, op, args } = event.data;
  try {
    const result = await ops[op](args);
    const transfer = [];
    if (result?.rgba) transfer.push(result.rgba.buffer);
    if (result instanceof Uint32Array) transfer.push(result.buffer);
    self.postMessage({ id, result }, transfer);
  } catch (err) {
    const e = /** @type {any} */ (err);
    self.postMessage({ id, error: { name: e?.name, message: String(e?.message ?? e), status: e?.status, code: e?.code, detail: e?.detail } });
  }
};
