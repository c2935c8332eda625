// The lasso / box selection of the open dataset: drawing it (tool.js, answered by a Worker),
// showing it (the scene's region flags and the selection panel), and acting on its rows:
// export, save and reopen (`?selection=NAME`), neighbours of its centroid, Isolate (a subset
// dataset, opened and projected) and Label (a metadata column set for the rows).

import * as api from '../api.js';
import { FLAG_HIDDEN } from '../gl/renderer.js';
import { openDataset } from '../app/datasets.js';
import { readUrl } from '../urlstate.js';
import { download } from '../export.js';
import { SelectionPanel, LIST_LIMIT } from '../ui/selection.js';
import { combine } from './region.js';
import { RegionSelector } from './selector.js';
import { SelectionTool } from './tool.js';
import { refreshMetadata } from './refresh.js';
import { selectionJson, selectionTsv } from './rows-export.js';

/** The centroid is computed in the browser from the tensor, fetched once, up to this size. */
export const CENTROID_MAX_BYTES = 50 * 1024 * 1024;

/**
 * @param {import('../app/state.js').App} app
 * @param {{panel: HTMLElement, stage: HTMLElement, toolbar: HTMLElement, layer: import('./layer.js').Layer}} els
 */
export function install(app, els) {
  const { state, bus, scene, panels } = app;
  const panel = new SelectionPanel(bus, els.panel, els.toolbar);
  const selector = new RegionSelector();
  const tool = new SelectionTool(els.stage, scene.canvas, els.layer, {
    onRegion: (polygon, how) => select(polygon, how),
    onClick: (how) => { if (how === 'replace') setRows(new Uint32Array(0)); },
    dark: () => scene.dark,
  });
  /** The selected rows, ascending. */
  let rows = new Uint32Array(0);
  /** The last selection drawn: times in ms, for the page's tests and benchmarks. */
  const timing = { totalMs: 0, selectMs: 0, showMs: 0, path: '', points: 0, found: 0 };
  /** The open dataset's tensor, once fetched for a centroid. @type {{id: string, data: Float32Array, dim: number} | null} */
  let tensor = null;
  /** A saved selection named in the page's link, opened with the first dataset. */
  let fromLink = readUrl().selection ?? '';
  let seq = 0;

  const live = (/** @type {number} */ gen) => gen === state.generation;

  /** @param {Uint32Array} next ascending @param {string} [name] the saved selection it is */
  function setRows(next, name = '') {
    rows = next;
    seq++;
    state.selection = name;
    scene.setRegion(rows);
    panel.setSelection(rows.length, name);
    if (!scene.hasHighlight() && state.isolated) bus.emit('view:isolate', { on: false });
    panels.toolbar.setIsolated(state.isolated, scene.hasHighlight() ? 1 : 0);
    listLabels();
    app.syncUrl();
  }

  /** @param {Float32Array} polygon @param {import('./tool.js').Combine} how */
  async function select(polygon, how) {
    const coords = scene.coords;
    if (!coords || !state.dataset) return;
    const gen = state.generation;
    const t0 = performance.now();
    const width = scene.canvas.clientWidth, height = scene.canvas.clientHeight;
    const index = scene.picker.index;
    const current = index && index.version === scene.cameraVersion && index.width === width && index.height === height ? index : null;
    try {
      const res = await selector.select(coords, scene.dims, {
        mvp: scene.mvp(), width, height, polygon,
        // Hidden points (the view's Isolate) cannot be selected; the flags travel only then.
        ...(scene.isolated ? { flags: scene.flags, hiddenBit: FLAG_HIDDEN } : {}),
      }, current);
      // A running job's next frame keeps the rows (the points were inside when drawn); another
      // layout size (2D / 3D, another dataset) drops them.
      if (!live(gen) || scene.coords?.length !== coords.length) return;
      const t1 = performance.now();
      setRows(combine(rows, res.rows, how));
      const t2 = performance.now();
      Object.assign(timing, { totalMs: t2 - t0, selectMs: res.ms, showMs: t2 - t1, path: res.path, points: coords.length / scene.dims, found: res.rows.length });
    } catch (error) {
      if (live(gen)) bus.emit('error', { title: 'Selection', error });
    }
  }

  /** The label column, else the first metadata column. */
  function labelColumn() {
    const names = state.metadata?.info?.columns.map((c) => c.name) ?? [];
    return state.label && names.includes(state.label) ? state.label : names.find((c) => c !== 'index') ?? names[0] ?? '';
  }

  async function listLabels() {
    const mine = seq;
    const first = Array.from(rows.subarray(0, LIST_LIMIT));
    const column = labelColumn();
    let labels = first.map(() => '');
    if (first.length && column && state.metadata?.info) {
      try {
        labels = await state.metadata.labels(column, first);
      } catch { /* the list still shows the rows */ }
    }
    if (mine !== seq) return;
    panel.setLabels(first.map((index, k) => ({ index, label: labels[k] })), rows.length);
  }

  async function refreshSaved() {
    const dataset = state.dataset;
    if (!dataset) return;
    try {
      const list = await api.listSelections(dataset.id);
      if (state.dataset === dataset) panel.setSaved(list);
    } catch {
      if (state.dataset === dataset) panel.setSaved([]); // a server without saved selections
    }
  }

  /** @param {string} name */
  async function openSaved(name) {
    const dataset = state.dataset;
    if (!dataset) return;
    const gen = state.generation;
    try {
      const found = await api.getSelection(dataset.id, name);
      if (!live(gen)) return;
      const next = Uint32Array.from(found.filter((i) => Number.isInteger(i) && i >= 0 && i < dataset.n)).sort();
      setRows(next, name);
      panel.say(`Opened “${name}”.`);
    } catch (error) {
      if (live(gen)) bus.emit('error', { title: `Selection “${name}”`, error });
    }
  }

  /** @param {string} name */
  async function save(name) {
    const dataset = state.dataset;
    if (!dataset || !rows.length) return;
    const saving = rows;
    try {
      await api.saveSelection(dataset.id, name, saving);
      if (state.dataset !== dataset || rows !== saving) return;
      state.selection = name;
      panel.setSelection(rows.length, name);
      panel.say(`Saved as “${name}”; the page's link now reopens it.`);
      app.flushUrl();
      refreshSaved();
    } catch (error) {
      bus.emit('error', { title: 'Could not save the selection', error });
    }
  }

  /** @param {'tsv' | 'json'} format */
  async function exportRows(format) {
    const dataset = state.dataset;
    if (!dataset || !rows.length) return;
    try {
      const list = Array.from(rows);
      const records = state.metadata?.info ? await state.metadata.rows(list) : list.map(() => null);
      const base = `${dataset.name}-selection`.replace(/[^\w.-]+/g, '_');
      download(format === 'tsv' ? selectionTsv(list, records) : selectionJson(dataset.id, list, records), `${base}.${format}`);
    } catch (error) {
      bus.emit('error', { title: 'Export failed', error });
    }
  }

  async function isolate() {
    const parent = state.dataset;
    if (!parent || rows.length < 2) return;
    const name = `${parent.name} · ${rows.length.toLocaleString('en-US')} selected`.slice(0, 200);
    panel.say('Creating the subset…');
    try {
      const subset = await api.createSubset(parent.id, rows, name);
      if (state.dataset !== parent) return;
      panel.say('');
      try {
        panels.datasets.setDatasets(await api.listDatasets(), subset.id);
      } catch { /* the list catches up on the next reload */ }
      await openDataset(app, subset.id);
    } catch (error) {
      panel.say('');
      bus.emit('error', { title: 'Could not isolate the selection', error });
    }
  }

  /** @param {string} column @param {string} value */
  async function label(column, value) {
    const dataset = state.dataset;
    if (!dataset || !rows.length) return;
    try {
      await api.patchMetadata(dataset.id, { column, rows, value });
      if (state.dataset !== dataset) return;
      panel.say(`Set ${column} = “${value}” on ${rows.length.toLocaleString('en-US')} rows.`);
      await refreshMetadata(app, column);
    } catch (error) {
      bus.emit('error', { title: `Could not set ${column}`, error });
    }
  }

  async function centroidNeighbors() {
    const dataset = state.dataset;
    if (!dataset || !rows.length) return;
    const gen = state.generation;
    const asked = rows;
    panel.say('Finding the neighbours of the centroid…');
    try {
      if (tensor?.id !== dataset.id) {
        const t = await api.getTensor(dataset.id, state.datasetAbort.signal);
        if (!live(gen)) return;
        tensor = { id: dataset.id, data: t.data, dim: t.dim || dataset.dim };
      }
      const { data, dim } = tensor;
      const centre = new Float64Array(dim);
      for (const r of asked) for (let d = 0; d < dim; d++) centre[d] += data[r * dim + d];
      const query = Float32Array.from(centre, (v) => v / asked.length);
      const { k, metric } = state.neighborParams;
      const res = await api.vectorNeighbors(dataset.id, query, dim, { k: Math.min(k, dataset.n), metric });
      if (!live(gen) || rows !== asked) return;
      const found = res.results[0]?.neighbors ?? [];
      const column = labelColumn();
      const labels = column && state.metadata?.info ? await state.metadata.labels(column, found.map((f) => f.index)) : found.map(() => '');
      if (!live(gen) || rows !== asked) return;
      panel.setNeighbors(found.map((f, i) => ({ ...f, label: labels[i] })));
      panel.say(`${found.length} nearest rows to the centroid of ${asked.length.toLocaleString('en-US')} (${metric}).`);
      bus.emit('highlight:points', { indices: Uint32Array.from(found, (f) => f.index), label: 'neighbours of the selection’s centroid' });
    } catch (error) {
      panel.say('');
      if (live(gen)) bus.emit('error', { title: 'Neighbours of the centroid', error });
    }
  }

  /** @param {'lasso' | 'box' | null} kind */
  function setTool(kind) {
    tool.setKind(kind);
    panel.setTool(kind);
    bus.emit('status', { text: kind ? `${kind === 'box' ? 'Box' : 'Lasso'} · Shift adds · Alt removes · Esc leaves` : '' });
  }

  bus.on('selection:tool', ({ kind }) => setTool(kind));
  bus.on('selection:clear', () => setRows(new Uint32Array(0)));
  bus.on('selection:save', ({ name }) => save(name));
  bus.on('selection:open', ({ name }) => openSaved(name));
  bus.on('selection:export', ({ format }) => exportRows(format));
  bus.on('selection:isolate', () => isolate());
  bus.on('selection:label', ({ column, value }) => label(column, value));
  bus.on('selection:centroid', () => centroidNeighbors());
  bus.on('label:by', () => listLabels());
  bus.on('metadata:ready', ({ columns }) => {
    panel.setColumns(columns.map((/** @type {{name: string}} */ c) => c.name).filter((/** @type {string} */ c) => c !== 'index'));
    listLabels();
  });

  bus.on('dataset:loaded', ({ dataset }) => {
    tensor = null;
    selector.forget();
    const bytes = dataset.n * dataset.dim * 4;
    panel.setCentroidAvailable(bytes <= CENTROID_MAX_BYTES,
      `The tensor is ${(bytes / 2 ** 20).toFixed(0)} MB: too large to average in the browser.`);
    setRows(new Uint32Array(0));
    panel.say('');
    refreshSaved();
    if (fromLink) openSaved(fromLink);
    fromLink = '';
  });
  // New points of another size reset the scene's flags: put the selection back.
  bus.on('coords:shown', ({ first, n }) => {
    if (!first || !rows.length || rows[rows.length - 1] >= n) return;
    scene.setRegion(rows);
    panels.toolbar.setIsolated(state.isolated, 1);
  });

  window.addEventListener('keydown', (e) => {
    const target = /** @type {HTMLElement} */ (e.target);
    if (/INPUT|SELECT|TEXTAREA/.test(target.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape' && (tool.drag || tool.kind)) {
      if (tool.drag) tool.cancel();
      else setTool(null);
    } else if (e.key === 'l' || e.key === 'L') setTool(tool.kind === 'lasso' ? null : 'lasso');
    else if (e.key === 'b' || e.key === 'B') setTool(tool.kind === 'box' ? null : 'box');
  });

  if (/** @type {any} */ (window).__projectorTesting) {
    /** @type {any} */ (window).__projectorSelection = {
      get count() { return rows.length; },
      /** Bumped by every change of the selection. */
      get version() { return seq; },
      get rows() { return Array.from(rows); },
      get timing() { return { ...timing }; },
      get tool() { return tool.kind; },
      get name() { return state.selection; },
    };
  }
}
