// Errors (API errors shown with their code and detail), the status line and
// the empty / loading state over the scatter.
import { h } from './dom.js';

export class StatusPanel {
  /**
   * @param {import('../events.js').EventBus} bus
   * @param {{errors: HTMLElement, status: HTMLElement, empty: HTMLElement}} els
   */
  constructor(bus, els) {
    this.els = els;
    /** Every error shown, for tests and debugging. @type {{title: string, code: string, detail: string}[]} */
    this.shown = [];
    bus.on('error', ({ title, error }) => this.showError(title, error));
    bus.on('status', ({ text }) => {
      els.status.textContent = text ?? '';
    });
  }

  /** @param {string} title @param {any} error */
  showError(title, error) {
    const code = error?.code ?? error?.name ?? 'error';
    const detail = error?.detail ?? error?.message ?? String(error);
    console.warn(`[projector] ${title}: ${code}: ${detail}`);
    this.shown.push({ title, code, detail });
    const item = h(
      'div',
      { class: 'error', 'data-title': title },
      h('strong', null, title),
      ' ',
      h('code', null, code),
      ' ',
      h('span', { class: 'detail' }, detail),
      h('button', { class: 'close', title: 'Dismiss', 'aria-label': 'Dismiss', onclick: () => item.remove() }, '×'),
    );
    this.els.errors.append(item);
    while (this.els.errors.children.length > 4) this.els.errors.firstElementChild?.remove();
  }

  /** Remove every error on screen (they were about a dataset no longer open). */
  clearErrors() {
    this.els.errors.replaceChildren();
  }

  /** Titles of the errors still on screen. @returns {string[]} */
  visible() {
    return [...this.els.errors.children].map((el) => /** @type {HTMLElement} */ (el).dataset.title ?? '');
  }

  /**
   * Message over the scatter (null hides it).
   * @param {string | null} text @param {{loading?: boolean, error?: boolean}} [opts]
   */
  setEmpty(text, opts = {}) {
    const el = this.els.empty;
    el.hidden = !text;
    el.className = `empty${opts.loading ? ' loading' : ''}${opts.error ? ' failed' : ''}`;
    el.textContent = text ?? '';
  }
}
