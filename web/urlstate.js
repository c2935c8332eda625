// The view in the URL, so a copied link reopens it:
//   ?dataset=ID&projection=PID&point=I&color=COL&label=COL&q=TEXT

/** @typedef {{dataset?: string, projection?: string, point?: number, color?: string, label?: string, q?: string}} UrlState */

/** @param {string} [search] @returns {UrlState} */
export function readUrl(search = window.location.search) {
  const p = new URLSearchParams(search);
  /** @type {UrlState} */
  const out = {};
  for (const key of /** @type {const} */ (['dataset', 'projection', 'color', 'label', 'q'])) {
    const v = p.get(key);
    if (v !== null && v !== '') out[key] = v;
  }
  const point = p.get('point');
  if (point !== null && /^\d+$/.test(point)) out.point = Number(point);
  return out;
}

/** @param {UrlState} state @returns {string} the query string, with '?' */
export function formatUrl(state) {
  const p = new URLSearchParams();
  if (state.dataset) p.set('dataset', state.dataset);
  if (state.projection) p.set('projection', state.projection);
  if (state.point !== undefined && state.point >= 0) p.set('point', String(state.point));
  if (state.color) p.set('color', state.color);
  if (state.label) p.set('label', state.label);
  if (state.q) p.set('q', state.q);
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** Replace the address bar without adding history entries. @param {UrlState} state */
export function writeUrl(state) {
  const next = `${window.location.pathname}${formatUrl(state)}`;
  if (next !== `${window.location.pathname}${window.location.search}`) history.replaceState(null, '', next);
}
