// Dataset picker: name, size, dimension and source of each dataset.
import { h, setOptions, fmtInt } from './dom.js';

export class DatasetsPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.select = /** @type {HTMLSelectElement} */ (h('select', { id: 'dataset-select', onchange: () => bus.emit('dataset:select', { id: this.select.value }) }));
    this.info = h('span', { class: 'muted', id: 'dataset-info' });
    root.append(h('label', { for: 'dataset-select' }, 'Dataset'), this.select, this.info);
    /** @type {import('../types').Dataset[]} */
    this.datasets = [];
    bus.on('dataset:loaded', ({ dataset }) => this.show(dataset));
  }

  /** @param {import('../types').Dataset[]} datasets @param {string} [current] */
  setDatasets(datasets, current) {
    this.datasets = datasets;
    setOptions(
      this.select,
      datasets.map((d) => ({ value: d.id, label: `${d.name} — ${fmtInt(d.n)} × ${d.dim} (${d.source})` })),
      current,
    );
    this.select.disabled = datasets.length === 0;
  }

  /** @param {import('../types').Dataset} d */
  show(d) {
    if (!this.datasets.some((x) => x.id === d.id)) this.setDatasets([...this.datasets, d], d.id);
    this.select.value = d.id;
    this.info.textContent = `${fmtInt(d.n)} points · ${d.dim} dimensions · ${d.source}`;
  }
}
