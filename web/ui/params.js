// Parameter fields of a projection method, built from what GET /api/methods says (type,
// default, range, doc), with defaults the open dataset allows: t-SNE's perplexity and UMAP's
// n_neighbors are bounded by the number of points, a limit /api/methods cannot state.
import { h, setOptions } from './dom.js';

/** Upper bounds the server derives from the number of points n (it answers 422 past them). */
const DATA_BOUNDS = /** @type {Record<string, (n: number) => number>} */ ({
  perplexity: (n) => Math.floor((n - 2) / 3), // t-SNE: 3 * perplexity < n - 1
  n_neighbors: (n) => n - 1, // UMAP: n_neighbors < n
});

/**
 * Highest value parameter `name` may take for n points: the server's maximum, tightened by
 * the data bound; undefined when neither exists.
 * @param {string} name @param {any} spec @param {number} n
 * @returns {number | undefined}
 */
export function maxFor(name, spec, n) {
  const bound = DATA_BOUNDS[name] && n > 0 ? DATA_BOUNDS[name](n) : undefined;
  if (bound === undefined) return spec.maximum;
  return spec.maximum === undefined ? bound : Math.min(spec.maximum, bound);
}

/**
 * The value to offer for n points: the server's default, lowered to what the data allows.
 * @param {string} name @param {any} spec @param {number} n
 */
export function defaultFor(name, spec, n) {
  const hi = maxFor(name, spec, n);
  if (typeof spec.default !== 'number' || hi === undefined || spec.default <= hi) return spec.default;
  return spec.minimum !== undefined ? Math.max(spec.minimum, hi) : hi;
}

/**
 * Parameters of a method that cannot take any value for n points (the data bound is below the
 * minimum), e.g. t-SNE on 7 points.
 * @param {Record<string, any>} specs @param {number} n @returns {string[]}
 */
export function impossible(specs, n) {
  return Object.entries(specs).filter(([name, spec]) => {
    const hi = maxFor(name, spec, n);
    return hi !== undefined && spec.minimum !== undefined && hi < spec.minimum;
  }).map(([name]) => name);
}

/** Parameters the page sets itself, never shown as fields. @param {any} spec */
export const hidden = (spec) => spec.type === 'projection_id';

/** @param {string} name @param {any} spec @param {number} n */
export function paramField(name, spec, n) {
  const id = `param-${name}`;
  const value = defaultFor(name, spec, n);
  let input;
  if (spec.type === 'choice') {
    input = h('select', { id, 'data-name': name });
    setOptions(/** @type {HTMLSelectElement} */ (input), (spec.choices ?? []).map((c) => ({ value: c, label: c })), String(value));
  } else if (spec.type === 'text' || spec.type === 'regex') {
    input = h('input', { id, 'data-name': name, type: 'text', value: String(value ?? ''), autocomplete: 'off', spellcheck: false });
  } else if (spec.type === 'float_or_auto') {
    input = h('input', { id, 'data-name': name, type: 'text', value: String(value ?? 'auto'), inputmode: 'decimal' });
  } else {
    // A default of 0 that means "the method chooses" (UMAP's n_epochs) reads as "auto", not as 0.
    const auto = value === 0 && /^0 (lets|means)/.test(spec.doc ?? '');
    input = h('input', {
      id, 'data-name': name, type: 'number', value: auto ? '' : value ?? '', placeholder: auto ? 'auto' : '',
      min: spec.minimum, max: maxFor(name, spec, n), step: spec.type === 'int' ? 1 : 'any',
    });
  }
  const label = name.replace(/_/g, ' ');
  return h('label', { class: 'row', for: id, title: spec.doc ?? '' }, label, input);
}

/**
 * The request's parameters from the fields under `root`: every value that differs from the
 * server's default (a default lowered for the data is sent).
 * @param {HTMLElement} root @param {Record<string, any>} specs
 * @returns {Record<string, any>}
 */
export function readParams(root, specs) {
  /** @type {Record<string, any>} */
  const params = {};
  for (const input of root.querySelectorAll('[data-name]')) {
    const el = /** @type {HTMLInputElement} */ (input);
    const name = el.dataset.name ?? '';
    const spec = specs[name] ?? {};
    const raw = el.value.trim();
    if (raw === '' || raw === String(spec.default)) continue;
    if (spec.type === 'choice' || spec.type === 'text' || spec.type === 'regex' || (spec.type === 'float_or_auto' && raw === 'auto')) params[name] = raw;
    else if (spec.type === 'int') params[name] = Math.round(Number(raw));
    else params[name] = Number(raw);
  }
  return params;
}

/**
 * Short text of a projection for lists: method title, dims, the parameters that differ from
 * the defaults, and status.
 * @param {import('../types').Projection} p @param {Record<string, any>} methods
 */
export function describeProjection(p, methods) {
  const method = methods[p.method];
  const specs = method?.params ?? {};
  const params = Object.entries(p.params ?? {})
    .filter(([k, v]) => v !== null && v !== undefined && k in specs && !hidden(specs[k]) && JSON.stringify(v) !== JSON.stringify(specs[k].default))
    .slice(0, 3)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : v}`)
    .join(' ');
  return `${method?.title ?? p.method} ${p.dims}D${params ? ` (${params})` : ''} · ${p.status}`;
}
