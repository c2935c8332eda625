// Wiring: state of the open view, API calls, and the bus between panels and
// the scene. Panels never call each other; they emit and listen here.

import * as api from './api.js';
import { EventBus } from './events.js';
import { Scene } from './scene.js';
import { Metadata } from './data/metadata.js';
import { readUrl, writeUrl } from './urlstate.js';
import { toCsv, toNpy, selectionCsv, download } from './export.js';
import { StatusPanel } from './ui/status.js';
import { DatasetsPanel } from './ui/datasets.js';
import { ProjectionPanel } from './ui/projection.js';
import { ColorPanel } from './ui/colorby.js';
import { SearchPanel } from './ui/search.js';
import { InspectorPanel } from './ui/inspector.js';
import { Tooltip } from './ui/tooltip.js';
import { Toolbar } from './ui/toolbar.js';
import { BookmarksPanel } from './ui/bookmarks.js';

/** Datasets up to this many floats get a PCA on first open; larger ones wait for Run. */
const AUTO_PCA_FLOATS = 4_000_000;
const POLL_MS = 250;
const FINAL = new Set(['done', 'failed', 'cancelled']);
/** Methods whose layout can start from another projection's (`init_from`). */
const ALIGNABLE = new Set(['tsne', 'umap']);
/** Pause on each finished step while playing a sequence. */
const PLAY_PAUSE_MS = 700;
/** Stepping between finished layouts of the same size tweens the points for this long. */
const MORPH_MS = 450;
const MORPH_MAX_POINTS = 200_000;

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

const bus = new EventBus();
const status = new StatusPanel(bus, { errors: $('errors'), status: $('status'), empty: $('empty') });

/** Everything about the open view. */
const state = {
  /** @type {import('./types').Dataset | null} */ dataset: null,
  /** @type {import('./types').Projection | null} */ projection: null,
  /** @type {Metadata | null} */ metadata: null,
  /** @type {import('./ui/thumb.js').SpriteInfo | null} */ sprite: null,
  color: '',
  label: '',
  selected: -1,
  /** @type {{index: number, distance: number}[]} */ neighbors: [],
  neighborParams: { k: 10, metric: 'cosine' },
  /** @type {Uint32Array | number[]} */ matches: [],
  matchCount: 0,
  query: '',
  isolated: false,
  iteration: /** @type {number | null} */ (null),
  loadToken: 0,
  pollToken: 0,
};

/** @type {Scene | null} */
let scene = null;
try {
  scene = new Scene(/** @type {HTMLCanvasElement} */ ($('scatter')), /** @type {HTMLCanvasElement} */ ($('overlay')), bus);
} catch (error) {
  status.setEmpty(String(/** @type {Error} */ (error).message), { error: true });
  bus.emit('error', { title: 'Cannot draw', error });
}

const datasetsPanel = new DatasetsPanel(bus, $('datasets'));
const projectionPanel = new ProjectionPanel(bus, $('projection-panel'));
const colorPanel = new ColorPanel(bus, $('color-panel'), $('legend-numeric'), () => state.metadata);
const searchPanel = new SearchPanel(bus, $('search-panel'));
new InspectorPanel(bus, $('inspector-panel'), () => state.metadata, () => state.sprite);
new Tooltip(bus, $('tooltip'), () => state.metadata, () => state.sprite);
const toolbar = new Toolbar(bus, $('toolbar'));
const bookmarksPanel = new BookmarksPanel(bus, $('bookmarks-panel'));

function syncUrl() {
  writeUrl({
    dataset: state.dataset?.id,
    projection: state.projection?.id,
    point: state.selected >= 0 ? state.selected : undefined,
    color: state.color,
    label: state.label,
    q: state.query,
  });
}

function refreshHighlightUi() {
  if (!scene) return;
  toolbar.setIsolated(state.isolated, scene.hasHighlight() ? 1 : 0);
}

