// Search box: plain text or regex over one column (or all) through the API;
// shows the count and emits the matches to be highlighted.
import { search, ApiError } from '../api.js';
import { h, setOptions, fmtInt, debounce } from './dom.js';

/** Escape a plain string so the server's regex search matches it literally. @param {string} s */
export const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\\/-]/g, '\\$&');

/** Highest number of match indices fetched for highlighting. */
const HIGHLIGHT_LIMIT = 200_000;

export class SearchPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.bus = bus;
    this.datasetId = '';
    this.n = 0;
    this._seq = 0;
    this.input = /** @type {HTMLInputElement} */ (h('input', {
      id: 'search', type: 'search', placeholder: 'Search labels…  ( / )', autocomplete: 'off',
      oninput: debounce(() => this.run(), 250),
      onkeydown: (e) => { if (e.key === 'Enter') this.run(); },
    }));
    this.column = /** @type {HTMLSelectElement} */ (h('select', { id: 'search-column', onchange: () => this.run() }));
    this.regex = /** @type {HTMLInputElement} */ (h('input', { id: 'search-regex', type: 'checkbox', onchange: () => this.run() }));
    this.result = h('div', { class: 'search-result', id: 'search-count', 'aria-live': 'polite' });
    this.clear = /** @type {HTMLButtonElement} */ (h('button', { id: 'search-clear', onclick: () => this.reset(true) }, 'Clear'));
    root.append(
      h('h2', null, 'Search'),
      this.input,
      h('div', { class: 'row' },
        h('label', { for: 'search-column' }, 'in'), this.column,
        h('label', { class: 'check' }, this.regex, ' regex')),
      h('div', { class: 'row' }, this.result, this.clear),
    );
    this.setColumns([]);
    // Points picked elsewhere (a legend entry, a bookmark) are shown like a search's matches;
    // `derived` keeps them out of the URL's query.
    const highlight = (/** @type {{indices: Uint32Array | number[], label: string}} */ { indices, label }) => {
      this._seq++;
      this.input.value = '';
      this.result.textContent = `${fmtInt(indices.length)} points with ${label}`;
      this.result.classList.remove('bad');
      bus.emit('search:result', { indices, count: indices.length, query: label, derived: true });
    };
    bus.on('legend:highlight', highlight);
    bus.on('highlight:points', highlight);
    window.addEventListener('keydown', (e) => {
      const target = /** @type {HTMLElement} */ (e.target);
      if (e.key === '/' && !/INPUT|SELECT|TEXTAREA/.test(target.tagName)) {
        e.preventDefault();
        this.input.focus();
      }
    });
  }

  /** @param {string} datasetId @param {number} n */
  setDataset(datasetId, n) {
    this.datasetId = datasetId;
    this.n = n;
    this.reset(false);
  }

  /** @param {string[]} columns */
  setColumns(columns) {
    setOptions(this.column, [{ value: '', label: 'all columns' }, ...columns.map((c) => ({ value: c, label: c }))], this.column.value);
  }

  /** @param {boolean} announce emit an empty result */
  reset(announce) {
    this._seq++;
    this.input.value = '';
    this.result.textContent = '';
    this.result.classList.remove('bad');
    if (announce) this.bus.emit('search:result', null);
  }

  /** @param {string} [text] run this query (tests, URL) */
  async run(text) {
    if (text !== undefined) this.input.value = text;
    const raw = this.input.value;
    const seq = ++this._seq;
    if (!raw || !this.datasetId) {
      this.result.textContent = '';
      this.result.classList.remove('bad');
      this.bus.emit('search:result', null);
      return;
    }
    const q = this.regex.checked ? raw : escapeRegex(raw);
    this.result.textContent = 'searching…';
    try {
      const res = await search(this.datasetId, { q, column: this.column.value || undefined, limit: Math.min(HIGHLIGHT_LIMIT, Math.max(1, this.n)) });
      if (seq !== this._seq) return;
      const shown = res.indices.length < res.count ? ` (highlighting the first ${fmtInt(res.indices.length)})` : '';
      this.result.textContent = `${fmtInt(res.count)} match${res.count === 1 ? '' : 'es'}${shown}`;
      this.result.classList.toggle('bad', res.count === 0);
      this.bus.emit('search:result', { indices: Uint32Array.from(res.indices), count: res.count, query: raw });
    } catch (error) {
      if (seq !== this._seq) return;
      this.result.textContent = error instanceof ApiError ? `${error.code}: ${error.detail}` : String(error);
      this.result.classList.add('bad');
      this.bus.emit('search:result', null);
      if (!(error instanceof ApiError && error.status === 400)) this.bus.emit('error', { title: 'Search failed', error });
    }
  }
}
