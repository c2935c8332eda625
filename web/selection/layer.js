// A 2D canvas over the scatter for what the selection tools draw: the lasso or box being
// dragged, and cluster names. Each user registers a painter; a redraw (at most one per
// animation frame) clears the canvas and runs them all, in CSS pixels.

/** @typedef {(ctx: CanvasRenderingContext2D, width: number, height: number) => void} Painter */

export class Layer {
  /** @param {HTMLCanvasElement} canvas sized by CSS like the scatter */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    /** @type {{paint: Painter, z: number}[]} */
    this.painters = [];
    this._queued = false;
    new ResizeObserver(() => this.redraw()).observe(canvas);
  }

  /** @param {Painter} paint @param {number} [z] painters of higher z draw later, on top */
  add(paint, z = 0) {
    this.painters.push({ paint, z });
    this.painters.sort((a, b) => a.z - b.z);
  }

  /** Draw again at the next animation frame. */
  redraw() {
    if (this._queued) return;
    this._queued = true;
    requestAnimationFrame(() => {
      this._queued = false;
      this.drawNow();
    });
  }

  drawNow() {
    const dpr = window.devicePixelRatio || 1;
    const width = this.canvas.clientWidth, height = this.canvas.clientHeight;
    const w = Math.max(1, Math.round(width * dpr)), h = Math.max(1, Math.round(height * dpr));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    for (const { paint } of this.painters) {
      ctx.save();
      paint(ctx, width, height);
      ctx.restore();
    }
  }
}