// ---- datasets ------------------------------------------------------------------------

/**
 * @typedef {{projection: import('./types').Projection | null, n: number}} Follow
 * The view left behind when stepping through a sequence: its projection (method, dims,
 * params, and the layout to start from) and its number of points.
 */

/**
 * Open a dataset and (optionally) a given projection, point and colouring. With
 * `follow` (another step of a sequence) the picture, camera and colouring stay up
 * while the step's projection of the same kind is found or computed.
 * @param {string} id @param {import('./urlstate.js').UrlState} [want] @param {Follow | null} [follow]
 */
async function openDataset(id, want = {}, follow = null) {
  const token = ++state.loadToken;
  state.pollToken++;
  state.metadata?.dispose();
  Object.assign(state, { dataset: null, projection: null, metadata: null, sprite: null, selected: -1, neighbors: [], matches: [], matchCount: 0, query: '', isolated: false, iteration: null });
  state.color = want.color ?? '';
  state.label = want.label ?? '';
  if (follow) bus.emit('status', { text: 'Loading step…' });
  else {
    status.setEmpty('Loading dataset…', { loading: true });
    bus.emit('legend:update', { legend: null });
  }
  colorPanel.setColumns(null);
  bus.emit('point:select', null);
  projectionPanel.setCurrent(null);
  bookmarksPanel.setBookmarks(null);
  let dataset;
  try {
    dataset = await api.getDataset(id);
  } catch (error) {
    if (token !== state.loadToken) return;
    status.setEmpty('This dataset could not be opened.', { error: true });
    bus.emit('error', { title: `Dataset ${id}`, error });
    return;
  }
  if (token !== state.loadToken) return;
  state.dataset = dataset;
  bus.emit('dataset:loaded', { dataset });
  projectionPanel.setDataset(dataset);
  searchPanel.setDataset(dataset.id, dataset.n);
  searchPanel.setColumns(dataset.columns ?? []);
  syncUrl();

  loadMetadata(dataset, token, want, !!follow);
  loadSprite(dataset, token);
  loadBookmarks(dataset, token);

  // Which projection to show: the one asked for, else the newest finished one,
  // else a PCA when it is cheap; anything heavier waits for Run.
  let list = null;
  try {
    list = await api.listProjections(dataset.id);
  } catch (error) {
    bus.emit('error', { title: 'Could not list projections', error });
  }
  if (token !== state.loadToken) return;
  projectionPanel.setProjections(list ?? [], want.projection);
  if (follow?.projection) {
    await followProjection(dataset, list ?? [], follow, want.point);
    return;
  }
  if (want.projection) {
    try {
      const p = await api.getProjection(want.projection);
      if (token !== state.loadToken) return;
      if (p.dataset && p.dataset !== dataset.id) throw new api.ApiError(400, 'wrong_dataset', `projection ${p.id} belongs to dataset ${p.dataset}`, '');
      await showProjection(p, want.point);
      return;
    } catch (error) {
      if (token !== state.loadToken) return;
      bus.emit('error', { title: `Projection ${want.projection}`, error });
    }
  }
  const done = (list ?? []).filter((p) => p.status === 'done' || p.status === 'running');
  const pick = done.find((p) => p.status === 'running') ?? done[done.length - 1];
  if (pick) {
    await showProjection(pick, want.point);
  } else if (dataset.n * dataset.dim <= AUTO_PCA_FLOATS) {
    await runProjection({ method: 'pca', dims: 3, params: {} }, want.point);
  } else {
    status.setEmpty(`No projection of ${dataset.name} yet. Choose a method and press Run.`);
  }
}

/**
 * @param {import('./types').Dataset} dataset @param {number} token @param {import('./urlstate.js').UrlState} want
 * @param {boolean} [keep] stepping: keep the colouring as it is (none included), no defaults
 */
