// Colour-by and label-by controls and the legend: a searchable list for
// categories (top ones coloured, the long tail grouped as "other") or a
// continuous scale for numbers. Clicking a legend entry highlights its points.
import { h, setOptions, fmtInt, fmtNum, debounce } from './dom.js';

export class ColorPanel {
  /**
   * @param {import('../events.js').EventBus} bus @param {HTMLElement} root @param {HTMLElement} scaleEl
   * @param {() => import('../data/metadata.js').Metadata | null} getMetadata
   */
  constructor(bus, root, scaleEl, getMetadata) {
    this.bus = bus;
    this.getMetadata = getMetadata;
    this.scaleEl = scaleEl;
    /** @type {any} */
    this.legend = null;
    this.colorSelect = /** @type {HTMLSelectElement} */ (h('select', { id: 'color-by', onchange: () => bus.emit('color:by', { column: this.colorSelect.value }) }));
    this.labelSelect = /** @type {HTMLSelectElement} */ (h('select', { id: 'label-by', onchange: () => bus.emit('label:by', { column: this.labelSelect.value }) }));
    this.legendSearch = /** @type {HTMLInputElement} */ (h('input', { id: 'legend-search', type: 'search', placeholder: 'Find a category…', hidden: true, oninput: debounce(() => this._renderLegend(), 150) }));
    this.legendList = h('ul', { class: 'legend', id: 'legend' });
    this.legendNote = h('div', { class: 'muted small', id: 'legend-note' });
    root.append(
      h('h2', null, 'Colour and labels'),
      h('div', { class: 'row' }, h('label', { for: 'color-by' }, 'Colour by'), this.colorSelect),
      h('div', { class: 'row' }, h('label', { for: 'label-by' }, 'Label by'), this.labelSelect),
      this.legendSearch,
      this.legendNote,
      this.legendList,
    );
    this.setColumns(null);
    bus.on('legend:update', ({ legend }) => {
      this.legend = legend;
      this.legendSearch.value = '';
      this._renderLegend();
    });
  }

  /** @param {import('../types').ColumnInfo[] | null} columns @param {string} [color] @param {string} [label] */
  setColumns(columns, color = '', label = '') {
    const cols = columns ?? [];
    const describe = (c) => `${c.name} (${c.kind === 'numeric' ? 'numeric' : `${fmtInt(c.cardinality ?? 0)} categories`})`;
    setOptions(this.colorSelect, [{ value: '', label: columns ? 'none' : 'loading metadata…' }, ...cols.map((c) => ({ value: c.name, label: describe(c) }))], color);
    setOptions(this.labelSelect, [{ value: '', label: 'none' }, ...cols.map((c) => ({ value: c.name, label: c.name }))], label);
    this.colorSelect.disabled = this.labelSelect.disabled = !columns;
    if (!columns) {
      this.legend = null;
      this._renderLegend();
    }
  }

  /** @param {string} color @param {string} label */
  setValues(color, label) {
    this.colorSelect.value = color;
    this.labelSelect.value = label;
  }

  async _renderLegend() {
    const legend = this.legend;
    this.legendList.replaceChildren();
    this.scaleEl.hidden = true;
    this.legendSearch.hidden = true;
    this.legendNote.textContent = '';
    if (!legend) return;
    if (legend.kind === 'numeric') {
      this._renderScale(legend);
      this.legendNote.textContent = `${legend.column}: ${fmtNum(legend.min)} … ${fmtNum(legend.max)}${legend.missing ? ` · ${fmtInt(legend.missing)} missing (grey)` : ''}`;
      return;
    }
    const text = this.legendSearch.value.trim();
    this.legendSearch.hidden = legend.cardinality <= 12;
    const colourOf = new Map(legend.entries.map((e, r) => [e.code, { rgb: e.rgb, rank: r }]));
    /** @type {{code: number, label: string, count: number, rgb: number[] | null}[]} */
    let rows;
    if (text) {
      const meta = this.getMetadata();
      if (!meta) return;
      const found = await meta.legendSearch(legend.column, text, 200);
      if (this.legend !== legend || this.legendSearch.value.trim() !== text) return;
      rows = found.entries.map((e) => ({ ...e, rgb: colourOf.get(e.code)?.rgb ?? null }));
      this.legendNote.textContent = `${fmtInt(found.total)} of ${fmtInt(legend.cardinality)} categories match`;
    } else {
      rows = legend.entries.map((e) => ({ ...e }));
      this.legendNote.textContent = `${fmtInt(legend.cardinality)} categories${legend.other.categories ? `; the ${fmtInt(legend.other.categories)} least frequent are grey` : ''} · click one to highlight it`;
    }
    const items = rows.map((e) => this._legendItem(e.label, e.count, e.rgb ?? legend.other.rgb, () => this._highlightCategory(legend.column, e.code, e.label), !e.rgb));
    if (!text && legend.other.categories) {
      items.push(this._legendItem(`other (${fmtInt(legend.other.categories)} categories)`, legend.other.points, legend.other.rgb,
        () => this._highlightCategory(legend.column, -1, 'other', legend.entries.length), true));
    }
    this.legendList.replaceChildren(...items);
  }

  /** @param {string} label @param {number} count @param {number[]} rgb @param {() => void} onclick @param {boolean} grey */
  _legendItem(label, count, rgb, onclick, grey) {
    return h('li', null,
      h('button', { class: `legend-item${grey ? ' grey' : ''}`, onclick, title: `Highlight ${label}` },
        h('span', { class: 'swatch', style: { background: `rgb(${rgb.join(',')})` } }),
        h('span', { class: 'legend-label' }, label || '(empty)'),
        h('span', { class: 'count' }, fmtInt(count))));
  }

  /** @param {string} column @param {number} code @param {string} label @param {number} [fromRank] */
  async _highlightCategory(column, code, label, fromRank = -1) {
    const meta = this.getMetadata();
    if (!meta) return;
    try {
      const indices = await meta.categoryIndices(column, code, fromRank);
      this.bus.emit('legend:highlight', { indices, label: `${column} = ${label}` });
    } catch (error) {
      this.bus.emit('error', { title: 'Could not highlight the category', error });
    }
  }

  /** @param {any} legend */
  _renderScale(legend) {
    const ramp = legend.ramp;
    const stops = [];
    for (let i = 0; i <= 16; i++) {
      const k = Math.round((i / 16) * 255) * 3;
      stops.push(`rgb(${ramp[k]},${ramp[k + 1]},${ramp[k + 2]}) ${(i / 16) * 100}%`);
    }
    const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => h('span', { style: { left: `${t * 100}%` } }, fmtNum(legend.min + t * (legend.max - legend.min))));
    this.scaleEl.replaceChildren(
      h('div', { class: 'scale-title' }, legend.column),
      h('div', { class: 'scale-bar', style: { background: `linear-gradient(to right, ${stops.join(',')})` } }),
      h('div', { class: 'scale-ticks' }, ...ticks),
    );
    this.scaleEl.hidden = false;
  }
}
