// Projections of the open dataset: which one to show on open, running one, following a
// running job frame by frame (jobs.js), switching 2D/3D, and the projection a training
// step inherits from the step before it.

import * as api from '../api.js';
import { FINAL, FrameLoader, followJob } from './jobs.js';
import { morphTo } from './morph.js';

/** Datasets up to this many floats get a PCA without the user pressing Run. */
export const AUTO_PCA_FLOATS = 256_000_000;
/** Methods whose layout can start from another projection's (`init_from`). */
const ALIGNABLE = new Set(['tsne', 'umap']);
/** Coordinates a job may not have yet while it starts. */
const NOT_YET = new Set([404, 409, 425, 503]);

/**
 * @typedef {object} ShowOptions
 * @property {number} [point] select this point once the first frame is on screen
 * @property {boolean} [keepView] keep the camera (stepping through a sequence)
 * @property {boolean} [quiet] no overlay over the old picture while loading
 * @property {import('../types').CameraState} [cam] camera to restore (a link)
 * @property {boolean} [keepForm] leave the panel's method and parameters as the user set them
 */

/** @typedef {{projection: import('../types').Projection | null, n: number}} Follow the view a training step leaves behind */

let viewAbort = new AbortController();
/** Bumped by every request to show or run a projection: an older request that answers late is dropped. */
let intent = 0;

/** Stop following the projection on screen. */
export function stopFollowing() {
  viewAbort.abort();
}

/** @param {import('../types').Projection} p */
const framesReady = (p) => p.status === 'done' || p.status === 'cancelled' || (p.iteration ?? 0) > 0;

/** Parameters without the starting layout, as a comparable key. @param {Record<string, any> | undefined} params */
function paramsKey(params) {
  const entries = Object.entries(params ?? {}).filter(([k]) => k !== 'init_from').sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(entries);
}

/**
 * Whether projection `p` was computed with the parameters of the form: those it sets, and the
 * server's defaults for the others (a null default, resolved by the server, matches anything).
 * @param {import('../types').Projection} p @param {Record<string, any>} params @param {Record<string, any>} specs
 */
function matchesForm(p, params, specs) {
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === 'projection_id') continue;
    const want = name in params ? params[name] : spec.default;
    if (want !== null && JSON.stringify(p.params?.[name]) !== JSON.stringify(want)) return false;
  }
  return true;
}

/**
 * Show a projection: its coordinates, or every new frame while it runs, until it ends or
 * another projection or dataset replaces it.
 * @param {import('./state.js').App} app @param {import('../types').Projection} p @param {ShowOptions} [opts]
 */
export async function showProjection(app, p, opts = {}) {
  const { state, bus, scene, panels } = app;
  intent++;
  viewAbort.abort();
  const own = new AbortController();
  viewAbort = own;
  const signal = AbortSignal.any([own.signal, state.datasetAbort.signal]);
  const live = () => !signal.aborted;
  state.projection = p;
  state.iteration = null;
  bus.emit('projection:update', { projection: p, keepForm: !!opts.keepForm });
  app.syncUrl();
  let first = true;
  /** @param {string | null} text @param {{loading?: boolean, error?: boolean}} [kind] */
  const say = (text, kind = {}) => (opts.quiet && !kind.error ? bus.emit('status', { text: text ?? '' }) : panels.status.setEmpty(text, kind));

  /** @param {{coords: Float32Array, n: number, dims: number, iteration: number | null}} frame */
  const onFrame = async (frame) => {
    const current = /** @type {import('../types').Projection} */ (state.projection);
    const running = !FINAL.has(current.status);
    if (!first && running && frame.iteration === state.iteration) return;
    if (first && opts.keepView && !running) {
      await morphTo(scene, frame.coords, frame.dims, live);
      if (!live()) return;
    }
    const wasFirst = first;
    first = false;
    state.iteration = frame.iteration;
    scene.setCoords(frame.coords, frame.dims, { keepView: !wasFirst || !!opts.keepView });
    if (wasFirst) {
      state.shownDataset = current.dataset ?? state.dataset?.id ?? null;
      if (opts.cam && opts.cam.dims === frame.dims) scene.setCamera(opts.cam);
      say(null);
    }
    bus.emit('coords:shown', { projection: current, n: frame.n, dims: frame.dims, iteration: frame.iteration, first: wasFirst });
    if (wasFirst && opts.point !== undefined && opts.point >= 0 && opts.point < frame.n) bus.emit('point:select', { index: opts.point });
  };
  const frames = new FrameLoader(p.id, signal, onFrame);

  /** Fetch the latest frame; false when there is none (yet) or it failed (reported). */
  const load = async () => {
    try {
      await frames.request();
      return true;
    } catch (error) {
      if (!live()) return false;
      const starting = !FINAL.has(state.projection?.status ?? 'done') && error instanceof api.ApiError && NOT_YET.has(error.status);
      if (!starting) {
        bus.emit('error', { title: 'Could not load coordinates', error });
        if (first) say('The coordinates could not be loaded.', { error: true });
      }
      return false;
    }
  };
  /** @param {import('../types').Projection} q */
  const failed = (q) => {
    bus.emit('error', { title: `${panels.projection.title(q.method)} failed`, error: { code: 'projection_failed', detail: q.error ?? 'no detail' } });
    say(first ? 'The projection failed; see the error above.' : null, { error: first });
    refreshProjectionList(app);
  };

  if (p.status === 'failed') return failed(p);
  const running = !FINAL.has(p.status);
  say(running ? `${panels.projection.title(p.method)} ${p.status}… the first frame appears soon` : 'Loading coordinates…', { loading: true });
  if (!running) {
    await load();
    if (live() && p.status === 'cancelled') bus.emit('status', { text: 'Projection stopped; showing its last frame.' });
    return;
  }
  if (framesReady(p)) load();
  let last;
  try {
    last = await followJob(p, (next, channel) => {
      state.projection = next;
      bus.emit('projection:update', { projection: next, channel });
      if (!FINAL.has(next.status) && framesReady(next) && next.iteration !== state.iteration) load();
    }, signal);
  } catch (error) {
    if (live()) bus.emit('error', { title: 'Lost track of the projection', error });
    return;
  }
  if (!live()) return;
  await frames.idle();
  if (!live()) return;
  if (last.status === 'failed') return failed(last);
  await load(); // the final layout (or a cancelled job's last frame)
  if (!live()) return;
  if (last.status === 'cancelled') bus.emit('status', { text: 'Projection stopped; showing its last frame.' });
  refreshProjectionList(app);
}