async function loadMetadata(dataset, token, want, keep = false) {
  const meta = new Metadata();
  state.metadata = meta;
  try {
    const t0 = performance.now();
    const info = await meta.load(dataset.id, dataset.column_types ?? null);
    if (token !== state.loadToken) return;
    hook.metadataMs = performance.now() - t0;
    const names = info.columns.map((c) => c.name);
    let color = state.color && names.includes(state.color) ? state.color : '';
    if (!state.color && !keep) {
      // Default: the first categorical column with a manageable number of categories.
      const c = info.columns.find((c) => c.kind === 'categorical' && (c.cardinality ?? 0) > 1 && (c.cardinality ?? 0) <= 1000 && c.name !== 'index');
      color = c?.name ?? '';
    }
    let label = state.label && names.includes(state.label) ? state.label : '';
    if (!state.label && !keep) label = info.columns.find((c) => c.name !== 'index')?.name ?? '';
    colorPanel.setColumns(info.columns, color, label);
    bus.emit('metadata:ready', { columns: info.columns });
    // Stepping re-applies even "none": the previous step's colours are still on screen.
    if (label || keep) bus.emit('label:by', { column: label });
    if (color || keep) bus.emit('color:by', { column: color });
    if (want.q) searchPanel.run(want.q);
  } catch (error) {
    if (token !== state.loadToken) return;
    colorPanel.setColumns([]);
    bus.emit('error', { title: 'Metadata could not be loaded', error });
  }
}

/** @param {import('./types').Dataset} dataset @param {number} token */
async function loadSprite(dataset, token) {
  toolbar.setSpritesAvailable(false);
  if (dataset.sprite === null) return;
  const url = api.spriteUrl(dataset.id);
  const img = new Image();
  img.src = url;
  try {
    await img.decode();
  } catch {
    // No sprite is a normal answer (404) when the dataset object does not say.
    if (dataset.sprite) bus.emit('error', { title: 'Sprite sheet', error: new Error('the sprite image could not be loaded') });
    return;
  }
  if (token !== state.loadToken) return;
  const [tileW, tileH] = dataset.sprite?.dim ?? [img.naturalWidth, img.naturalHeight];
  state.sprite = { url, width: img.naturalWidth, height: img.naturalHeight, tileW, tileH, cols: Math.max(1, Math.floor(img.naturalWidth / tileW)) };
  try {
    scene?.renderer.setSprite(img, tileW, tileH);
    toolbar.setSpritesAvailable(true);
  } catch (error) {
    bus.emit('error', { title: 'Thumbnails unavailable', error });
  }
}

/** The bookmarks list, for datasets whose logdir config names a bookmarks file. @param {import('./types').Dataset} dataset @param {number} token */
async function loadBookmarks(dataset, token) {
  if (!dataset.has_bookmarks) return;
  try {
    const list = await api.getBookmarks(dataset.id);
    if (token !== state.loadToken) return;
    bookmarksPanel.setBookmarks(Array.isArray(list) ? list : []);
  } catch (error) {
    if (token !== state.loadToken) return;
    bus.emit('error', { title: 'Bookmarks', error });
  }
}

// ---- projections ------------------------------------------------------------------------

/** @typedef {{keepView?: boolean, quiet?: boolean}} ShowOptions keepView: keep the camera on the first frame; quiet: no overlay over the old picture */

/** Parameters without the starting layout, as a comparable key. @param {Record<string, any> | undefined} params */
function paramsKey(params) {
  const entries = Object.entries(params ?? {}).filter(([k]) => k !== 'init_from').sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(entries);
}

/**
 * Stepping to another dataset of a sequence: show its projection of the same method, dims and
 * params if there is one; otherwise compute it, t-SNE and UMAP starting from the layout on
 * screen (`init_from`) so the picture morphs instead of jumping.
 * @param {import('./types').Dataset} dataset @param {import('./types').Projection[]} list @param {Follow} follow @param {number} [point]
 */
