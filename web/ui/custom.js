// TensorBoard's custom projection: each axis runs from the centroid of the rows matching one
// query to the centroid of those matching another (regular expressions over a metadata column),
// in the original space. Runs method "custom" like any projection (Run in this panel).
import { h, setOptions } from './dom.js';

/** The four queries: parameter name, label, placeholder. */
const AXES = /** @type {const} */ ([
  ['x_left', 'Left', 'rows on the left'],
  ['x_right', 'Right', 'rows on the right'],
  ['y_down', 'Down', 'rows at the bottom'],
  ['y_up', 'Up', 'rows at the top'],
]);

export class CustomPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.bus = bus;
    this.chosen = false;
    this.column = /** @type {HTMLSelectElement} */ (h('select', { id: 'custom-column', onchange: () => { this.chosen = true; } }));
    /** @type {Record<string, HTMLInputElement>} */
    this.queries = {};
    for (const [name, , hint] of AXES) {
      this.queries[name] = /** @type {HTMLInputElement} */ (h('input', { id: `custom-${name}`, type: 'text', placeholder: `regex: ${hint}`, autocomplete: 'off', spellcheck: false }));
      this.queries[name].addEventListener('keydown', (e) => { if (e.key === 'Enter') this._run(); });
    }
    this.run = /** @type {HTMLButtonElement} */ (h('button', { id: 'custom-run', class: 'primary', onclick: () => this._run() }, 'Run custom'));
    this.note = h('div', { class: 'muted small', id: 'custom-note' });
    const field = (/** @type {string} */ name, /** @type {string} */ label) => h('div', { class: 'row' }, h('label', { for: `custom-${name}` }, label), this.queries[name]);
    root.append(
      h('details', { id: 'custom-details' },
        h('summary', null, h('h2', { class: 'inline' }, 'Custom axes')),
        h('p', { class: 'muted small' }, 'Each axis runs from the rows matching the first query to those matching the second, in the original space.'),
        h('div', { class: 'row' }, h('label', { for: 'custom-column' }, 'Column'), this.column),
        ...AXES.map(([name, label]) => field(name, label)),
        h('div', { class: 'row buttons' }, this.run),
        this.note),
    );
    this.setColumns([], '');
    /** @type {string[]} */
    let names = [];
    bus.on('metadata:ready', ({ columns }) => {
      names = columns.map((/** @type {{name: string}} */ c) => c.name).filter((/** @type {string} */ c) => c !== 'index');
      this.setColumns(names, '');
    });
    bus.on('label:by', ({ column }) => this.setColumns(names, column));
  }

  /** @param {string[]} names @param {string} preferred */
  setColumns(names, preferred) {
    const current = this.chosen ? this.column.value : preferred;
    setOptions(this.column, [{ value: '', label: 'all columns' }, ...names.map((n) => ({ value: n, label: n }))], names.includes(current) ? current : '');
  }

  _run() {
    /** @type {Record<string, string>} */
    const params = {};
    if (this.column.value) params.column = this.column.value;
    for (const [name] of AXES) params[name] = this.queries[name].value.trim();
    const missing = AXES.filter(([name]) => !params[name]).map(([, label]) => label);
    if (missing.length) {
      this.note.textContent = `Give a query for ${missing.join(', ')}.`;
      return;
    }
    this.note.textContent = '';
    this.bus.emit('projection:run', { method: 'custom', dims: 2, params });
  }
}
