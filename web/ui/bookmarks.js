// Bookmarks: TensorBoard's saved views of a logdir dataset, as a short list.
// Clicking one highlights its selected points and applies its colour-by.
import { h, fmtInt } from './dom.js';

export class BookmarksPanel {
  /** @param {import('../events.js').EventBus} bus @param {HTMLElement} root */
  constructor(bus, root) {
    this.root = root;
    this.list = h('ul', { class: 'bookmarks', id: 'bookmarks' });
    this.note = h('div', { class: 'muted small', id: 'bookmarks-note' });
    root.append(h('h2', null, 'Bookmarks'), this.note, this.list);
    root.hidden = true;
    /** @type {import('../types').Bookmark[]} */
    this.bookmarks = [];
    this._bus = bus;
  }

  /** null hides the panel. @param {import('../types').Bookmark[] | null} bookmarks */
  setBookmarks(bookmarks) {
    this.bookmarks = Array.isArray(bookmarks) ? bookmarks.filter((b) => b && typeof b === 'object') : [];
    this.root.hidden = bookmarks === null;
    this.note.textContent = bookmarks && !this.bookmarks.length ? 'No bookmarks saved.' : '';
    this.list.replaceChildren(...this.bookmarks.map((b, i) => {
      const points = Array.isArray(b.selectedPoints) ? b.selectedPoints.length : 0;
      const bits = [points ? `${fmtInt(points)} point${points === 1 ? '' : 's'}` : '', b.selectedColorOptionName ? `colour: ${b.selectedColorOptionName}` : ''].filter(Boolean);
      return h('li', null,
        h('button', { class: 'bookmark', 'data-index': i, title: bits.join(' · ') || 'Apply this view', onclick: () => this._bus.emit('bookmark:apply', { bookmark: b }) },
          h('span', { class: 'bookmark-label' }, String(b.label ?? `Bookmark ${i + 1}`)),
          bits.length ? h('span', { class: 'count' }, bits.join(' · ')) : null));
    }));
  }
}