async function followProjection(dataset, list, follow, point) {
  const prev = /** @type {import('./types').Projection} */ (follow.projection);
  const key = paramsKey(prev.params);
  const same = list.filter((p) => p.method === prev.method && p.dims === prev.dims && paramsKey(p.params) === key && !['failed', 'cancelled'].includes(p.status));
  const quiet = follow.n === dataset.n;
  const opts = { keepView: true, quiet };
  const found = same.find((p) => p.status === 'done') ?? same[0];
  if (found) {
    await showProjection(found, point, opts);
    return;
  }
  /** @type {Record<string, any>} */
  const params = { ...prev.params };
  delete params.init_from;
  if (ALIGNABLE.has(prev.method) && follow.n === dataset.n) {
    // The layout on screen if finished; while it still runs, the one it started from.
    const start = prev.status === 'done' ? prev.id : prev.params?.init_from;
    if (start) params.init_from = start;
  }
  await runProjection({ method: prev.method, dims: prev.dims, params }, point, opts);
}

/**
 * @param {{method: string, dims: number, params: Record<string, any>}} req @param {number} [point]
 * @param {ShowOptions} [opts]
 */
async function runProjection(req, point, opts = {}) {
  if (!state.dataset) return;
  const token = state.loadToken;
  if (opts.quiet) bus.emit('status', { text: `Starting ${req.method.toUpperCase()}…` });
  else status.setEmpty(`Starting ${req.method.toUpperCase()}…`, { loading: true });
  try {
    let p;
    try {
      p = await api.createProjection(state.dataset.id, req);
    } catch (error) {
      // A starting layout the server refuses (gone, or not comparable): start afresh.
      if (!(req.params?.init_from && error instanceof api.ApiError && error.status === 400 && /init_from/.test(error.detail))) throw error;
      if (token !== state.loadToken) return;
      const { init_from: _, ...params } = req.params;
      p = await api.createProjection(state.dataset.id, { ...req, params });
    }
    if (token !== state.loadToken) return;
    await showProjection(p, point, opts);
    refreshProjectionList();
  } catch (error) {
    if (token !== state.loadToken) return;
    bus.emit('error', { title: `Could not run ${req.method}`, error });
    status.setEmpty(state.projection ? null : 'The projection could not be started; see the error above.', { error: !state.projection });
  }
}

async function refreshProjectionList() {
  if (!state.dataset) return;
  try {
    const list = await api.listProjections(state.dataset.id);
    if (list) projectionPanel.setProjections(list, state.projection?.id);
  } catch { /* the list is a convenience; errors were shown when opening */ }
}

/**
 * Show a projection: fetch its coordinates, or follow it while it runs.
 * @param {import('./types').Projection} p @param {number} [point] @param {ShowOptions} [opts]
 */
