// Drawing a selection on the scatter: with the lasso or box tool on, a left-drag draws the
// outline (on the selection layer) instead of moving the camera; Shift adds to the selection,
// Alt removes from it. The outline is only drawn while dragging; the points inside are found
// once, on release (selector.js, in a Worker). Right and middle drags still pan, the wheel zooms.

import { boxPolygon } from './region.js';

/** Least pointer travel (CSS px) for a drag; less is a click, which clears the selection. */
const DRAG_SLOP = 4;
/** Lasso vertices closer than this to the previous one are skipped. */
const MIN_STEP = 2;

/** @typedef {'lasso' | 'box'} ToolKind */
/** @typedef {'replace' | 'add' | 'remove'} Combine */

export class SelectionTool {
  /**
   * @param {HTMLElement} stage wraps the scatter canvas (receives the pointer first)
   * @param {HTMLCanvasElement} canvas the scatter: coordinates are relative to it
   * @param {import('./layer.js').Layer} layer
   * @param {{
   *   onRegion: (polygon: Float32Array, combine: Combine, kind: ToolKind) => void,
   *   onClick: (combine: Combine) => void,
   *   dark: () => boolean,
   * }} h
   */
  constructor(stage, canvas, layer, h) {
    this.stage = stage;
    this.canvas = canvas;
    this.layer = layer;
    this.h = h;
    /** @type {ToolKind | null} */
    this.kind = null;
    /** The outline being drawn. @type {{points: number[], combine: Combine, x0: number, y0: number, x: number, y: number, moved: boolean} | null} */
    this.drag = null;
    layer.add((ctx) => this._paint(ctx), 1); // the outline being drawn stays above cluster names
    stage.addEventListener('pointerdown', (e) => this._down(e), { capture: true });
    stage.addEventListener('pointermove', (e) => this._move(e), { capture: true });
    stage.addEventListener('pointerup', (e) => this._up(e), { capture: true });
    stage.addEventListener('pointercancel', () => this.cancel(), { capture: true });
  }

  /** Turn a tool on (the camera then moves with the right button and the wheel only), or off. @param {ToolKind | null} kind */
  setKind(kind) {
    this.cancel();
    this.kind = kind;
    this.stage.classList.toggle('selecting', !!kind);
  }

  cancel() {
    if (!this.drag) return;
    this.drag = null;
    this.layer.redraw();
  }

  /** @param {PointerEvent} e */
  _pos(e) {
    const r = this.canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }

  /** @param {PointerEvent} e */
  _down(e) {
    if (!this.kind || e.button !== 0) return;
    // The camera controls below never see this drag.
    e.stopPropagation();
    e.preventDefault();
    this.canvas.focus({ preventScroll: true });
    this.stage.setPointerCapture(e.pointerId);
    const { x, y } = this._pos(e);
    const combine = e.shiftKey ? 'add' : e.altKey ? 'remove' : 'replace';
    this.drag = { points: [x, y], combine, x0: x, y0: y, x, y, moved: false };
  }

  /** @param {PointerEvent} e */
  _move(e) {
    const d = this.drag;
    if (!d) return;
    e.stopPropagation();
    const { x, y } = this._pos(e);
    if (!d.moved && Math.hypot(x - d.x0, y - d.y0) < DRAG_SLOP) return;
    d.moved = true;
    const n = d.points.length;
    if (Math.hypot(x - d.points[n - 2], y - d.points[n - 1]) >= MIN_STEP) d.points.push(x, y);
    d.x = x;
    d.y = y;
    this.layer.redraw();
  }

  /** @param {PointerEvent} e */
  _up(e) {
    const d = this.drag;
    if (!d) return;
    e.stopPropagation();
    this.drag = null;
    this.layer.redraw();
    if (!d.moved) return this.h.onClick(d.combine);
    const kind = /** @type {ToolKind} */ (this.kind);
    const polygon = kind === 'box' ? boxPolygon(d.x0, d.y0, d.x, d.y) : Float32Array.from(d.points);
    this.h.onRegion(polygon, d.combine, kind);
  }

  /** @param {CanvasRenderingContext2D} ctx */
  _paint(ctx) {
    const d = this.drag;
    if (!d || !d.moved) return;
    const dark = this.h.dark();
    ctx.beginPath();
    if (this.kind === 'box') ctx.rect(d.x0, d.y0, d.x - d.x0, d.y - d.y0);
    else {
      ctx.moveTo(d.points[0], d.points[1]);
      for (let k = 2; k < d.points.length; k += 2) ctx.lineTo(d.points[k], d.points[k + 1]);
      ctx.closePath();
    }
    const tint = d.combine === 'remove' ? '220,60,60' : dark ? '140,180,255' : '36,88,198';
    ctx.fillStyle = `rgba(${tint},0.14)`;
    ctx.fill();
    // A halo in the background's colour under the dashes: over thousands of coloured points a
    // bare 1.5 px dashed line disappears.
    ctx.lineJoin = 'round';
    ctx.lineWidth = 4;
    ctx.strokeStyle = dark ? 'rgba(12,16,24,0.85)' : 'rgba(255,255,255,0.9)';
    ctx.stroke();
    ctx.setLineDash([6, 4]);
    ctx.lineWidth = 2;
    ctx.strokeStyle = `rgba(${tint},1)`;
    ctx.stroke();
  }
}
