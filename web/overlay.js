// The 2D canvas over the scatter: the hover ring and text labels (the selected point, its
// neighbours, matches, the hovered point; with nothing highlighted, a decluttered sample of
// the points on screen). Later layers (a lasso outline, cluster names) draw here too.

import { projectPoint } from './camera.js';
import { spreadSample } from './picking.js';
import { FLAG_HIDDEN } from './gl/renderer.js';

const MAX_LABELS = 250;
/** Label occupancy cells (CSS px): a label overlapping one already drawn is skipped. */
const CELL_W = 16;
const CELL_H = 14;
const LABEL_HALF_H = 7;

/**
 * What the overlay draws from: the scene's state at the time of drawing.
 * @typedef {object} OverlayView
 * @property {Float32Array | null} coords @property {number} dims @property {Float32Array} mvp
 * @property {number} width CSS px @property {number} height CSS px
 * @property {number} hover @property {number} selected @property {number[]} neighbors
 * @property {Uint32Array | number[]} matches @property {number} pointSize
 * @property {boolean} dragging @property {boolean} dark
 * @property {import('./picking.js').ScreenIndex | null} index pick index for the current camera, if built
 * @property {Uint8Array} flags
 */

export class Overlay {
  /** @param {HTMLCanvasElement} canvas @param {() => void} redraw asks the scene to draw again */
  constructor(canvas, redraw) {
    this.canvas = canvas;
    this.ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    this.redraw = redraw;
    this.column = '';
    /** @type {((indices: number[]) => Promise<string[]>) | null} */
    this.provider = null;
    /** Label text per point index for the current label column. @type {Map<number, string>} */
    this.cache = new Map();
    this._requested = new Set();
    /** Whether a spread sample of the points is labelled when nothing is highlighted (off while
     * cluster names are drawn: the two sets of names would cover each other). */
    this.sampled = true;
    /** Points spread over the screen, per pick index (walking it is O(points on screen)). @type {{index: object, ids: number[]} | null} */
    this._sample = null;
  }

  /** @param {string} column @param {((indices: number[]) => Promise<string[]>) | null} provider */
  setLabels(column, provider) {
    this.column = column;
    this.provider = provider;
    this.forget();
  }

  /** Other points (another dataset or size): cached labels no longer apply. */
  forget() {
    this.cache.clear();
    this._requested.clear();
    this._sample = null;
  }

  /** Match the drawing buffer to the WebGL canvas'. @param {number} width @param {number} height */
  resize(width, height) {
    this.canvas.width = width;
    this.canvas.height = height;
  }

  /** @param {OverlayView} v */
  draw(v) {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!v.coords) return;
    const coords = v.coords;
    const d = v.dims;
    const at = (/** @type {number} */ i) => projectPoint(v.mvp, coords[i * d], coords[i * d + 1], d > 2 ? coords[i * d + 2] : 0, v.width, v.height);
    if (v.hover >= 0) {
      const p = at(v.hover);
      if (p.visible) {
        ctx.beginPath();
        ctx.arc(p.x, p.y, Math.max(5, v.pointSize) + 2, 0, Math.PI * 2);
        ctx.lineWidth = 2;
        ctx.strokeStyle = v.dark ? 'rgba(240,242,250,0.9)' : 'rgba(20,20,30,0.85)';
        ctx.stroke();
      }
    }
    if (!this.column || !this.provider || v.dragging) return;
    const indices = this._indices(v);
    this._fetch(indices);
    ctx.textBaseline = 'middle';
    ctx.lineWidth = 3;
    ctx.strokeStyle = v.dark ? 'rgba(16,18,24,0.9)' : 'rgba(255,255,255,0.9)';
    const seen = new Set();
    // The selected and hovered points always get their label, first.
    const taken = new Set();
    const strongOf = (/** @type {number} */ i) => i === v.hover || i === v.selected;
    const order = [...indices].sort((a, b) => Number(strongOf(b)) - Number(strongOf(a)));
    for (const i of order) {
      if (seen.has(i)) continue;
      seen.add(i);
      const text = this.cache.get(i);
      if (!text) continue;
      const p = at(i);
      if (!p.visible) continue;
      const strong = strongOf(i);
      ctx.font = strong ? 'bold 13px system-ui, sans-serif' : '12px system-ui, sans-serif';
      const w = ctx.measureText(text).width;
      // Right of the point, or left of it when that would run past the canvas' edge.
      let x = p.x + v.pointSize / 2 + 4;
      const y = Math.min(Math.max(p.y, LABEL_HALF_H), v.height - LABEL_HALF_H);
      if (x + w > v.width - 2) x = Math.max(2, p.x - v.pointSize / 2 - 4 - w);
      // Every occupancy cell the text's box touches (it is about 14 px tall, centred on y).
      const c0 = Math.floor(x / CELL_W), c1 = Math.floor((x + w) / CELL_W);
      const r0 = Math.floor((y - LABEL_HALF_H) / CELL_H), r1 = Math.floor((y + LABEL_HALF_H) / CELL_H);
      let free = true;
      for (let r = r0; r <= r1 && free; r++) for (let c = c0; c <= c1 && free; c++) free = !taken.has(r * 4096 + c);
      if (!free && !strong) continue;
      for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) taken.add(r * 4096 + c);
      ctx.fillStyle = v.dark ? (strong ? '#f4f6fb' : '#d3d8e2') : (strong ? '#111' : '#333');
      ctx.strokeText(text, x, y);
      ctx.fillText(text, x, y);
    }
  }

  /** Points to label. @param {OverlayView} v @returns {number[]} */
  _indices(v) {
    /** @type {number[]} */
    const out = [];
    if (v.selected >= 0) out.push(v.selected);
    out.push(...v.neighbors);
    if (v.hover >= 0) out.push(v.hover);
    for (let k = 0; k < v.matches.length && out.length < MAX_LABELS; k++) out.push(v.matches[k]);
    const highlighted = v.selected >= 0 || v.neighbors.length > 0 || v.matches.length > 0;
    if (!highlighted && v.index && this.sampled) {
      if (this._sample?.index !== v.index) this._sample = { index: v.index, ids: spreadSample(v.index, 90, 150, v.flags, FLAG_HIDDEN) };
      out.push(...this._sample.ids);
    }
    return out;
  }

  /** Ask for the labels not cached yet; draws again when they arrive. @param {number[]} indices */
  _fetch(indices) {
    const missing = indices.filter((i) => !this.cache.has(i) && !this._requested.has(i));
    if (!missing.length || !this.provider) return;
    missing.forEach((i) => this._requested.add(i));
    const column = this.column;
    this.provider(missing).then((texts) => {
      if (column !== this.column) return;
      missing.forEach((i, k) => this.cache.set(i, texts[k]));
      this.redraw();
    }, () => {});
  }
}
