// Search box: plain text or regex over one column (or all) through the API. Shows the count
// and a clickable list of the matches (as TensorBoard does); Enter opens the first match, then
// the next one (Shift+Enter the previous). Emits the matches to be highlighted.
import { search, ApiError } from '../api.js';
import { h, setOptions, fmtInt, debounce } from './dom.js';

/** Escape a plain string so the server's regex search matches it literally. @param {string} s */
export const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

/** Highest number of match indices fetched for highlighting. */
const HIGHLIGHT_LIMIT = 200_000;
/** Matches listed by name; Enter still steps through all of them. */
const LIST_LIMIT = 100;

/** @typedef {import('../app/state.js').SearchQuery} SearchQuery */

export class SearchPanel {
  /**
   * @param {import('../events.js').EventBus} bus @param {HTMLElement} root
   * @param {() => import('../data/metadata.js').Metadata | null} getMetadata
   */
  constructor(bus, root, getMetadata) {
    this.bus = bus;
    this.getMetadata = getMetadata;
    this.datasetId = '';
    this.n = 0;
    this._seq = 0;
    this.labelColumn = '';
    /** The matches listed, and which one Enter opened last (-1: none yet). */
    this.hits = { indices: /** @type {Uint32Array | number[]} */ ([]), key: '', cursor: -1 };
    /** The search in flight and its key. @type {Promise<void> | null} */
    this._pending = null;
    this._pendingKey = '';
    this.input = /** @type {HTMLInputElement} */ (h('input', {
      id: 'search', type: 'search', placeholder: 'Search labels…  ( / )', autocomplete: 'off',
      oninput: debounce(() => this.run(), 250),
      onkeydown: (/** @type {KeyboardEvent} */ e) => {
        if (e.key !== 'Enter') return;
        e.preventDefault();
        this.openNext(e.shiftKey ? -1 : 1);
      },
    }));
    /** The user picked the column; until then it follows the label column (as TensorBoard's "search by"). */
    this.columnChosen = false;
    this.column = /** @type {HTMLSelectElement} */ (h('select', { id: 'search-column', onchange: () => { this.columnChosen = true; this.run(); } }));
    this.regex = /** @type {HTMLInputElement} */ (h('input', { id: 'search-regex', type: 'checkbox', onchange: () => this.run() }));
    this.result = h('div', { class: 'search-result', id: 'search-count', 'aria-live': 'polite' });
    this.clear = /** @type {HTMLButtonElement} */ (h('button', { id: 'search-clear', onclick: () => this.reset(true) }, 'Clear'));
    this.list = h('ol', { class: 'search-results', id: 'search-results', 'aria-label': 'Matches' });
    root.append(
      h('h2', null, 'Search'),
      this.input,
      h('div', { class: 'row' },
        h('label', { for: 'search-column' }, 'in'), this.column,
        h('label', { class: 'check' }, this.regex, ' regex')),
      h('div', { class: 'row' }, this.result, this.clear),
      this.list,
    );
    this.setColumns([]);
    // Points picked elsewhere (a legend entry, a bookmark) are shown like a search's matches;
    // `derived` keeps them out of the URL's query.
    const highlight = (/** @type {{indices: Uint32Array | number[], label: string}} */ { indices, label }) => {
      this._seq++;
      this.input.value = '';
      this.result.textContent = `${fmtInt(indices.length)} points with ${label}`;
      this.result.classList.remove('bad');
      this._setHits(indices, '');
      bus.emit('search:result', { indices, count: indices.length, query: label, derived: true });
    };
    bus.on('legend:highlight', highlight);
    bus.on('highlight:points', highlight);
    bus.on('label:by', ({ column }) => {
      this.labelColumn = column;
      if (!this.columnChosen && !this.input.value && [...this.column.options].some((o) => o.value === column)) this.column.value = column;
      this._renderList();
    });
    bus.on('metadata:ready', () => this._renderList());
    bus.on('point:select', (sel) => this._markActive(sel ? sel.index : -1));
    window.addEventListener('keydown', (e) => {
      const target = /** @type {HTMLElement} */ (e.target);
      if (e.key === '/' && !/INPUT|SELECT|TEXTAREA/.test(target.tagName)) {
        e.preventDefault();
        this.input.focus();
      }
    });
  }

  /** @param {string} datasetId @param {number} n @param {string[]} columns */
  setDataset(datasetId, n, columns) {
    this.datasetId = datasetId;
    this.n = n;
    this.columnChosen = false;
    this.setColumns(columns);
    this.reset(false);
  }

  /** @param {string[]} columns */
  setColumns(columns) {
    setOptions(this.column, [{ value: '', label: 'all columns' }, ...columns.map((c) => ({ value: c, label: c }))], this.column.value);
  }

  /** The search as typed. @returns {SearchQuery} */
  query() {
    return { q: this.input.value, regex: this.regex.checked, column: this.column.value };
  }

  /** @param {boolean} announce emit an empty result */
  reset(announce) {
    this._seq++;
    this._pending = null;
    this._pendingKey = '';
    this.input.value = '';
    this.result.textContent = '';
    this.result.classList.remove('bad');
    this._setHits([], '');
    if (announce) this.bus.emit('search:result', null);
  }

