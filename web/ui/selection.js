// The lasso / box selection: the tool buttons over the scatter, and a panel with the count, the
// selected rows' labels, and what can be done with them: export, save (and reopen), the
// neighbours of their centroid, Isolate (a new dataset of these rows), Label (set a metadata
// column for them) and Clear. The panel only shows and emits; web/selection/controller.js acts.
import { h, fmtInt, fmtNum, setOptions } from './dom.js';

/** Labels listed; the rest are counted. */
export const LIST_LIMIT = 200;

export class SelectionPanel {
  /**
   * @param {import('../events.js').EventBus} bus @param {HTMLElement} root the panel
   * @param {HTMLElement} toolbar gets the Lasso and Box buttons
   */
  constructor(bus, root, toolbar) {
    this.bus = bus;
    const tool = (/** @type {string} */ kind, /** @type {string} */ text, /** @type {string} */ title) => /** @type {HTMLButtonElement} */ (h('button', {
      id: `tool-${kind}`, title, 'aria-pressed': 'false',
      onclick: () => bus.emit('selection:tool', { kind: this.kind === kind ? null : kind }),
    }, text));
    this.lasso = tool('lasso', 'Lasso', 'Select by drawing around points (L). Shift adds, Alt removes; right-drag still pans.');
    this.box = tool('box', 'Box', 'Select by dragging a rectangle (B). Shift adds, Alt removes; right-drag still pans.');
    /** @type {'lasso' | 'box' | null} */
    this.kind = null;
    toolbar.insertBefore(h('span', { class: 'tools', role: 'group', 'aria-label': 'Selection tools' }, this.lasso, this.box), toolbar.querySelector('#view-info'));

    const button = (/** @type {string} */ id, /** @type {string} */ text, /** @type {string} */ title, /** @type {() => void} */ onclick) => /** @type {HTMLButtonElement} */ (h('button', { id, title, onclick }, text));
    this.count = h('div', { id: 'selection-count', 'aria-live': 'polite' });
    this.list = h('ol', { id: 'selection-list', class: 'selection-list', 'aria-label': 'Selected points' });
    this.isolate = button('selection-isolate', 'Isolate as dataset', 'Make a new dataset of these rows and open it, ready to project', () => bus.emit('selection:isolate'));
    this.clear = button('selection-clear', 'Clear', 'Clear the selection', () => bus.emit('selection:clear'));
    this.tsv = button('selection-tsv', 'TSV', 'Download the selected rows with their metadata as TSV', () => bus.emit('selection:export', { format: 'tsv' }));
    this.json = button('selection-json', 'JSON', 'Download the selected rows with their metadata as JSON', () => bus.emit('selection:export', { format: 'json' }));

    this.column = /** @type {HTMLInputElement} */ (h('input', { id: 'label-column', type: 'text', list: 'label-columns', placeholder: 'column (new or existing)', autocomplete: 'off' }));
    this.columns = h('datalist', { id: 'label-columns' });
    this.value = /** @type {HTMLInputElement} */ (h('input', { id: 'label-value', type: 'text', placeholder: 'value', autocomplete: 'off' }));
    this.apply = button('label-apply', 'Label', 'Set this column to this value for every selected row', () => this._label());
    this.value.addEventListener('keydown', (e) => { if (e.key === 'Enter') this._label(); });

    this.name = /** @type {HTMLInputElement} */ (h('input', { id: 'selection-name', type: 'text', placeholder: 'name', autocomplete: 'off', maxlength: 100 }));
    this.save = button('selection-save', 'Save', 'Save the selection on the server; its link reopens it', () => this._save());
    this.name.addEventListener('keydown', (e) => { if (e.key === 'Enter') this._save(); });
    this.saved = /** @type {HTMLSelectElement} */ (h('select', { id: 'selection-saved', onchange: () => {
      const name = this.saved.value;
      this.saved.value = '';
      if (name) bus.emit('selection:open', { name });
    } }));

    this.centroid = button('selection-centroid', 'Neighbours of the centroid', 'The rows nearest to the mean of the selected rows, in the original space', () => bus.emit('selection:centroid'));
    this.centroidNote = h('div', { class: 'muted small', id: 'centroid-note' });
    this.neighbors = h('ol', { id: 'centroid-neighbors', class: 'neighbors' });
    this.note = h('div', { class: 'muted small', id: 'selection-note', 'aria-live': 'polite' });

    this.actions = h('div', { class: 'selection-actions' },
      h('div', { class: 'row buttons' }, this.isolate, this.clear),
      h('div', { class: 'row' }, h('label', null, 'Export'), this.tsv, this.json),
      h('div', { class: 'row' }, h('label', { for: 'label-column' }, 'Set'), this.column),
      h('div', { class: 'row' }, h('label', { for: 'label-value' }, 'to'), this.value, this.apply),
      this.columns,
      h('div', { class: 'row' }, h('label', { for: 'selection-name' }, 'Save as'), this.name, this.save),
      h('div', { class: 'row buttons' }, this.centroid),
      this.centroidNote,
      this.neighbors);
    root.append(
      h('h2', null, 'Selection'),
      this.count,
      this.list,
      this.actions,
      h('div', { class: 'row' }, h('label', { for: 'selection-saved' }, 'Saved'), this.saved),
      this.note,
    );
    this.setSelection(0, '');
    this.setSaved([]);
  }

