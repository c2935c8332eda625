// Toolbar over the scatter: reset view, thumbnails, point size, isolate,
// exports and copy link; plus the point count and frame time.
import { h, fmtInt } from './dom.js';

export class Toolbar {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.bus = bus;
    this.isolated = false;
    const btn = (id, text, title, onclick) => /** @type {HTMLButtonElement} */ (h('button', { id, title, onclick }, text));
    this.reset = btn('reset-view', 'Reset view', 'Reset the camera (R, Home or double-click)', () => bus.emit('view:reset'));
    this.sprites = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', id: 'sprites', disabled: true, onchange: () => bus.emit('view:mode', { sprites: this.sprites.checked }) }));
    this.size = /** @type {HTMLInputElement} */ (h('input', { type: 'range', id: 'point-size', min: 0, max: 16, step: 0.5, value: 0, title: 'Point size (0 = automatic)', oninput: () => bus.emit('view:pointsize', { size: Number(this.size.value) }) }));
    this.isolate = btn('isolate', 'Isolate', 'Show only the highlighted points', () => bus.emit('view:isolate', { on: !this.isolated }));
    this.exportSelect = /** @type {HTMLSelectElement} */ (h('select', { id: 'export', title: 'Export', onchange: () => {
      const v = this.exportSelect.value;
      this.exportSelect.value = '';
      if (v) bus.emit('export', { kind: v });
    } },
    h('option', { value: '' }, 'Export…'),
    h('option', { value: 'coords-csv' }, 'Coordinates (CSV)'),
    h('option', { value: 'coords-npy' }, 'Coordinates (NPY)'),
    h('option', { value: 'selection-csv' }, 'Selection (CSV)')));
    this.link = btn('copy-link', 'Copy link', 'Copy a link to this view', () => bus.emit('copy-link'));
    this.info = h('span', { class: 'muted small', id: 'view-info' });
    root.append(
      this.reset,
      h('label', { class: 'check', title: 'Draw thumbnails from the sprite sheet' }, this.sprites, ' Thumbnails'),
      h('label', { class: 'check' }, 'Size ', this.size),
      this.isolate,
      this.exportSelect,
      this.link,
      this.info,
    );
    this.setIsolated(false, 0);
  }

  /** @param {boolean} available @param {boolean} [on] thumbnails wanted (a link, or the previous dataset) */
  setSpritesAvailable(available, on = false) {
    this.sprites.disabled = !available;
    this.sprites.checked = available && on;
    this.sprites.parentElement?.setAttribute('title', available ? 'Draw thumbnails from the sprite sheet' : 'This dataset has no sprite sheet');
  }

  /** @param {boolean} on @param {number} highlighted */
  setIsolated(on, highlighted) {
    this.isolated = on;
    this.isolate.textContent = on ? 'Show all' : 'Isolate';
    this.isolate.disabled = !on && highlighted === 0;
    this.isolate.classList.toggle('on', on);
  }

  /** @param {number} n @param {number} frameMs */
  setInfo(n, frameMs) {
    this.info.textContent = n ? `${fmtInt(n)} points · ${frameMs.toFixed(1)} ms/frame` : '';
  }
}
