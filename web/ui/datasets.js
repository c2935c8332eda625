// Dataset picker: name, size, dimension and source of each dataset. Datasets of one
// training sequence (the same tensor at several steps of a logdir run) are one entry,
// with a step control (slider, previous / next, [ and ] keys) and Play.
import { h, setOptions, fmtInt } from './dom.js';

/**
 * @typedef {{key: string, name: string, steps: import('../types').Dataset[]}} Group
 * One entry of the picker: a lone dataset (key = its id) or a sequence, steps ordered.
 */

/** Option value of a sequence entry (dataset ids never contain ':'). @param {string} seq */
const seqValue = (seq) => `seq:${seq}`;

/**
 * Group datasets by `sequence`, keeping the order of first appearance; steps are
 * ordered by step number (a step of null last).
 * @param {import('../types').Dataset[]} datasets @returns {Group[]}
 */
export function groupDatasets(datasets) {
  /** @type {Group[]} */
  const groups = [];
  /** @type {Map<string, Group>} */
  const bySeq = new Map();
  for (const d of datasets) {
    if (typeof d.sequence === 'string' && d.sequence) {
      let g = bySeq.get(d.sequence);
      if (!g) {
        g = { key: seqValue(d.sequence), name: d.name, steps: [] };
        bySeq.set(d.sequence, g);
        groups.push(g);
      }
      g.steps.push(d);
    } else {
      groups.push({ key: d.id, name: d.name, steps: [d] });
    }
  }
  const order = (/** @type {import('../types').Dataset} */ d) => (typeof d.step === 'number' ? d.step : Infinity);
  for (const g of groups) g.steps.sort((a, b) => order(a) - order(b));
  return groups;
}

/** @param {import('../types').Dataset | undefined} d */
const stepName = (d) => (d && typeof d.step === 'number' ? `step ${fmtInt(d.step)}` : 'final');

