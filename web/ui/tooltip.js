// Hover tooltip: the point's metadata and its thumbnail.
import { h } from './dom.js';
import { thumbnail } from './thumb.js';

export class Tooltip {
  /**
   * @param {import('../events.js').EventBus} bus @param {HTMLElement} el
   * @param {() => import('../data/metadata.js').Metadata | null} getMetadata
   * @param {() => import('./thumb.js').SpriteInfo | null} getSprite
   */
  constructor(bus, el, getMetadata, getSprite) {
    this.el = el;
    this._index = -1;
    bus.on('point:hover', async (hover) => {
      if (!hover) {
        this._index = -1;
        el.hidden = true;
        return;
      }
      const { index, x, y } = hover;
      this._place(x, y);
      if (index === this._index) return;
      this._index = index;
      const body = [h('div', { class: 'tt-head' }, `#${index}`)];
      const thumb = thumbnail(getSprite(), index, 56);
      el.replaceChildren(...(thumb ? [thumb] : []), ...body);
      el.hidden = false;
      const meta = getMetadata();
      if (!meta?.info) return;
      const [row] = await meta.rows([index]);
      if (this._index !== index || !row) return;
      const entries = Object.entries(row).slice(0, 12);
      el.replaceChildren(...(thumb ? [thumb] : []), h('div', { class: 'tt-head' }, `#${index}`),
        h('table', { class: 'kv' }, ...entries.map(([k, v]) => h('tr', null, h('th', null, k), h('td', null, v.length > 80 ? `${v.slice(0, 80)}…` : v)))));
    });
  }

  /** @param {number} x @param {number} y */
  _place(x, y) {
    const parent = /** @type {HTMLElement} */ (this.el.parentElement);
    const flipX = x > parent.clientWidth - 260;
    const flipY = y > parent.clientHeight - 160;
    this.el.style.left = flipX ? '' : `${x + 14}px`;
    this.el.style.right = flipX ? `${parent.clientWidth - x + 14}px` : '';
    this.el.style.top = flipY ? '' : `${y + 14}px`;
    this.el.style.bottom = flipY ? `${parent.clientHeight - y + 14}px` : '';
  }
}
