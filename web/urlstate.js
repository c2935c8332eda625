// The view in the URL, so a copied link reopens it as it was:
//   ?dataset=ID&projection=PID&point=I&color=COL&label=COL   (color= / label= empty: none)
//    &q=TEXT&regex=1&column=COL          the search, as typed, with its flag and column
//    &k=10&metric=cosine                 the neighbour list
//    &thumbs=1&cam=3d:yaw,pitch,distance,tx,ty,tz | 2d:zoom,tx,ty
//    &selection=NAME                     a saved lasso / box selection
// Pure parsing and formatting, plus writeUrl (the one DOM call).

import { homeCamera } from './camera.js';

/**
 * @typedef {{
 *   dataset?: string, projection?: string, point?: number, color?: string, label?: string,
 *   q?: string, regex?: boolean, column?: string, k?: number, metric?: string,
 *   thumbs?: boolean, cam?: import('./types').CameraState, selection?: string,
 * }} UrlState
 */

const TEXT_KEYS = /** @type {const} */ (['dataset', 'projection', 'color', 'label', 'q', 'column', 'metric', 'selection']);
const METRICS = new Set(['cosine', 'euclidean']);

/** Camera as short text; numbers rounded so links stay readable. @param {import('./types').CameraState} cam */
export function formatCamera(cam) {
  const r = (/** @type {number} */ x) => String(Number(x.toFixed(4)));
  if (cam.dims === 3) return `3d:${[cam.yaw, cam.pitch, cam.distance, ...cam.target.slice(0, 3)].map(r).join(',')}`;
  return `2d:${[cam.zoom, cam.target[0], cam.target[1]].map(r).join(',')}`;
}

/** @param {string} text @returns {import('./types').CameraState | undefined} */
export function parseCamera(text) {
  const m = /^([23])d:(.*)$/.exec(text);
  if (!m) return undefined;
  const v = m[2].split(',').map(Number);
  if (!v.every(Number.isFinite)) return undefined;
  if (m[1] === '3' && v.length === 6 && v[2] > 0) {
    return { ...homeCamera(3), yaw: v[0], pitch: v[1], distance: v[2], target: v.slice(3, 6) };
  }
  if (m[1] === '2' && v.length === 3 && v[0] > 0) {
    return { ...homeCamera(2), zoom: v[0], target: [v[1], v[2], 0] };
  }
  return undefined;
}

/** @param {string} [search] @returns {UrlState} */
export function readUrl(search = window.location.search) {
  const p = new URLSearchParams(search);
  /** @type {UrlState} */
  const out = {};
  for (const key of TEXT_KEYS) {
    const v = p.get(key);
    if (v !== null && v !== '') out[key] = v;
  }
  // An empty colour or label is a choice: none (absent means "the default").
  if (p.get('color') === '') out.color = '';
  if (p.get('label') === '') out.label = '';
  if (out.metric && !METRICS.has(out.metric)) delete out.metric;
  const point = p.get('point');
  if (point !== null && /^\d+$/.test(point)) out.point = Number(point);
  const k = p.get('k');
  if (k !== null && /^\d+$/.test(k) && Number(k) >= 1) out.k = Number(k);
  if (p.get('regex') === '1') out.regex = true;
  if (p.get('thumbs') === '1') out.thumbs = true;
  const cam = parseCamera(p.get('cam') ?? '');
  if (cam) out.cam = cam;
  return out;
}

/** @param {UrlState} state @returns {string} the query string, with '?' */
export function formatUrl(state) {
  const p = new URLSearchParams();
  if (state.dataset) p.set('dataset', state.dataset);
  if (state.projection) p.set('projection', state.projection);
  if (state.point !== undefined && state.point >= 0) p.set('point', String(state.point));
  if (state.color !== undefined) p.set('color', state.color);
  if (state.label !== undefined) p.set('label', state.label);
  if (state.q) {
    p.set('q', state.q);
    if (state.regex) p.set('regex', '1');
    if (state.column) p.set('column', state.column);
  }
  if (state.k !== undefined) p.set('k', String(state.k));
  if (state.metric) p.set('metric', state.metric);
  if (state.thumbs) p.set('thumbs', '1');
  if (state.cam) p.set('cam', formatCamera(state.cam));
  if (state.selection) p.set('selection', state.selection);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Replace the address bar without adding history entries. @param {UrlState} state */
export function writeUrl(state) {
  const next = `${window.location.pathname}${formatUrl(state)}`;
  if (next !== `${window.location.pathname}${window.location.search}`) history.replaceState(null, '', next);
}
