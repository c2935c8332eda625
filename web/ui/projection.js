// Projection panel: method, 2D/3D, parameters, Run / Stop, progress,
// projection quality, and the list of this dataset's existing projections.
import { h, setOptions, fmtNum } from './dom.js';

/** Used when the server has no GET /api/methods. */
const FALLBACK_METHODS = {
  pca: { title: 'PCA', available: true, params: { components: { type: 'int_list', default: null } } },
  tsne: {
    title: 't-SNE', available: true,
    params: {
      perplexity: { type: 'float', default: 30, minimum: 2, maximum: 500 },
      learning_rate: { type: 'float_or_auto', default: 'auto', minimum: 0.001 },
      n_iter: { type: 'int', default: 750, minimum: 50, maximum: 10000 },
    },
  },
  umap: {
    title: 'UMAP', available: true,
    params: {
      n_neighbors: { type: 'int', default: 15, minimum: 2, maximum: 200 },
      min_dist: { type: 'float', default: 0.1, minimum: 0, maximum: 1 },
    },
  },
};
/** Parameters shown up front; the others go under "More parameters". */
const MAIN_PARAMS = new Set(['perplexity', 'learning_rate', 'n_iter', 'n_neighbors', 'min_dist']);
const AXES = ['X', 'Y', 'Z'];