  /** @param {'lasso' | 'box' | null} kind */
  setTool(kind) {
    this.kind = kind;
    for (const [b, k] of /** @type {const} */ ([[this.lasso, 'lasso'], [this.box, 'box']])) {
      b.classList.toggle('on', kind === k);
      b.setAttribute('aria-pressed', String(kind === k));
    }
  }

  /** @param {number} count @param {string} name the saved selection shown, if unchanged since */
  setSelection(count, name) {
    this.count.textContent = count
      ? `${fmtInt(count)} point${count === 1 ? '' : 's'} selected${name ? ` · saved as “${name}”` : ''}`
      : 'Nothing selected. Turn on Lasso or Box above the plot and drag over points; Shift adds, Alt removes.';
    this.count.classList.toggle('muted', !count);
    this.count.dataset.count = String(count);
    this.actions.hidden = !count;
    if (!count) this.list.replaceChildren();
    this.isolate.disabled = count < 2;
    this.isolate.title = count < 2 ? 'A new dataset needs at least 2 rows' : 'Make a new dataset of these rows and open it, ready to project';
    if (name) this.name.value = name;
    this.setNeighbors(null);
  }

  /** @param {{index: number, label: string}[]} items the first rows @param {number} total */
  setLabels(items, total) {
    this.list.replaceChildren(...items.map(({ index, label }) => h('li', null,
      h('button', { class: 'search-hit', 'data-index': index, title: label || `#${index}`, onclick: () => this.bus.emit('point:select', { index }) },
        h('span', { class: 'hit-label' }, label || `#${index}`),
        h('span', { class: 'muted small' }, `#${index}`)))));
    if (total > items.length) this.list.append(h('li', { class: 'muted small more' }, `… and ${fmtInt(total - items.length)} more`));
  }

  /** Existing columns, offered when labelling. @param {string[]} names */
  setColumns(names) {
    this.columns.replaceChildren(...names.map((n) => h('option', { value: n })));
  }

  /** Saved selections, a menu: picking one opens it. @param {{name: string, count: number}[]} list */
  setSaved(list) {
    setOptions(this.saved, [{ value: '', label: list.length ? `${list.length} saved…` : 'none yet' },
      ...list.map((s) => ({ value: s.name, label: `${s.name} (${fmtInt(s.count)})` }))], '');
    this.saved.disabled = !list.length;
  }

  /** @param {boolean} ok @param {string} reason shown when not ok */
  setCentroidAvailable(ok, reason) {
    this.centroid.disabled = !ok;
    this.centroidNote.textContent = ok ? '' : reason;
  }

  /** @param {{index: number, distance: number, label: string}[] | null} list */
  setNeighbors(list) {
    this.neighbors.replaceChildren(...(list ?? []).map(({ index, distance, label }) => h('li', null,
      h('button', { class: 'neighbor', 'data-index': index, title: label || `#${index}`, onclick: () => this.bus.emit('point:select', { index }) },
        h('span', { class: 'nb-label' }, label || `#${index}`),
        h('span', { class: 'distance' }, fmtNum(distance))))));
  }

  /** A short message under the panel (errors go to the error list). @param {string} text */
  say(text) {
    this.note.textContent = text;
  }

  _label() {
    const column = this.column.value.trim();
    if (!column) return this.say('Name the column to set.');
    this.bus.emit('selection:label', { column, value: this.value.value });
  }

  _save() {
    const name = this.name.value.trim();
    if (!name) return this.say('Name the selection to save it.');
    this.bus.emit('selection:save', { name });
  }
}