async function showProjection(p, point, opts = {}) {
  const token = ++state.pollToken;
  const loadToken = state.loadToken;
  state.projection = p;
  state.iteration = null;
  bus.emit('projection:update', { projection: p });
  syncUrl();
  let firstFrame = true;
  let pendingPoint = point;
  const live = () => token === state.pollToken && loadToken === state.loadToken;

  while (live()) {
    const current = /** @type {import('./types').Projection} */ (state.projection);
    const running = !FINAL.has(current.status);
    if (current.status === 'failed') {
      status.setEmpty(null);
      bus.emit('error', { title: `${current.method} failed`, error: { code: 'projection_failed', detail: current.error ?? 'no detail' } });
      if (firstFrame) status.setEmpty('The projection failed; see the error above.', { error: true });
      refreshProjectionList();
      return;
    }
    if (firstFrame) {
      const text = running ? `${current.method.toUpperCase()} ${current.status}… the first frame appears soon` : 'Loading coordinates…';
      if (opts.quiet) bus.emit('status', { text });
      else status.setEmpty(text, { loading: true });
    }
    // A running job has frames once it reports an iteration (PCA has none until done).
    const framesReady = !running || (current.iteration ?? 0) > 0;
    if (framesReady && (current.iteration !== state.iteration || firstFrame || !running)) {
      try {
        const c = await api.getCoords(current.id);
        if (!live()) return;
        if (firstFrame || c.iteration !== state.iteration || !running) {
          if (firstFrame && opts.keepView && !running) {
            await morphTo(c.coords, c.dims, live);
            if (!live()) return;
          }
          state.iteration = c.iteration;
          scene?.setCoords(c.coords, c.dims, { keepView: !firstFrame || !!opts.keepView });
          hook.coordsVersion++;
          if (firstFrame) {
            status.setEmpty(null);
            if (opts.quiet) bus.emit('status', { text: '' });
            firstFrame = false;
            refreshHighlightUi();
            if (pendingPoint !== undefined && pendingPoint >= 0 && pendingPoint < c.n) bus.emit('point:select', { index: pendingPoint });
            pendingPoint = undefined;
            if (state.matches.length) scene?.setMatches(state.matches);
          }
        }
      } catch (error) {
        if (!live()) return;
        // While a job is starting the server may not have a frame yet.
        const expected = running && error instanceof api.ApiError && [404, 409, 425, 503].includes(error.status);
        if (!expected) {
          bus.emit('error', { title: 'Could not load coordinates', error });
          if (firstFrame) status.setEmpty('The coordinates could not be loaded.', { error: true });
          return;
        }
      }
    }
    if (!running) {
      if (current.status === 'cancelled') bus.emit('status', { text: 'Projection stopped; showing its last frame.' });
      refreshProjectionList();
      return;
    }
    await sleep(POLL_MS);
    if (!live()) return;
    try {
      state.projection = await api.getProjection(current.id);
      if (!live()) return;
      bus.emit('projection:update', { projection: state.projection });
    } catch (error) {
      if (!live()) return;
      bus.emit('error', { title: 'Lost track of the projection', error });
      return;
    }
  }
}

/** Next animation frame, or a short timeout where frames do not come (hidden tab). */
const nextFrame = () => new Promise((resolve) => {
  const t = setTimeout(resolve, 50);
  requestAnimationFrame(() => { clearTimeout(t); resolve(undefined); });
});

/**
 * Tween the points from the layout on screen to `coords` (same size and dims), camera kept:
 * a finished step shown after another one moves instead of jumping.
 * @param {Float32Array} coords @param {number} dims @param {() => boolean} live
 */
