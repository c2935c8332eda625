// The open view as a URL: everything needed to reopen it (dataset, projection, point,
// colouring, search with its flag and column, neighbour settings, thumbnails, camera).
// Writes are spaced out: browsers throttle history.replaceState, and the camera moves often.

import { writeUrl } from '../urlstate.js';
import { homeCamera } from '../camera.js';
import { DEFAULT_NEIGHBORS } from './state.js';

/** Least time between two writes (Chromium allows about 100 per 10 seconds). */
const URL_GAP_MS = 150;

/** The camera, unless it is the home view of the projection on screen. @param {import('../scene.js').Scene} scene */
function movedCamera(scene) {
  if (!scene.coords) return undefined;
  const cam = scene.camera;
  const home = homeCamera(/** @type {2|3} */ (scene.dims));
  const same = (/** @type {number} */ a, /** @type {number} */ b) => Math.abs(a - b) < 1e-4;
  const atHome = cam.dims === home.dims && same(cam.yaw, home.yaw) && same(cam.pitch, home.pitch) &&
    same(cam.distance, home.distance) && same(cam.zoom, home.zoom) && cam.target.every((v, i) => same(v, home.target[i]));
  return atHome ? undefined : cam;
}

/**
 * @param {import('./state.js').ViewState} state @param {import('../scene.js').Scene} scene
 * @returns {import('../urlstate.js').UrlState}
 */
export function urlStateOf(state, scene) {
  const { k, metric } = state.neighborParams;
  return {
    dataset: state.dataset?.id,
    projection: state.projection?.id,
    point: state.selected >= 0 ? state.selected : undefined,
    // Once a dataset is open its colouring is a choice, none included.
    color: state.dataset ? state.color : undefined,
    label: state.dataset ? state.label : undefined,
    q: state.search?.q,
    regex: state.search?.regex,
    column: state.search?.column,
    k: k !== DEFAULT_NEIGHBORS.k ? k : undefined,
    metric: metric !== DEFAULT_NEIGHBORS.metric ? metric : undefined,
    thumbs: state.sprites && !!state.sprite,
    selection: state.selection || undefined,
    // A camera only means something for the projection it was taken on.
    cam: state.projection && state.shownDataset === state.dataset?.id ? movedCamera(scene) : undefined,
  };
}

/**
 * The two URL writers of the App: `sync` (now, or a moment later when the last write was
 * very recent, as while the camera moves) and `flush` (now).
 * @param {import('./state.js').ViewState} state @param {import('../scene.js').Scene} scene
 */
export function urlWriter(state, scene) {
  let timer = 0;
  let last = -Infinity;
  const flush = () => {
    clearTimeout(timer);
    timer = 0;
    last = performance.now();
    writeUrl(urlStateOf(state, scene));
  };
  const sync = () => {
    if (timer) return;
    const wait = last + URL_GAP_MS - performance.now();
    if (wait <= 0) flush();
    else timer = window.setTimeout(flush, wait);
  };
  return { sync, flush };
}

/** Toolbar view controls, and the URL kept in step with the camera. @param {import('./state.js').App} app */
export function install(app) {
  const { state, bus, scene, panels } = app;
  bus.on('view:reset', () => scene.resetView());
  bus.on('view:pointsize', ({ size }) => scene.setPointSize(size));
  bus.on('view:mode', ({ sprites }) => {
    state.sprites = sprites;
    scene.setSprites(sprites && !!state.sprite);
    app.syncUrl();
  });
  bus.on('camera:change', () => app.syncUrl());
  // Frame-time readout, refreshed a few times a second at most.
  setInterval(() => panels.toolbar.setInfo(scene.n, scene.stats.lastFrameMs), 500);
}