export class ProjectionPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.bus = bus;
    /** @type {Record<string, any>} */
    this.methods = FALLBACK_METHODS;
    this.dataset = null;
    /** @type {import('../types').Projection | null} */
    this.current = null;
    /** Explained variance of the first components, once a PCA of this dataset is known. @type {number[] | null} */
    this.variance = null;

    this.method = /** @type {HTMLSelectElement} */ (h('select', { id: 'method', onchange: () => this._renderParams() }));
    this.dims3 = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: 'dims', value: '3', id: 'dims-3', checked: true, onchange: () => this._renderParams() }));
    this.dims2 = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: 'dims', value: '2', id: 'dims-2', onchange: () => this._renderParams() }));
    this.params = h('div', { class: 'params' });
    this.runButton = /** @type {HTMLButtonElement} */ (h('button', { id: 'run', class: 'primary', onclick: () => this._run() }, 'Run'));
    this.stopButton = /** @type {HTMLButtonElement} */ (h('button', { id: 'stop', disabled: true, onclick: () => bus.emit('projection:stop') }, 'Stop'));
    this.progress = /** @type {HTMLProgressElement} */ (h('progress', { id: 'progress', max: 1, value: 0 }));
    this.progressText = h('div', { class: 'muted small', id: 'progress-text' });
    this.quality = h('div', { class: 'quality', id: 'quality' });
    this.existing = /** @type {HTMLSelectElement} */ (h('select', { id: 'projections', onchange: () => this.existing.value && bus.emit('projection:select', { id: this.existing.value }) }));

    root.append(
      h('h2', null, 'Projection'),
      h('div', { class: 'row' }, h('label', { for: 'method' }, 'Method'), this.method),
      h('div', { class: 'row seg', role: 'radiogroup', 'aria-label': 'Dimensions' },
        h('label', null, this.dims2, ' 2D'), h('label', null, this.dims3, ' 3D')),
      this.params,
      h('div', { class: 'row buttons' }, this.runButton, this.stopButton),
      this.progress,
      this.progressText,
      this.quality,
      h('div', { class: 'row' }, h('label', { for: 'projections' }, 'Computed'), this.existing),
    );
    this._setMethodOptions();
    this._renderParams();

    bus.on('projection:update', ({ projection }) => this.setCurrent(projection));
  }

  /** @param {Record<string, any> | null} methods from GET /api/methods */
  setMethods(methods) {
    if (methods && typeof methods === 'object' && Object.keys(methods).length) this.methods = methods;
    this._setMethodOptions();
    this._renderParams();
  }

  _setMethodOptions() {
    const value = this.method.value || 'pca';
    setOptions(
      this.method,
      Object.entries(this.methods).map(([name, m]) => ({
        value: name,
        label: `${m.title ?? name}${m.available === false ? ' (unavailable)' : ''}`,
      })),
      value,
    );
  }

  /** @param {import('../types').Dataset} dataset */
  setDataset(dataset) {
    this.dataset = dataset;
    this.variance = null;
    this.current = null;
    this.setCurrent(null);
    this._renderParams();
  }

  /** @param {import('../types').Projection[]} list @param {string} [currentId] */
  setProjections(list, currentId) {
    const pca = list.find((p) => p.method === 'pca' && p.explained_variance_ratio_all);
    if (pca && !this.variance) {
      this.variance = pca.explained_variance_ratio_all ?? null;
      this._renderParams();
    }
    const options = [{ value: '', label: list.length ? `${list.length} projection${list.length > 1 ? 's' : ''}…` : 'none yet' }];
    for (const p of list) options.push({ value: p.id, label: describeProjection(p) });
    setOptions(this.existing, options, currentId ?? '');
  }

  /** @param {import('../types').Projection | null} p */
  setCurrent(p) {
    this.current = p;
    const running = !!p && (p.status === 'running' || p.status === 'queued');
    this.stopButton.disabled = !running;
    this.progress.value = p ? (p.status === 'done' ? 1 : p.progress ?? 0) : 0;
    this.progress.classList.toggle('active', running);
    if (!p) {
      this._shownId = null;
      this.progressText.textContent = '';
      this.quality.replaceChildren();
      return;
    }
    if (p.id !== this._shownId) {
      // Show the form of the projection on screen, so Run with a tweak starts from it.
      this._shownId = p.id;
      if (this.methods[p.method]) this.method.value = p.method;
      this.dims2.checked = p.dims === 2;
      this.dims3.checked = p.dims !== 2;
      this._renderParams();
      for (const input of this.params.querySelectorAll('[data-name]')) {
        const el = /** @type {HTMLInputElement} */ (input);
        const v = p.params?.[el.dataset.name ?? ''];
        if (v !== undefined && v !== null) el.value = String(v);
      }
    }
    if (p.explained_variance_ratio_all && (!this.variance || p.method === 'pca')) {
      const changed = !this.variance;
      this.variance = p.explained_variance_ratio_all;
      if (changed) this._renderParams();
    }
    const bits = [`${methodTitle(this.methods, p.method)} ${p.dims}D`, p.status];
    if (p.iteration) bits.push(`iteration ${p.iteration}`);
    if (running) bits.push(`${Math.round((p.progress ?? 0) * 100)}%`);
    if (p.status === 'failed' && p.error) bits.push(String(p.error));
    this.progressText.textContent = bits.join(' · ');
    this.quality.replaceChildren(...qualityNodes(p));
    if (this.existing.querySelector(`option[value="${CSS.escape(p.id)}"]`)) this.existing.value = p.id;
  }

  _dims() {
    return this.dims2.checked ? 2 : 3;
  }

  _renderParams() {
    const name = this.method.value;
    const method = this.methods[name];
    this.params.replaceChildren();
    if (!method) return;
    const dims = this._dims();
    const entries = Object.entries(method.params ?? {});
    const extra = h('div', { class: 'params-extra' });
    for (const [pname, spec] of entries) {
      if (name === 'pca' && pname === 'components') {
        this.params.append(this._componentPickers(dims));
        continue;
      }
      const field = paramField(pname, spec);
      (MAIN_PARAMS.has(pname) ? this.params : extra).append(field);
    }
    if (extra.children.length) this.params.append(h('details', null, h('summary', null, 'More parameters'), extra));
    if (method.available === false) this.params.append(h('p', { class: 'muted small' }, 'The server says this method is not available yet.'));
  }

  /** PCA: which principal component goes on each axis, with explained variance. @param {number} dims */
  _componentPickers(dims) {
    const max = this.dataset ? Math.min(this.dataset.dim, this.dataset.n, 10) : 10;
    const wrap = h('div', { class: 'components' });
    let total = 0;
    for (let axis = 0; axis < dims; axis++) {
      const select = /** @type {HTMLSelectElement} */ (h('select', { 'data-param': 'component', 'data-axis': axis, id: `pc-${AXES[axis]}` }));
      const options = [];
      for (let c = 0; c < max; c++) {
        const v = this.variance?.[c];
        options.push({ value: String(c), label: `PC${c + 1}${v !== undefined ? ` (${(v * 100).toFixed(1)}%)` : ''}` });
      }
      const chosen = this.current?.method === 'pca' && this.current.params?.components ? this.current.params.components[axis] : axis;
      setOptions(select, options, String(chosen ?? axis));
      total += this.variance?.[Number(select.value)] ?? 0;
      wrap.append(h('label', { class: 'row', for: `pc-${AXES[axis]}` }, `${AXES[axis]}`, select));
    }
    if (this.variance) wrap.append(h('div', { class: 'muted small', id: 'variance-total' }, `Explained variance shown: ${(total * 100).toFixed(1)}%`));
    else wrap.append(h('div', { class: 'muted small' }, 'Explained variance appears after the first PCA run.'));
    return wrap;
  }

  _run() {
    const method = this.method.value;
    const dims = this._dims();
    /** @type {Record<string, any>} */
    const params = {};
    const spec = this.methods[method]?.params ?? {};
    if (method === 'pca') {
      const comps = [...this.params.querySelectorAll('[data-param="component"]')].map((s) => Number(/** @type {HTMLSelectElement} */ (s).value));
      if (comps.some((c, i) => c !== i)) params.components = comps;
    }
    for (const input of this.params.querySelectorAll('[data-name]')) {
      const el = /** @type {HTMLInputElement} */ (input);
      const name = el.dataset.name ?? '';
      const s = spec[name] ?? {};
      const raw = el.value.trim();
      if (raw === '' || raw === String(s.default)) continue;
      if (s.type === 'choice' || (s.type === 'float_or_auto' && raw === 'auto')) params[name] = raw;
      else if (s.type === 'int') params[name] = Math.round(Number(raw));
      else params[name] = Number(raw);
    }
    this.bus.emit('projection:run', { method, dims, params });
  }
}

