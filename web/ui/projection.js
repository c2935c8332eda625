// Projection panel: method, 2D/3D, parameters, Run / Stop, progress, projection quality,
// and the list of this dataset's existing projections. The methods, their parameters,
// defaults and ranges come from GET /api/methods only.
import { h, setOptions, fmtNum } from './dom.js';
import { describeProjection, hidden, impossible, paramField, readParams } from './params.js';

/** How many parameters show up front (in the server's order); the rest go under "More parameters". */
const MAIN_PARAMS = 3;
const AXES = ['X', 'Y', 'Z'];

export class ProjectionPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.bus = bus;
    /** Methods as GET /api/methods describes them (empty until it answers). @type {Record<string, any>} */
    this.methods = {};
    /** @type {import('../types').Dataset | null} */
    this.dataset = null;
    /** @type {import('../types').Projection[]} */
    this.list = [];
    this._listCurrent = '';
    /** @type {import('../types').Projection | null} */
    this.current = null;
    /** Explained variance of the first components, once a PCA of this dataset is known. @type {number[] | null} */
    this.variance = null;

    this.method = /** @type {HTMLSelectElement} */ (h('select', { id: 'method', onchange: () => this._renderParams() }));
    const dimsChanged = () => {
      this._renderParams(true);
      bus.emit('projection:dims', { method: this.method.value, dims: this.dims, params: this._params() });
    };
    this.dims3 = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: 'dims', value: '3', id: 'dims-3', checked: true, onchange: dimsChanged }));
    this.dims2 = /** @type {HTMLInputElement} */ (h('input', { type: 'radio', name: 'dims', value: '2', id: 'dims-2', onchange: dimsChanged }));
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

    bus.on('projection:update', ({ projection, keepForm }) => this.setCurrent(projection, !keepForm));
  }

  /** @param {Record<string, any> | null} methods from GET /api/methods (null: the server has none) */
  setMethods(methods) {
    this.methods = methods && typeof methods === 'object' ? methods : {};
    this._setMethodOptions();
    this._renderParams();
    this.setProjections(this.list, this._listCurrent);
    if (this.current && this.methods[this.current.method]) {
      this._shownId = null;
      this.setCurrent(this.current);
    }
  }

  /** Display name of a method. @param {string} name */
  title(name) {
    return this.methods[name]?.title ?? name.toUpperCase();
  }

  /** The dims chosen in the panel. */
  get dims() {
    return this.dims2.checked ? 2 : 3;
  }

  _setMethodOptions() {
    const value = this.method.value || (this.current?.method ?? 'pca');
    setOptions(
      this.method,
      Object.entries(this.methods).map(([name, m]) => ({
        value: name,
        label: `${m.title ?? name}${m.available === false ? ' (unavailable)' : ''}`,
      })),
      value,
    );
    this.method.disabled = this.runButton.disabled = !Object.keys(this.methods).length;
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
    this.list = list;
    this._listCurrent = currentId ?? '';
    const pca = list.find((p) => p.method === 'pca' && p.explained_variance_ratio_all);
    if (pca && !this.variance) {
      this.variance = pca.explained_variance_ratio_all ?? null;
      this._renderParams(true);
    }
    const options = [{ value: '', label: list.length ? `${list.length} projection${list.length > 1 ? 's' : ''}…` : 'none yet' }];
    for (const p of list) options.push({ value: p.id, label: describeProjection(p, this.methods) });
    setOptions(this.existing, options, currentId ?? '');
  }

  /**
   * The projection on screen. With `syncForm` (default) a newly shown projection's method, dims
   * and parameters fill the form, so Run with a tweak starts from it.
   * @param {import('../types').Projection | null} p @param {boolean} [syncForm]
   */
  setCurrent(p, syncForm = true) {
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
    if (p.id !== this._shownId && !syncForm) this._shownId = p.id;
    if (p.id !== this._shownId) {
      this._shownId = p.id;
      if (this.methods[p.method]) this.method.value = p.method;
      this.dims2.checked = p.dims === 2;
      this.dims3.checked = p.dims !== 2;
      this._renderParams();
      for (const input of this.params.querySelectorAll('[data-name]')) {
        const el = /** @type {HTMLInputElement} */ (input);
        const v = p.params?.[el.dataset.name ?? ''];
        // A 0 shown as "auto" (params.js) stays so.
        if (v !== undefined && v !== null) el.value = v === 0 && el.placeholder === 'auto' ? '' : String(v);
      }
    }
    if (p.explained_variance_ratio_all && (!this.variance || p.method === 'pca')) {
      const changed = !this.variance;
      this.variance = p.explained_variance_ratio_all;
      if (changed) this._renderParams(true);
    }
    const bits = [`${this.title(p.method)} ${p.dims}D`, p.status];
    if (p.iteration) bits.push(`iteration ${p.iteration}`);
    if (running) bits.push(`${Math.round((p.progress ?? 0) * 100)}%`);
    if (p.status === 'failed' && p.error) bits.push(String(p.error));
    this.progressText.textContent = bits.join(' · ');
    this.quality.replaceChildren(...qualityNodes(p));
    if (this.existing.querySelector(`option[value="${CSS.escape(p.id)}"]`)) this.existing.value = p.id;
  }

  /** @param {boolean} [keepValues] keep what the user typed (same method: dims or variance changed) */
  _renderParams(keepValues = false) {
    const name = this.method.value;
    const method = this.methods[name];
    /** @type {Map<string, string>} */
    const typed = new Map();
    if (keepValues) for (const el of this.params.querySelectorAll('[data-name]')) typed.set(/** @type {HTMLElement} */ (el).dataset.name ?? '', /** @type {HTMLInputElement} */ (el).value);
    this.params.replaceChildren();
    if (!method) {
      if (!Object.keys(this.methods).length) this.params.append(h('p', { class: 'muted small' }, 'Waiting for the server to list its projection methods…'));
      return;
    }
    const n = this.dataset?.n ?? 0;
    const entries = Object.entries(method.params ?? {}).filter(([, spec]) => !hidden(spec));
    const extra = h('div', { class: 'params-extra' });
    entries.forEach(([pname, spec], i) => {
      if (spec.type === 'int_list' && pname === 'components') this.params.append(this._componentPickers(this.dims));
      else (i < MAIN_PARAMS ? this.params : extra).append(paramField(pname, spec, n));
    });
    if (extra.children.length) this.params.append(h('details', null, h('summary', null, 'More parameters'), extra));
    const blocked = n ? impossible(method.params ?? {}, n) : [];
    if (blocked.length) this.params.append(h('p', { class: 'muted small', id: 'params-note' }, `Too few points (${n}) for ${method.title ?? name}: ${blocked.join(', ')} has no valid value.`));
    if (method.available === false) this.params.append(h('p', { class: 'muted small' }, 'The server says this method is not available yet.'));
    for (const el of this.params.querySelectorAll('[data-name]')) {
      const value = typed.get(/** @type {HTMLElement} */ (el).dataset.name ?? '');
      if (value !== undefined) /** @type {HTMLInputElement} */ (el).value = value;
    }
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

  /** The form's parameters, as a request would send them. */
  _params() {
    const method = this.method.value;
    /** @type {Record<string, any>} */
    const params = readParams(this.params, this.methods[method]?.params ?? {});
    const comps = [...this.params.querySelectorAll('[data-param="component"]')].map((s) => Number(/** @type {HTMLSelectElement} */ (s).value));
    if (comps.some((c, i) => c !== i)) params.components = comps;
    return params;
  }

  _run() {
    this.bus.emit('projection:run', { method: this.method.value, dims: this.dims, params: this._params() });
  }
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