/**
 * Start (or find the cached) projection of the open dataset and show it.
 * @param {import('./state.js').App} app
 * @param {{method: string, dims: number, params: Record<string, any>}} req @param {ShowOptions} [opts]
 */
export async function runProjection(app, req, opts = {}) {
  const { state, bus, panels } = app;
  const dataset = state.dataset;
  if (!dataset) return;
  const gen = state.generation;
  const mine = ++intent;
  const stale = () => gen !== state.generation || mine !== intent;
  const text = `Starting ${panels.projection.title(req.method)}…`;
  if (opts.quiet) bus.emit('status', { text });
  else panels.status.setEmpty(text, { loading: true });
  try {
    let p;
    try {
      p = await api.createProjection(dataset.id, req);
    } catch (error) {
      // A starting layout the server refuses (gone, or not comparable): start afresh.
      if (!(req.params?.init_from && error instanceof api.ApiError && error.status === 400 && /init_from/.test(error.detail))) throw error;
      if (stale()) return;
      const { init_from: _, ...params } = req.params;
      p = await api.createProjection(dataset.id, { ...req, params });
    }
    if (stale()) return;
    const shown = showProjection(app, p, opts);
    refreshProjectionList(app);
    await shown;
  } catch (error) {
    if (stale()) return;
    bus.emit('error', { title: `Could not run ${panels.projection.title(req.method)}`, error });
    panels.status.setEmpty(state.projection ? null : 'The projection could not be started; see the error above.', { error: !state.projection });
  }
}

/** Re-read the open dataset's projections into the panel's list. @param {import('./state.js').App} app */
export async function refreshProjectionList(app) {
  const { state, panels } = app;
  const dataset = state.dataset;
  if (!dataset) return;
  try {
    const list = await api.listProjections(dataset.id, state.datasetAbort.signal);
    if (list && state.dataset === dataset) panels.projection.setProjections(list, state.projection?.id);
  } catch { /* the list is a convenience; errors were shown when opening */ }
}

/**
 * A freshly opened dataset: the projection asked for, else the running or newest finished
 * one, else a PCA when it is cheap; anything heavier waits for Run.
 * @param {import('./state.js').App} app @param {import('../types').Dataset} dataset
 * @param {import('../types').Projection[]} list @param {import('../urlstate.js').UrlState} want
 */