/** @param {string} name @param {any} spec */
function paramField(name, spec) {
  const id = `param-${name}`;
  let input;
  if (spec.type === 'choice') {
    input = h('select', { id, 'data-name': name });
    setOptions(/** @type {HTMLSelectElement} */ (input), (spec.choices ?? []).map((c) => ({ value: c, label: c })), String(spec.default));
  } else if (spec.type === 'float_or_auto') {
    input = h('input', { id, 'data-name': name, type: 'text', value: String(spec.default ?? 'auto'), inputmode: 'decimal' });
  } else {
    input = h('input', {
      id, 'data-name': name, type: 'number', value: spec.default ?? '',
      min: spec.minimum, max: spec.maximum, step: spec.type === 'int' ? 1 : 'any',
    });
  }
  const label = name.replace(/_/g, ' ');
  return h('label', { class: 'row', for: id, title: spec.doc ?? '' }, label, input);
}

/** @param {Record<string, any>} methods @param {string} name */
function methodTitle(methods, name) {
  return methods[name]?.title ?? name;
}

/** @param {import('../types').Projection} p */
export function describeProjection(p) {
  const title = { pca: 'PCA', tsne: 't-SNE', umap: 'UMAP' }[p.method] ?? p.method;
  const keys = { pca: ['components'], tsne: ['perplexity', 'learning_rate', 'n_iter'], umap: ['n_neighbors', 'min_dist'] }[p.method];
  const params = Object.entries(p.params ?? {})
    .filter(([k, v]) => v !== null && v !== undefined && (!keys || keys.includes(k)))
    .slice(0, 3)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('/') : v}`)
    .join(' ');
  return `${title} ${p.dims}D${params ? ` (${params})` : ''} · ${p.status}`;
}

/** Quality (a number or an object of named scores) and PCA variance. @param {import('../types').Projection} p */
function qualityNodes(p) {
  const out = [];
  const q = p.quality;
  if (typeof q === 'number') out.push(h('span', { class: 'badge', title: 'projection quality' }, `quality ${fmtNum(q)}`));
  else if (q && typeof q === 'object') {
    for (const [k, v] of Object.entries(q)) {
      if (typeof v === 'number' || typeof v === 'string') out.push(h('span', { class: 'badge', title: 'projection quality' }, `${k.replace(/_/g, ' ')} ${typeof v === 'number' ? fmtNum(v) : v}`));
    }
  } else if (p.status === 'done') out.push(h('span', { class: 'muted small' }, 'quality: not computed'));
  if (p.explained_variance_ratio) {
    const total = p.explained_variance_ratio.reduce((a, b) => a + b, 0);
    out.push(h('span', { class: 'badge', title: 'variance explained by the shown components' },
      `variance ${p.explained_variance_ratio.map((v) => `${(v * 100).toFixed(1)}%`).join(' + ')} = ${(total * 100).toFixed(1)}%`));
  }
  return out;
}
