// Tweening the points from the layout on screen to another of the same size: a finished
// training step shown after another one moves instead of jumping.

/** Tween length. */
export const MORPH_MS = 450;
/** Larger clouds jump: interpolating them on the main thread would stutter. */
export const MORPH_MAX_POINTS = 200_000;

/** Next animation frame, or a short timeout where frames do not come (hidden tab). */
const nextFrame = () => new Promise((resolve) => {
  const t = setTimeout(resolve, 50);
  requestAnimationFrame(() => { clearTimeout(t); resolve(undefined); });
});

/**
 * Move the scene's points to `coords` (same size and dims), camera kept; returns when done
 * or when `live()` turns false. Does nothing when the layouts are not comparable.
 * @param {import('../scene.js').Scene} scene @param {Float32Array} coords @param {number} dims
 * @param {() => boolean} live
 */
export async function morphTo(scene, coords, dims, live) {
  const from = scene.coords;
  if (!from || scene.dims !== dims || from.length !== coords.length || coords.length / dims > MORPH_MAX_POINTS) return;
  const start = from.slice();
  const buf = new Float32Array(coords.length);
  const t0 = performance.now();
  for (;;) {
    await nextFrame();
    if (!live()) return;
    const t = Math.min(1, (performance.now() - t0) / MORPH_MS);
    if (t >= 1) return;
    const e = t * t * (3 - 2 * t);
    for (let i = 0; i < buf.length; i++) buf[i] = start[i] + (coords[i] - start[i]) * e;
    scene.setCoords(buf, dims, { keepView: true });
  }
}
