// Opening a dataset: its object, metadata (in a Worker), sprite sheet, bookmarks and the
// projection to show. Every open bumps `state.generation` and aborts the previous dataset's
// requests, so nothing of a dataset left behind lands on the one now open.

import * as api from '../api.js';
import { Metadata } from '../data/metadata.js';
import { defaultColorColumn } from './colour.js';
import { followProjection, openProjection, stopFollowing } from './projections.js';

/**
 * Open a dataset and (optionally) a given projection, point, colouring and search. With
 * `follow` (another step of a sequence) the picture, camera and colouring stay up while the
 * step's projection of the same kind is found or computed.
 * @param {import('./state.js').App} app @param {string} id
 * @param {import('../urlstate.js').UrlState} [want] @param {import('./projections.js').Follow | null} [follow]
 */
export async function openDataset(app, id, want = {}, follow = null) {
  const { state, bus, scene, panels } = app;
  state.datasetAbort.abort();
  const abort = new AbortController();
  state.datasetAbort = abort;
  const gen = ++state.generation;
  const live = () => gen === state.generation;
  stopFollowing();
  state.metadata?.dispose();
  Object.assign(state, {
    dataset: null, projection: null, metadata: null, sprite: null, selected: -1, neighbors: [],
    matches: [], matchCount: 0, search: null, isolated: false, iteration: null,
  });
  state.color = want.color ?? '';
  state.label = want.label ?? '';
  // Errors were about the dataset left behind.
  panels.status.clearErrors();
  if (follow) bus.emit('status', { text: 'Loading step…' });
  else {
    // Another dataset: nothing of the previous one stays on screen (points, colours).
    scene.clear();
    state.shownDataset = null;
    panels.status.setEmpty('Loading dataset…', { loading: true });
    bus.emit('legend:update', { legend: null });
  }
  panels.color.setColumns(null);
  bus.emit('point:select', null);
  panels.projection.setCurrent(null);
  panels.bookmarks.setBookmarks(null);
  let dataset;
  try {
    dataset = await api.getDataset(id, abort.signal);
  } catch (error) {
    if (!live()) return;
    panels.status.setEmpty('This dataset could not be opened.', { error: true });
    bus.emit('error', { title: `Dataset ${id}`, error });
    return;
  }
  if (!live()) return;
  state.dataset = dataset;
  bus.emit('dataset:loaded', { dataset });
  panels.projection.setDataset(dataset);
  panels.search.setDataset(dataset.id, dataset.n, dataset.columns ?? []);
  app.syncUrl();

  // Stepping keeps the colouring as it is, none included; so does a link that names it.
  loadMetadata(app, dataset, gen, { color: !!follow || want.color !== undefined, label: !!follow || want.label !== undefined });
  loadSprite(app, dataset, gen);
  loadBookmarks(app, dataset, gen);
  if (want.q) panels.search.run({ q: want.q, regex: !!want.regex, column: want.column ?? '' });

  let list = null;
  try {
    list = await api.listProjections(dataset.id, abort.signal);
  } catch (error) {
    if (!live()) return;
    bus.emit('error', { title: 'Could not list projections', error });
  }
  if (!live()) return;
  panels.projection.setProjections(list ?? [], want.projection);
  if (follow?.projection) return followProjection(app, dataset, list ?? [], follow, want.point);
  return openProjection(app, dataset, list ?? [], want);
}

/**
 * @param {import('./state.js').App} app @param {import('../types').Dataset} dataset @param {number} gen
 * @param {{color: boolean, label: boolean}} chosen colouring and labels already chosen (none included): no defaults
 */
export async function loadMetadata(app, dataset, gen, chosen) {
  const { state, bus, panels } = app;
  const meta = new Metadata();
  state.metadata = meta;
  try {
    const t0 = performance.now();
    const info = await meta.load(dataset.id, dataset.column_types ?? null);
    // Another dataset, or a newer read of this one (an edit, new clusters), took over.
    if (gen !== state.generation || state.metadata !== meta) return;
    const ms = performance.now() - t0;
    const names = info.columns.map((c) => c.name);
    let color = state.color && names.includes(state.color) ? state.color : '';
    // A column this dataset lacks (an old link) gets the default too.
    if (!color && (!chosen.color || state.color)) color = defaultColorColumn(info.columns, info.n);
    let label = state.label && names.includes(state.label) ? state.label : '';
    if (!label && (!chosen.label || state.label)) label = info.columns.find((c) => c.name !== 'index')?.name ?? '';
    panels.color.setColumns(info.columns, color, label);
    bus.emit('metadata:ready', { columns: info.columns, ms });
    // "None" is applied too: stepping leaves the previous step's colours on screen.
    bus.emit('label:by', { column: label });
    bus.emit('color:by', { column: color });
  } catch (error) {
    if (gen !== state.generation || state.metadata !== meta) return;
    panels.color.setColumns([]);
    bus.emit('error', { title: 'Metadata could not be loaded', error });
  }
}

/** @param {import('./state.js').App} app @param {import('../types').Dataset} dataset @param {number} gen */
async function loadSprite(app, dataset, gen) {
  const { state, bus, scene, panels } = app;
  panels.toolbar.setSpritesAvailable(false);
  scene.setSprites(false);
  if (dataset.sprite === null) return;
  const url = api.spriteUrl(dataset.id);
  const img = new Image();
  img.src = url;
  try {
    await img.decode();
  } catch {
    // No sprite is a normal answer (404) when the dataset object does not say.
    if (gen === state.generation && dataset.sprite) bus.emit('error', { title: 'Sprite sheet', error: new Error('the sprite image could not be loaded') });
    return;
  }
  if (gen !== state.generation) return;
  const [tileW, tileH] = dataset.sprite?.dim ?? [img.naturalWidth, img.naturalHeight];
  state.sprite = { url, width: img.naturalWidth, height: img.naturalHeight, tileW, tileH, cols: Math.max(1, Math.floor(img.naturalWidth / tileW)) };
  try {
    scene.renderer.setSprite(img, tileW, tileH);
    panels.toolbar.setSpritesAvailable(true, state.sprites);
    scene.setSprites(state.sprites);
    app.syncUrl();
  } catch (error) {
    bus.emit('error', { title: 'Thumbnails unavailable', error });
  }
}

/** The bookmarks list, for datasets whose logdir config names a bookmarks file. @param {import('./state.js').App} app @param {import('../types').Dataset} dataset @param {number} gen */
async function loadBookmarks(app, dataset, gen) {
  const { state, bus, panels } = app;
  if (!dataset.has_bookmarks) return;
  try {
    const list = await api.getBookmarks(dataset.id);
    if (gen !== state.generation) return;
    panels.bookmarks.setBookmarks(Array.isArray(list) ? list : []);
  } catch (error) {
    if (gen !== state.generation) return;
    bus.emit('error', { title: 'Bookmarks', error });
  }
}

/** @param {import('./state.js').App} app */
export function install(app) {
  app.bus.on('dataset:select', ({ id }) => openDataset(app, id));
}