export async function openProjection(app, dataset, list, want) {
  const { state, bus, panels } = app;
  const gen = state.generation;
  if (want.projection) {
    try {
      const p = await api.getProjection(want.projection, state.datasetAbort.signal);
      if (gen !== state.generation) return;
      if (p.dataset && p.dataset !== dataset.id) throw new api.ApiError(400, 'wrong_dataset', `projection ${p.id} belongs to dataset ${p.dataset}`, '');
      return showProjection(app, p, { point: want.point, cam: want.cam });
    } catch (error) {
      if (gen !== state.generation) return;
      bus.emit('error', { title: `Projection ${want.projection}`, error });
    }
  }
  const usable = list.filter((p) => p.status === 'done' || p.status === 'running');
  const pick = usable.find((p) => p.status === 'running') ?? usable[usable.length - 1];
  if (pick) return showProjection(app, pick, { point: want.point });
  if (dataset.n * dataset.dim <= AUTO_PCA_FLOATS) return runProjection(app, { method: 'pca', dims: panels.projection.dims, params: {} }, { point: want.point });
  panels.status.setEmpty(`No projection of ${dataset.name} yet. Choose a method and press Run.`);
}

/**
 * 2D/3D switched in the panel: show the same method in the other dims if it was computed,
 * else run it when it is a PCA, else show a PCA until the user presses Run.
 * @param {import('./state.js').App} app @param {{method: string, dims: number, params: Record<string, any>}} req
 */
export async function switchDims(app, req) {
  const { state, bus, panels } = app;
  const dataset = state.dataset;
  if (!dataset || state.projection?.dims === req.dims && state.projection?.method === req.method) return;
  const gen = state.generation;
  let list = [];
  try {
    list = (await api.listProjections(dataset.id, state.datasetAbort.signal)) ?? [];
  } catch { /* nothing to reuse: compute */ }
  if (gen !== state.generation) return;
  const specs = panels.projection.methods[req.method]?.params ?? {};
  const same = list.filter((p) => p.method === req.method && p.dims === req.dims && (p.status === 'done' || p.status === 'running') &&
    matchesForm(p, req.params, specs));
  const found = same.find((p) => p.status === 'done') ?? same[0];
  if (found) return showProjection(app, found);
  if (req.method === 'pca') return runProjection(app, req);
  if (dataset.n * dataset.dim > AUTO_PCA_FLOATS) return;
  await runProjection(app, { method: 'pca', dims: req.dims, params: {} }, { keepForm: true });
  if (gen === state.generation && state.projection?.method === 'pca' && panels.projection.method.value === req.method) {
    bus.emit('status', { text: `Showing a PCA in ${req.dims}D; press Run for ${panels.projection.title(req.method)} ${req.dims}D.` });
  }
}

/**
 * Stepping to another dataset of a sequence: show its projection of the same method, dims and
 * params if there is one; otherwise compute it, t-SNE and UMAP starting from the layout on
 * screen (`init_from`) so the picture morphs instead of jumping.
 * @param {import('./state.js').App} app @param {import('../types').Dataset} dataset
 * @param {import('../types').Projection[]} list @param {Follow} follow @param {number} [point]
 */
export async function followProjection(app, dataset, list, follow, point) {
  const prev = /** @type {import('../types').Projection} */ (follow.projection);
  const key = paramsKey(prev.params);
  const same = list.filter((p) => p.method === prev.method && p.dims === prev.dims && paramsKey(p.params) === key && !['failed', 'cancelled'].includes(p.status));
  const opts = { keepView: true, quiet: follow.n === dataset.n, point };
  const found = same.find((p) => p.status === 'done') ?? same[0];
  if (found) return showProjection(app, found, opts);
  /** @type {Record<string, any>} */
  const params = { ...prev.params };
  delete params.init_from;
  if (ALIGNABLE.has(prev.method) && follow.n === dataset.n) {
    // The layout on screen if finished; while it still runs, the one it started from.
    const start = prev.status === 'done' ? prev.id : prev.params?.init_from;
    if (start) params.init_from = start;
  }
  return runProjection(app, { method: prev.method, dims: prev.dims, params }, opts);
}

/** Bus handlers: Run, Stop, picking a computed projection, 2D/3D. @param {import('./state.js').App} app */
export function install(app) {
  const { bus, state } = app;
  bus.on('projection:run', (req) => runProjection(app, req));
  bus.on('projection:dims', (req) => switchDims(app, req));
  bus.on('projection:select', async ({ id }) => {
    const gen = state.generation;
    const mine = ++intent;
    try {
      const p = await api.getProjection(id, state.datasetAbort.signal);
      if (gen === state.generation && mine === intent) await showProjection(app, p);
    } catch (error) {
      if (gen === state.generation) bus.emit('error', { title: `Projection ${id}`, error });
    }
  });
  bus.on('projection:stop', async () => {
    const p = state.projection;
    if (!p) return;
    try {
      await api.cancelProjection(p.id);
    } catch (error) {
      bus.emit('error', { title: 'Could not stop the projection', error });
    }
  });
}
