// Test and benchmark hook: `window.__projector`, a read-out of the app and a few probes into
// the scene. Never loaded by the production page; main.js imports it only when the test or
// benchmark asked for it before the page loaded (`window.__projectorTesting = true`).

/** @param {import('./app/state.js').App} app */
export function install(app) {
  const { bus, scene, state, panels } = app;
  const counts = {
    coordsVersion: 0,
    colorVersion: 0,
    searchVersion: 0,
    neighborsVersion: 0,
    metadataMs: 0,
    /** Projection updates received, by channel ('events' or 'poll'). */
    updates: /** @type {Record<string, number>} */ ({}),
  };
  bus.on('coords:shown', () => counts.coordsVersion++);
  bus.on('colors:applied', () => counts.colorVersion++);
  bus.on('search:result', () => counts.searchVersion++);
  bus.on('neighbors:result', (res) => { if (res) counts.neighborsVersion++; });
  bus.on('metadata:ready', ({ ms }) => { counts.metadataMs = ms; });
  bus.on('projection:update', ({ channel }) => {
    if (channel) counts.updates[channel] = (counts.updates[channel] ?? 0) + 1;
  });

  const hook = {
    get coordsVersion() { return counts.coordsVersion; },
    get colorVersion() { return counts.colorVersion; },
    get searchVersion() { return counts.searchVersion; },
    get neighborsVersion() { return counts.neighborsVersion; },
    get metadataMs() { return counts.metadataMs; },
    get updates() { return { ...counts.updates }; },
    get ready() { return scene.stats.pointsDrawn > 0; },
    get pointsDrawn() { return scene.stats.pointsDrawn; },
    get frames() { return scene.stats.frames; },
    get lastFrameMs() { return scene.stats.lastFrameMs; },
    get firstFrameAt() { return scene.stats.firstFrameAt; },
    get lastPickMs() { return scene.stats.lastPickMs; },
    get lastPickBuildMs() { return scene.picker.lastBuildMs; },
    get n() { return scene.n; },
    get dims() { return scene.dims; },
    get datasetId() { return state.dataset?.id ?? null; },
    get shownDataset() { return state.shownDataset; },
    get projectionId() { return state.projection?.id ?? null; },
    get projectionStatus() { return state.projection?.status ?? null; },
    get projectionMethod() { return state.projection?.method ?? null; },
    get iteration() { return state.iteration; },
    get selected() { return state.selected; },
    get neighbors() { return state.neighbors.map((n) => n.index); },
    get matchCount() { return state.matchCount; },
    get matches() { return Array.from(state.matches); },
    get highlighted() { return scene.highlightCount(); },
    get color() { return state.color; },
    get label() { return state.label; },
    get sprites() { return scene.sprites; },
    get camera() { return JSON.parse(JSON.stringify(scene.camera)); },
    /** Colour of point i as uploaded (RGBA bytes), or null when all share the default. @param {number} i */
    colorOf(i) { return scene.colors ? Array.from(scene.colors.subarray(i * 4, i * 4 + 4)) : null; },
    /** Dataset ids of the open sequence's steps, in order (empty for a lone dataset). */
    get steps() { return panels.datasets.steps.map((d) => d.id); },
    get playing() { return !!app.playing; },
    get bookmarks() { return panels.bookmarks.bookmarks.length; },
    /** Errors shown so far, and those still on screen. */
    get errors() { return panels.status.shown.slice(); },
    get visibleErrors() { return panels.status.visible(); },
    /** Whether points get sampled labels (off while cluster names are drawn). */
    get labelsSampled() { return scene.overlay.sampled; },
    /** Whether the pick index is built in its Worker (large layouts). */
    get pickInWorker() { return !!scene.picker._worker; },
    get pickReady() { return !!scene.picker.index && scene.picker.index.version === scene.cameraVersion; },
    /** Page coordinates (CSS px) of point i. @param {number} i */
    screenOf(i) {
      const p = scene.screenOf(i);
      if (!p) return null;
      const r = scene.canvas.getBoundingClientRect();
      return { x: r.left + p.x, y: r.top + p.y, visible: p.visible };
    },
    /** Pick at page coordinates; returns [index, milliseconds]. @param {number} x @param {number} y */
    pickAt(x, y) {
      const r = scene.canvas.getBoundingClientRect();
      const t0 = performance.now();
      const i = scene.pickAt(x - r.left, y - r.top);
      return [i, performance.now() - t0];
    },
    /** Orbit (3D) and render synchronously as during a drag (full = every point); returns ms. */
    orbitSync(dx = 0, dy = 0, full = false) {
      const t0 = performance.now();
      scene.moving = !full;
      const cam = scene.camera;
      scene.camera = cam.dims === 3 ? { ...cam, yaw: cam.yaw - dx * 0.008, pitch: Math.max(-1.5, Math.min(1.5, cam.pitch + dy * 0.008)) } : cam;
      scene.cameraVersion++;
      scene.renderNow(true);
      scene.moving = false;
      return performance.now() - t0;
    },
    /** The coordinates drawn and the camera's model-view-projection (benchmarks query with them). */
    coords() { return scene.coords; },
    mvp() { return scene.mvp(); },
    /** Rebuild the pick index for the current camera now. */
    rebuildPickIndex() { scene._rebuildPickIndex(); },
    bus,
  };
  /** @type {any} */ (window).__projector = hook;
}