export class DatasetsPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.bus = bus;
    this.select = /** @type {HTMLSelectElement} */ (h('select', { id: 'dataset-select', onchange: () => this._picked() }));
    this.info = h('span', { class: 'muted', id: 'dataset-info' });
    this.prev = /** @type {HTMLButtonElement} */ (h('button', { id: 'step-prev', title: 'Previous step ( [ )', 'aria-label': 'Previous step', onclick: () => this.step(-1) }, '‹'));
    this.next = /** @type {HTMLButtonElement} */ (h('button', { id: 'step-next', title: 'Next step ( ] )', 'aria-label': 'Next step', onclick: () => this.step(1) }, '›'));
    this.slider = /** @type {HTMLInputElement} */ (h('input', {
      id: 'step-slider', type: 'range', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'Training step',
      oninput: () => { this.stepLabel.textContent = this._stepText(Number(this.slider.value)); },
      onchange: () => this.step(Number(this.slider.value) - this.index),
    }));
    this.stepLabel = h('span', { class: 'muted small step-label', id: 'step-label' });
    this.play = /** @type {HTMLButtonElement} */ (h('button', { id: 'step-play', title: 'Walk through the steps', onclick: () => bus.emit('sequence:play', { on: !this.playing }) }, '▶ Play'));
    this.stepper = h('div', { class: 'stepper', id: 'step-control', hidden: true, role: 'group', 'aria-label': 'Training steps' },
      this.prev, this.slider, this.next, this.stepLabel, this.play);
    root.append(h('label', { for: 'dataset-select' }, 'Dataset'), this.select, this.stepper, this.info);
    /** @type {import('../types').Dataset[]} */
    this.datasets = [];
    /** @type {Group[]} */
    this.groups = [];
    /** The group of the open dataset and the open step's index in it. @type {Group | null} */
    this.group = null;
    this.index = 0;
    this.playing = false;
    bus.on('dataset:loaded', ({ dataset }) => this.show(dataset));
    window.addEventListener('keydown', (e) => {
      const target = /** @type {HTMLElement} */ (e.target);
      if (e.ctrlKey || e.metaKey || e.altKey || /INPUT|SELECT|TEXTAREA/.test(target.tagName)) return;
      if (e.key === '[' || e.key === ']') {
        if (!this.group || this.group.steps.length < 2) return;
        e.preventDefault();
        this.step(e.key === '[' ? -1 : 1);
      }
    });
  }

  /** @param {import('../types').Dataset[]} datasets @param {string} [current] */
  setDatasets(datasets, current) {
    this.datasets = datasets;
    this.groups = groupDatasets(datasets);
    setOptions(
      this.select,
      this.groups.map((g) => {
        const d = g.steps[0];
        const size = `${fmtInt(d.n)} × ${d.dim}`;
        if (g.key === d.id) return { value: g.key, label: `${d.name} — ${size} (${d.source})` };
        return { value: g.key, label: `${g.name} — ${size} (${d.source}, ${g.steps.length} step${g.steps.length === 1 ? '' : 's'})` };
      }),
    );
    this.select.disabled = datasets.length === 0;
    const d = current ? datasets.find((x) => x.id === current) : undefined;
    if (d) this.show(d);
  }

  /** The picker's choice: a lone dataset, or a sequence (opened at its last step). */
  _picked() {
    const g = this.groups.find((x) => x.key === this.select.value);
    if (!g) return;
    if (this.playing) this.bus.emit('sequence:play', { on: false });
    this.bus.emit('dataset:select', { id: g.steps[g.steps.length - 1].id });
  }

  /** @param {import('../types').Dataset} d */
  show(d) {
    if (!this.datasets.some((x) => x.id === d.id)) {
      this.setDatasets([...this.datasets, d], d.id);
      return;
    }
    const g = this.groups.find((x) => x.steps.some((s) => s.id === d.id)) ?? null;
    this.group = g;
    this.index = g ? g.steps.findIndex((s) => s.id === d.id) : 0;
    if (g) this.select.value = g.key;
    const many = !!g && g.steps.length > 1;
    this.stepper.hidden = !many;
    if (g && many) {
      this.slider.max = String(g.steps.length - 1);
      this.slider.value = String(this.index);
      this.stepLabel.textContent = this._stepText(this.index);
      this._updateButtons();
    }
    const where = typeof d.step === 'number' ? ` · step ${fmtInt(d.step)}` : '';
    this.info.textContent = `${fmtInt(d.n)} points · ${d.dim} dimensions · ${d.source}${where}`;
  }

  /** @param {number} i */
  _stepText(i) {
    const g = this.group;
    if (!g) return '';
    return `${stepName(g.steps[i])} (${i + 1}/${g.steps.length})`;
  }

  _updateButtons() {
    const last = (this.group?.steps.length ?? 1) - 1;
    this.prev.disabled = this.index <= 0;
    this.next.disabled = this.index >= last;
  }

  /** Steps of the open sequence, in order (empty for a lone dataset). */
  get steps() {
    return this.group && this.group.steps.length > 1 ? this.group.steps : [];
  }

  /** Move by delta steps (a user action: stops Play). @param {number} delta */
  step(delta) {
    if (this.playing) this.bus.emit('sequence:play', { on: false });
    this.goTo(this.index + delta);
  }

  /** Open step i of the open sequence, keeping the view. @param {number} i */
  goTo(i) {
    const g = this.group;
    if (!g) return;
    const k = Math.max(0, Math.min(g.steps.length - 1, i));
    if (k === this.index) {
      this.slider.value = String(k);
      this.stepLabel.textContent = this._stepText(k);
      return;
    }
    this.bus.emit('dataset:step', { id: g.steps[k].id });
  }

  /** @param {boolean} on */
  setPlaying(on) {
    this.playing = on;
    this.play.textContent = on ? '❚❚ Pause' : '▶ Play';
    this.play.classList.toggle('on', on);
    this.play.setAttribute('aria-pressed', String(on));
  }
}
