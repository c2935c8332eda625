// Clusters of the projection on screen: HDBSCAN on the finished layout (server side), named by
// the words or values most distinctive for each cluster in a column. The panel only shows and
// emits; web/selection/clusters.js runs the job, colours by the new column and draws the names.
import { h, fmtInt, setOptions } from './dom.js';

export class ClustersPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.bus = bus;
    this.minSize = /** @type {HTMLInputElement} */ (h('input', { id: 'cluster-min-size', type: 'number', min: 2, step: 1, placeholder: 'auto', title: 'Smallest cluster (points); empty: grows with the number of points' }));
    /** The user picked the naming column; until then the server picks (its first text column). */
    this.chosen = false;
    this.column = /** @type {HTMLSelectElement} */ (h('select', { id: 'cluster-label-column', onchange: () => { this.chosen = true; }, title: 'Name each cluster by the words or values most distinctive for it in this column' }));
    this.run = /** @type {HTMLButtonElement} */ (h('button', { id: 'cluster-run', class: 'primary', onclick: () => this._run() }, 'Find clusters'));
    this.names = /** @type {HTMLInputElement} */ (h('input', { id: 'cluster-names', type: 'checkbox', checked: true, onchange: () => bus.emit('clusters:names', { on: this.names.checked }) }));
    this.status = h('div', { class: 'muted small', id: 'cluster-status', 'aria-live': 'polite' });
    this.list = h('ol', { class: 'legend', id: 'cluster-list', 'aria-label': 'Clusters' });
    root.append(
      h('h2', null, 'Clusters'),
      h('div', { class: 'row' }, h('label', { for: 'cluster-min-size' }, 'Min size'), this.minSize),
      h('div', { class: 'row' }, h('label', { for: 'cluster-label-column' }, 'Name by'), this.column),
      h('div', { class: 'row buttons' }, this.run),
      h('label', { class: 'check' }, this.names, ' Show cluster names on the plot'),
      this.status,
      this.list,
    );
    this.setColumns([]);
    this.setProjection(null);
  }

  /** @param {string[]} names */
  setColumns(names) {
    const current = this.chosen ? this.column.value : '';
    setOptions(this.column, [{ value: '', label: 'automatic' }, ...names.map((n) => ({ value: n, label: n }))], names.includes(current) ? current : '');
  }

  /** The projection on screen (clusters need a finished one). @param {import('../types').Projection | null} p */
  setProjection(p) {
    const done = p?.status === 'done';
    this.run.disabled = !done;
    this.run.title = done ? 'Cluster this layout (HDBSCAN) and colour by the clusters' : 'Clusters are found on a finished projection';
  }

  /** @param {string} text @param {boolean} [busy] */
  say(text, busy = false) {
    this.status.textContent = text;
    this.run.classList.toggle('busy', busy);
    if (busy) this.run.disabled = true;
  }

  /** @param {{column: string, clusters: import('../api.js').Cluster[]} | null} result */
  setResult(result) {
    this.list.replaceChildren();
    if (!result) return;
    const found = result.clusters.filter((c) => c.id >= 0);
    this.list.replaceChildren(...found.map((c) => h('li', null,
      h('button', { class: 'legend-item', 'data-cluster': c.id, title: `Highlight cluster ${c.id}`, onclick: () => this.bus.emit('clusters:highlight', { id: c.id }) },
        h('span', { class: 'count' }, String(c.id)),
        h('span', { class: 'legend-label' }, c.label || `cluster ${c.id}`),
        h('span', { class: 'count' }, fmtInt(c.size))))));
  }

  _run() {
    /** @type {{min_cluster_size?: number, label_column?: string}} */
    const params = {};
    const size = Math.round(Number(this.minSize.value));
    if (this.minSize.value.trim() && size >= 2) params.min_cluster_size = size;
    if (this.column.value) params.label_column = this.column.value;
    this.bus.emit('clusters:run', params);
  }
}
