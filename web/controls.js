// Mouse, wheel, touch and keyboard conventions of 3D viewers, turned into
// camera changes and pointer events for the scene.
//   3D: left-drag orbits, right-drag / shift-drag / middle-drag pans, wheel zooms.
//   2D: left-drag pans, wheel zooms at the cursor.
//   Keys (canvas focused): arrows orbit (3D) or pan (2D), shift+arrows pan,
//   + / - zoom, R or Home resets the view, Esc clears the selection.

import { orbit, pan, zoom } from './camera.js';

const CLICK_SLOP = 4;

/**
 * @param {HTMLElement} element receives pointer events
 * @param {{
 *   getCamera: () => import('./types').CameraState,
 *   setCamera: (cam: import('./types').CameraState) => void,
 *   onHover: (x: number, y: number) => void,
 *   onLeave: () => void,
 *   onClick: (x: number, y: number, event: MouseEvent) => void,
 *   onReset: () => void,
 *   onEscape: () => void,
 *   onDragChange: (dragging: boolean) => void,
 * }} h
 */
export function attachControls(element, h) {
  /** @type {{x: number, y: number, startX: number, startY: number, button: number, shift: boolean, moved: boolean} | null} */
  let drag = null;
  const rect = () => element.getBoundingClientRect();

  element.addEventListener('contextmenu', (e) => e.preventDefault());

  element.addEventListener('pointerdown', (e) => {
    element.focus({ preventScroll: true });
    element.setPointerCapture(e.pointerId);
    drag = { x: e.clientX, y: e.clientY, startX: e.clientX, startY: e.clientY, button: e.button, shift: e.shiftKey, moved: false };
  });

  element.addEventListener('pointermove', (e) => {
    const r = rect();
    if (!drag) {
      h.onHover(e.clientX - r.left, e.clientY - r.top);
      return;
    }
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    drag.x = e.clientX;
    drag.y = e.clientY;
    if (!drag.moved && Math.hypot(e.clientX - drag.startX, e.clientY - drag.startY) < CLICK_SLOP) return;
    if (!drag.moved) {
      drag.moved = true;
      h.onDragChange(true);
    }
    const cam = h.getCamera();
    const panning = cam.dims !== 3 || drag.button === 2 || drag.button === 1 || drag.shift || e.shiftKey;
    h.setCamera(panning ? pan(cam, dx, dy, r.height) : orbit(cam, dx, dy));
  });

  const end = (/** @type {PointerEvent} */ e) => {
    if (!drag) return;
    const wasDrag = drag.moved;
    const button = drag.button;
    drag = null;
    if (wasDrag) h.onDragChange(false);
    else if (button === 0 && e.type === 'pointerup') {
      const r = rect();
      h.onClick(e.clientX - r.left, e.clientY - r.top, e);
    }
  };
  element.addEventListener('pointerup', end);
  element.addEventListener('pointercancel', end);
  element.addEventListener('pointerleave', () => {
    if (!drag) h.onLeave();
  });

  element.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = rect();
      // Pixel, line and page deltas all become a gentle exponential zoom.
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? r.height : 1;
      const factor = Math.exp((-e.deltaY * unit) / 500);
      const ndcX = ((e.clientX - r.left) / r.width) * 2 - 1;
      const ndcY = 1 - ((e.clientY - r.top) / r.height) * 2;
      h.setCamera(zoom(h.getCamera(), factor, ndcX, ndcY, r.width / r.height));
    },
    { passive: false },
  );

  element.addEventListener('dblclick', () => h.onReset());

  element.addEventListener('keydown', (e) => {
    const cam = h.getCamera();
    const r = rect();
    const step = 24;
    let next = null;
    const arrows = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (e.key in arrows) {
      const [dx, dy] = arrows[/** @type {keyof typeof arrows} */ (e.key)];
      next = cam.dims === 3 && !e.shiftKey ? orbit(cam, dx, dy) : pan(cam, -dx, -dy, r.height);
    } else if (e.key === '+' || e.key === '=') next = zoom(cam, 1.2, 0, 0, r.width / r.height);
    else if (e.key === '-' || e.key === '_') next = zoom(cam, 1 / 1.2, 0, 0, r.width / r.height);
    else if (e.key === 'r' || e.key === 'R' || e.key === 'Home') {
      h.onReset();
      e.preventDefault();
      return;
    } else if (e.key === 'Escape') {
      h.onEscape();
      return;
    }
    if (next) {
      e.preventDefault();
      h.setCamera(next);
    }
  });
}