async function morphTo(coords, dims, live) {
  const from = scene?.coords;
  if (!scene || !from || scene.dims !== dims || from.length !== coords.length || coords.length / dims > MORPH_MAX_POINTS) return;
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

// ---- selection, neighbours, search ------------------------------------------------------------

let neighborSeq = 0;
async function loadNeighbors() {
  if (!state.dataset || state.selected < 0) return;
  const seq = ++neighborSeq;
  const index = state.selected;
  try {
    const res = await api.getNeighbors(state.dataset.id, { index, k: state.neighborParams.k, metric: state.neighborParams.metric });
    if (seq !== neighborSeq || state.selected !== index) return;
    state.neighbors = res.neighbors;
    scene?.setSelection(index, res.neighbors.map((n) => n.index));
    hook.neighborsVersion++;
    bus.emit('neighbors:result', res);
    refreshHighlightUi();
  } catch (error) {
    if (seq !== neighborSeq) return;
    bus.emit('neighbors:result', null);
    bus.emit('error', { title: 'Nearest neighbours', error });
  }
}

bus.on('point:select', (sel) => {
  const index = sel ? sel.index : -1;
  if (index === state.selected && index >= 0) return;
  state.selected = index;
  state.neighbors = [];
  scene?.setSelection(index, []);
  if (index < 0) bus.emit('neighbors:result', null);
  else loadNeighbors();
  refreshHighlightUi();
  syncUrl();
});

bus.on('neighbors:params', ({ k, metric }) => {
  state.neighborParams = { k, metric };
  loadNeighbors();
});

bus.on('search:result', (res) => {
  state.matches = res ? res.indices : [];
  state.matchCount = res ? res.count : 0;
  state.query = res && !res.derived && !res.query.includes(' = ') ? res.query : '';
  scene?.setMatches(state.matches);
  hook.searchVersion++;
  if (!res && state.isolated) bus.emit('view:isolate', { on: false });
  refreshHighlightUi();
  syncUrl();
});

// ---- colour and labels ------------------------------------------------------------------------

let colorSeq = 0;
bus.on('color:by', async ({ column }) => {
  state.color = column;
  colorPanel.setValues(state.color, state.label);
  syncUrl();
  const seq = ++colorSeq;
  if (!column || !state.metadata?.info) {
    scene?.setColors(null);
    bus.emit('legend:update', { legend: null });
    hook.colorVersion++;
    return;
  }
  try {
    const { rgba, legend } = await state.metadata.colorBy(column);
    if (seq !== colorSeq) return;
    if (scene && scene.n && rgba.length !== scene.n * 4) {
      throw new Error(`metadata has ${rgba.length / 4} rows but the projection has ${scene.n} points`);
    }
    scene?.setColors(rgba);
    bus.emit('legend:update', { legend });
    hook.colorVersion++;
  } catch (error) {
    bus.emit('error', { title: `Colour by ${column}`, error });
  }
});

bus.on('label:by', ({ column }) => {
  state.label = column;
  colorPanel.setValues(state.color, state.label);
  // The provider outlives this dataset (stepping keeps the picture while the next one loads):
  // it reads the metadata open at call time, and rejects (skipped by the scene) when none is.
  scene?.setLabels(column, column && state.metadata ? async (indices) => {
    if (!state.metadata) throw new Error('no metadata open');
    return state.metadata.labels(column, indices);
  } : null);
  syncUrl();
});

// ---- view ----------------------------------------------------------------------------------------

bus.on('view:reset', () => scene?.resetView());
bus.on('view:mode', ({ sprites }) => scene?.setSprites(sprites));
bus.on('view:pointsize', ({ size }) => scene?.setPointSize(size));
bus.on('view:isolate', ({ on }) => {
  if (!scene) return;
  state.isolated = on && scene.hasHighlight();
  scene.setIsolate(state.isolated);
  refreshHighlightUi();
});

bus.on('dataset:select', ({ id }) => openDataset(id));

// ---- training steps: stepping, Play, bookmarks ---------------------------------------------------

/** What the last step left behind, for a step taken before the previous one has shown anything. @type {Follow | null} */
let lastFollow = null;

/** Open another step of the open sequence with the same method, dims, params, colouring and camera. @param {string} id */
function stepTo(id) {
  const follow = state.projection && state.dataset ? { projection: state.projection, n: state.dataset.n } : lastFollow;
  lastFollow = follow;
  /** @type {import('./urlstate.js').UrlState} */
  const want = { color: state.color, label: state.label };
  if (state.query) want.q = state.query;
  if (state.selected >= 0) want.point = state.selected;
  return openDataset(id, want, follow);
}
bus.on('dataset:step', ({ id }) => stepTo(id));

let playToken = 0;
let playing = false;

function stopPlay() {
  playToken++;
  playing = false;
  datasetsPanel.setPlaying(false);
}

/** Until the projection on screen is finished (or the view changed under us). @param {number} token */
async function settled(token) {
  while (token === playToken && state.projection && !FINAL.has(state.projection.status)) await sleep(POLL_MS);
}

/** Walk through the steps of the open sequence, each one's projection finished before the next. */
async function play() {
  const token = ++playToken;
  playing = true;
  datasetsPanel.setPlaying(true);
  // Training may have written steps since the page opened.
  try {
    const fresh = await api.listDatasets();
    if (token !== playToken) return;
    datasetsPanel.setDatasets(fresh, state.dataset?.id);
  } catch { /* play the steps known */ }
  const steps = datasetsPanel.steps;
  if (!steps.length) return stopPlay();
  let i = steps.findIndex((d) => d.id === state.dataset?.id);
  if (i < 0 || i >= steps.length - 1) {
    // At the end (or elsewhere): start again from the first step.
    i = 0;
    await stepTo(steps[0].id);
  }
  while (token === playToken) {
    await settled(token);
    if (token !== playToken) return;
    if (!state.projection || state.projection.status === 'failed' || i >= steps.length - 1) break;
    await sleep(PLAY_PAUSE_MS);
    if (token !== playToken) return;
    i++;
    await stepTo(steps[i].id);
  }
  if (token === playToken) stopPlay();
}
bus.on('sequence:play', ({ on }) => (on ? play() : stopPlay()));

bus.on('bookmark:apply', ({ bookmark }) => {
  const n = state.dataset?.n ?? 0;
  const label = String(bookmark.label ?? 'bookmark');
  const column = bookmark.selectedColorOptionName;
  const names = state.metadata?.info?.columns.map((c) => c.name) ?? [];
  if (typeof column === 'string' && names.includes(column) && column !== state.color) bus.emit('color:by', { column });
  const points = Array.isArray(bookmark.selectedPoints) ? bookmark.selectedPoints.filter((i) => Number.isInteger(i) && i >= 0 && i < n) : [];
  if (points.length) bus.emit('highlight:points', { indices: Uint32Array.from(points), label: `bookmark “${label}”` });
  else searchPanel.reset(true);
  bus.emit('status', { text: `Bookmark: ${label}` });
});
bus.on('projection:run', (req) => runProjection(req));
bus.on('projection:select', async ({ id }) => {
  try {
    await showProjection(await api.getProjection(id));
  } catch (error) {
    bus.emit('error', { title: `Projection ${id}`, error });
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

bus.on('copy-link', async () => {
  syncUrl();
  try {
    await navigator.clipboard.writeText(window.location.href);
    bus.emit('status', { text: 'Link copied.' });
  } catch {
    window.prompt('Copy this link:', window.location.href);
  }
});

bus.on('export', async ({ kind }) => {
  const coords = scene?.coords;
  const p = state.projection;
  if (!coords || !p || !scene) return bus.emit('status', { text: 'Nothing to export yet.' });
  const base = `${state.dataset?.name ?? 'dataset'}-${p.method}-${scene.dims}d`.replace(/[^\w.-]+/g, '_');
  try {
    if (kind === 'coords-npy') download(toNpy(coords, scene.dims), `${base}.npy`);
    else if (kind === 'coords-csv') {
      let labels = null;
      if (state.label && state.metadata?.info) labels = await state.metadata.labels(state.label, Array.from({ length: scene.n }, (_, i) => i));
      download(toCsv(coords, scene.dims, labels, state.label), `${base}.csv`);
    } else if (kind === 'selection-csv') {
      /** @type {{index: number, role: string, distance?: number}[]} */
      const items = [];
      if (state.selected >= 0) items.push({ index: state.selected, role: 'selected' });
      for (const nb of state.neighbors) items.push({ index: nb.index, role: 'neighbor', distance: nb.distance });
      for (const i of state.matches) items.push({ index: i, role: 'match' });
      if (!items.length) return bus.emit('status', { text: 'Select a point or search first: the selection is empty.' });
      const rows = state.metadata?.info ? await state.metadata.rows(items.map((it) => it.index)) : items.map(() => null);
      download(selectionCsv(items, rows), `${base}-selection.csv`);
    }
  } catch (error) {
    bus.emit('error', { title: 'Export failed', error });
  }
});

// Frame-time readout, refreshed a few times a second at most.
setInterval(() => scene && toolbar.setInfo(scene.n, scene.stats.lastFrameMs), 500);

// ---- test and benchmark hook -------------------------------------------------------------------

const hook = {
  coordsVersion: 0,
  colorVersion: 0,
  searchVersion: 0,
  neighborsVersion: 0,
  metadataMs: 0,
  get ready() { return !!scene && scene.stats.pointsDrawn > 0; },
  get pointsDrawn() { return scene?.stats.pointsDrawn ?? 0; },
  get frames() { return scene?.stats.frames ?? 0; },
  get lastFrameMs() { return scene?.stats.lastFrameMs ?? 0; },
  get firstFrameAt() { return scene?.stats.firstFrameAt ?? 0; },
  get lastPickMs() { return scene?.stats.lastPickMs ?? 0; },
  get lastPickBuildMs() { return scene?.picker.lastBuildMs ?? 0; },
  get datasetId() { return state.dataset?.id ?? null; },
  get projectionId() { return state.projection?.id ?? null; },
  get projectionStatus() { return state.projection?.status ?? null; },
  get iteration() { return state.iteration; },
  get selected() { return state.selected; },
  get neighbors() { return state.neighbors.map((n) => n.index); },
  get matchCount() { return state.matchCount; },
  get highlighted() { return scene ? scene.highlightCount() : 0; },
  get color() { return state.color; },
  /** Dataset ids of the open sequence's steps, in order (empty for a lone dataset). */
  get steps() { return datasetsPanel.steps.map((d) => d.id); },
  get playing() { return playing; },
  get bookmarks() { return bookmarksPanel.bookmarks.length; },
  get errors() { return status.shown.slice(); },
  get pickReady() { return !!scene?.picker.index && scene.picker.index.version === scene.cameraVersion; },
  /** Page coordinates (CSS px) of point i. @param {number} i */
  screenOf(i) {
    const p = scene?.screenOf(i);
    if (!p || !scene) return null;
    const r = scene.canvas.getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y, visible: p.visible };
  },
  /** Pick at page coordinates; returns [index, milliseconds]. */
  pickAt(x, y) {
    if (!scene) return [-1, 0];
    const r = scene.canvas.getBoundingClientRect();
    const t0 = performance.now();
    const i = scene.pickAt(x - r.left, y - r.top);
    return [i, performance.now() - t0];
  },
  /** Orbit (3D) and render synchronously as during a drag (full = every point); returns ms. */
  orbitSync(dx, dy, full = false) {
    if (!scene) return 0;
    const t0 = performance.now();
    scene.moving = !full;
    scene.camera = scene.dims === 3 ? { ...scene.camera, yaw: scene.camera.yaw - dx * 0.008, pitch: Math.max(-1.5, Math.min(1.5, scene.camera.pitch + dy * 0.008)) } : scene.camera;
    scene.cameraVersion++;
    scene.renderNow(true);
    scene.moving = false;
    return performance.now() - t0;
  },
  /** Rebuild the pick index for the current camera now. */
  rebuildPickIndex() { scene?._rebuildPickIndex(); },
  bus,
};
/** @type {any} */ (window).__projector = hook;

// ---- start ------------------------------------------------------------------------------------

async function start() {
  const want = readUrl();
  api.getMethods().then((m) => projectionPanel.setMethods(m), (error) => bus.emit('error', { title: 'Could not read the projection methods', error }));
  let datasets;
  try {
    datasets = await api.listDatasets();
  } catch (error) {
    status.setEmpty('The server could not be reached.', { error: true });
    bus.emit('error', { title: 'Could not list datasets', error });
    return;
  }
  datasetsPanel.setDatasets(datasets, want.dataset);
  const id = want.dataset ?? datasets[0]?.id;
  if (!id) {
    status.setEmpty('No datasets yet. Upload one with `projector load FILE` or POST /api/datasets, then reload.');
    return;
  }
  await openDataset(id, want);
}

if (scene) start();
