// The selected point: its metadata and thumbnail, and its k nearest
// neighbours in the original space (distance, metric and k controls).
import { h, fmtNum } from './dom.js';
import { thumbnail } from './thumb.js';

export class InspectorPanel {
  /**
   * @param {import('../events.js').EventBus} bus @param {HTMLElement} root
   * @param {() => import('../data/metadata.js').Metadata | null} getMetadata
   * @param {() => import('./thumb.js').SpriteInfo | null} getSprite
   */
  constructor(bus, root, getMetadata, getSprite) {
    this.bus = bus;
    this.getMetadata = getMetadata;
    this.getSprite = getSprite;
    this.labelColumn = '';
    this.k = /** @type {HTMLInputElement} */ (h('input', { id: 'k', type: 'number', min: 1, max: 1000, value: 10, onchange: () => this._params() }));
    this.metric = /** @type {HTMLSelectElement} */ (h('select', { id: 'metric', onchange: () => this._params() },
      h('option', { value: 'cosine' }, 'cosine'), h('option', { value: 'euclidean' }, 'euclidean')));
    this.point = h('div', { id: 'selected-point', class: 'selected-point' });
    this.list = h('ol', { id: 'neighbors', class: 'neighbors' });
    this.note = h('div', { class: 'muted small', id: 'neighbors-note' });
    root.append(
      h('h2', null, 'Selected point'),
      this.point,
      h('h3', null, 'Nearest neighbours'),
      h('div', { class: 'row nbparams' }, h('label', { for: 'k' }, 'k'), this.k, h('label', { for: 'metric' }, 'metric'), this.metric),
      this.note,
      this.list,
    );
    this._empty();
    bus.on('point:select', (sel) => this._select(sel));
    bus.on('neighbors:result', (res) => this._neighbors(res));
    bus.on('label:by', ({ column }) => { this.labelColumn = column; });
  }

  /** @param {number} k @param {string} metric */
  setParams(k, metric) {
    this.k.value = String(k);
    this.metric.value = metric;
  }

  _params() {
    const k = Math.max(1, Math.min(1000, Math.round(Number(this.k.value) || 10)));
    this.k.value = String(k);
    this.bus.emit('neighbors:params', { k, metric: this.metric.value });
  }

  _empty() {
    this.point.replaceChildren(h('p', { class: 'muted' }, 'Click a point (or a search result) to see its metadata and nearest neighbours.'));
    this.list.replaceChildren();
    this.note.textContent = '';
  }

  /** @param {{index: number} | null} sel */
  async _select(sel) {
    if (!sel) return this._empty();
    const index = sel.index;
    this._current = index;
    this.note.textContent = 'finding neighbours…';
    this.list.replaceChildren();
    const thumb = thumbnail(this.getSprite(), index, 72);
    this.point.replaceChildren(h('div', { class: 'point-head' }, thumb, h('div', null, h('strong', null, `Point #${index}`))));
    const meta = this.getMetadata();
    if (!meta?.info) return;
    const [row] = await meta.rows([index]);
    if (this._current !== index || !row) return;
    const table = h('table', { class: 'kv' }, ...Object.entries(row).map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v))));
    this.point.append(table);
  }

  /** @param {{query: any, metric: string, neighbors: {index: number, distance: number}[]} | null} res */
  async _neighbors(res) {
    if (!res) {
      this.list.replaceChildren();
      this.note.textContent = '';
      return;
    }
    const indices = res.neighbors.map((n) => n.index);
    this.note.textContent = `${res.neighbors.length} nearest by ${res.metric} distance in the original space`;
    const meta = this.getMetadata();
    const column = this.labelColumn || meta?.info?.columns[0]?.name || '';
    let labels = indices.map(() => '');
    if (meta?.info && column) {
      try {
        labels = await meta.labels(column, indices);
      } catch { /* labels are decoration; the list still shows indices */ }
    }
    const sprite = this.getSprite();
    this.list.replaceChildren(
      ...res.neighbors.map((nb, k) =>
        h('li', null,
          h('button', { class: 'neighbor', 'data-index': nb.index, onclick: () => this.bus.emit('point:select', { index: nb.index }) },
            thumbnail(sprite, nb.index, 28),
            h('span', { class: 'nb-label' }, labels[k] ? `${labels[k]}` : `#${nb.index}`),
            h('span', { class: 'muted' }, ` #${nb.index}`),
            h('span', { class: 'distance' }, fmtNum(nb.distance))))),
    );
  }
}