  /**
   * Run the search as typed, or `query` (a link, another step) after putting it in the fields.
   * @param {SearchQuery} [query] @returns {Promise<void>}
   */
  run(query) {
    if (query) {
      this.input.value = query.q;
      this.regex.checked = query.regex;
      if ([...this.column.options].some((o) => o.value === query.column)) this.column.value = query.column;
      this.columnChosen = true;
    }
    const key = JSON.stringify(this.query());
    // The same search again (typing settles after Enter ran it): keep what is shown.
    if (this._pending && this._pendingKey === key) return this._pending;
    if (key === this.hits.key) return Promise.resolve();
    this._pendingKey = key;
    this._pending = this._run();
    return this._pending;
  }

  async _run() {
    const asked = this.query();
    const key = JSON.stringify(asked);
    const seq = ++this._seq;
    if (!asked.q || !this.datasetId) {
      this.result.textContent = '';
      this.result.classList.remove('bad');
      this._setHits([], '');
      this.bus.emit('search:result', null);
      return;
    }
    const q = asked.regex ? asked.q : escapeRegex(asked.q);
    this.result.textContent = 'searching…';
    try {
      const res = await search(this.datasetId, { q, column: asked.column || undefined, limit: Math.min(HIGHLIGHT_LIMIT, Math.max(1, this.n)) });
      if (seq !== this._seq) return;
      const shown = res.indices.length < res.count ? ` (highlighting the first ${fmtInt(res.indices.length)})` : '';
      this.result.textContent = `${fmtInt(res.count)} match${res.count === 1 ? '' : 'es'}${shown}`;
      this.result.classList.toggle('bad', res.count === 0);
      const indices = Uint32Array.from(res.indices);
      this._setHits(indices, key);
      this.bus.emit('search:result', { indices, count: res.count, query: asked });
    } catch (error) {
      if (seq !== this._seq) return;
      this.result.textContent = error instanceof ApiError ? `${error.code}: ${error.detail}` : String(error);
      this.result.classList.add('bad');
      this._setHits([], '');
      this.bus.emit('search:result', null);
      if (!(error instanceof ApiError && error.status === 400)) this.bus.emit('error', { title: 'Search failed', error });
    }
  }

  /**
   * Enter: open the next match of the search as typed (running it first when it changed);
   * `step` -1 goes back.
   * @param {number} step
   */
  async openNext(step) {
    const key = JSON.stringify(this.query());
    if (key !== this.hits.key) {
      await this.run();
      if (JSON.stringify(this.query()) !== key || this.hits.key !== key) return;
      this.hits.cursor = -1;
      step = 1;
    }
    const count = this.hits.indices.length;
    if (!count) return;
    this.hits.cursor = this.hits.cursor < 0 ? (step > 0 ? 0 : count - 1) : (this.hits.cursor + step + count) % count;
    this._open(this.hits.cursor);
  }

  /** @param {number} k position in the matches */
  _open(k) {
    this.hits.cursor = k;
    const index = this.hits.indices[k];
    const total = this.hits.indices.length;
    if (total > 1) this.result.dataset.position = `${fmtInt(k + 1)} of ${fmtInt(total)}`;
    this.bus.emit('point:select', { index });
  }

  /** @param {Uint32Array | number[]} indices @param {string} key */
  _setHits(indices, key) {
    this.hits = { indices, key, cursor: -1 };
    delete this.result.dataset.position;
    this._renderList();
  }

  async _renderList() {
    const { indices } = this.hits;
    const shown = Array.from(indices.slice(0, LIST_LIMIT));
    const column = this.labelColumn || this.column.value;
    const meta = this.getMetadata();
    const hits = this.hits;
    let labels = shown.map(() => '');
    if (shown.length && meta?.info && column) {
      try {
        labels = await meta.labels(column, shown);
      } catch { /* the list still shows indices */ }
      if (this.hits !== hits) return;
    }
    this.list.replaceChildren(...shown.map((index, k) => h('li', null,
      h('button', { class: 'search-hit', 'data-index': index, title: labels[k] || `#${index}`, onclick: () => this._open(k) },
        h('span', { class: 'hit-label' }, labels[k] || `#${index}`),
        h('span', { class: 'muted small' }, `#${index}`)))));
    if (indices.length > LIST_LIMIT) this.list.append(h('li', { class: 'muted small more' }, `… and ${fmtInt(indices.length - LIST_LIMIT)} more (Enter steps through all)`));
    this._markActive(-2);
  }

  /** Mark the list entry of the selected point. @param {number} index -2: keep the current one */
  _markActive(index) {
    if (index !== -2) this._active = index;
    for (const el of this.list.querySelectorAll('.search-hit')) {
      const on = Number(/** @type {HTMLElement} */ (el).dataset.index) === this._active;
      el.classList.toggle('active', on);
      if (on && index !== -2) el.scrollIntoView({ block: 'nearest' });
    }
  }
}
