// Clusters of the projection on screen: run the server's job (answered at once or followed
// until done), colour by the cluster column it adds to the metadata, and draw each cluster's
// name at its centroid, following the camera; names that would overlap a larger cluster's are
// left out.

import * as api from '../api.js';
import { projectPoint } from '../camera.js';
import { ClustersPanel } from '../ui/clusters.js';
import { refreshMetadata } from './refresh.js';

const POLL_MS = 400;
/** Longest name drawn (characters); the panel's list has the whole name. */
const MAX_NAME = 40;
const PAD_X = 5;
const PAD_Y = 3;

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Greedy placement: boxes in the order given (largest cluster first), each kept only if it
 * overlaps none kept before it.
 * @param {{x0: number, y0: number, x1: number, y1: number}[]} boxes
 * @returns {number[]} indices of the boxes kept
 */
export function placeLabels(boxes) {
  /** @type {number[]} */
  const kept = [];
  boxes.forEach((b, i) => {
    if (kept.every((k) => { const o = boxes[k]; return b.x1 <= o.x0 || b.x0 >= o.x1 || b.y1 <= o.y0 || b.y0 >= o.y1; })) kept.push(i);
  });
  return kept;
}

/**
 * @param {import('../app/state.js').App} app
 * @param {{panel: HTMLElement, layer: import('./layer.js').Layer}} els
 */
export function install(app, els) {
  const { state, bus, scene } = app;
  const panel = new ClustersPanel(bus, els.panel);
  const layer = els.layer;
  /** The clusters of one projection. @type {{pid: string, column: string, clusters: import('../api.js').Cluster[]} | null} */
  let result = null;
  let showNames = true;
  let seq = 0;
  /** Names drawn last time (tests read them). @type {string[]} */
  let placed = [];

  /** @param {CanvasRenderingContext2D} ctx @param {number} width @param {number} height */
  function paint(ctx, width, height) {
    placed = [];
    const shown = !!result && showNames && !!scene.coords && state.projection?.id === result.pid && state.shownDataset === state.dataset?.id;
    // The points' own sampled labels give way to the cluster names (hovered, selected and
    // matched points keep theirs).
    if (scene.overlay.sampled === shown) {
      scene.overlay.sampled = !shown;
      scene.requestFrame();
    }
    if (!result || !shown) return;
    const mvp = scene.mvp();
    const found = result.clusters.filter((c) => c.id >= 0).sort((a, b) => b.size - a.size);
    const largest = found[0]?.size ?? 1;
    /** @type {{text: string, x: number, y: number, font: string, x0: number, y0: number, x1: number, y1: number}[]} */
    const items = [];
    for (const c of found) {
      const [x, y, z] = c.centroid;
      const p = projectPoint(mvp, x, y, z ?? 0, width, height);
      if (!p.visible || p.x < 0 || p.x > width || p.y < 0 || p.y > height) continue;
      let text = c.label || `cluster ${c.id}`;
      if (text.length > MAX_NAME) text = `${text.slice(0, MAX_NAME - 1)}…`;
      // Larger clusters get larger names: 12 to 16 px.
      const px = Math.round(12 + 4 * Math.sqrt(c.size / largest));
      const font = `600 ${px}px system-ui, sans-serif`;
      ctx.font = font;
      const w = ctx.measureText(text).width + 2 * PAD_X, hgt = px + 2 * PAD_Y;
      // A cluster at the edge of the view keeps its whole name on screen.
      const cx = Math.min(Math.max(p.x, w / 2 + 2), width - w / 2 - 2), cy = Math.min(Math.max(p.y, hgt / 2 + 2), height - hgt / 2 - 2);
      items.push({ text, x: cx, y: cy, font, x0: cx - w / 2, y0: cy - hgt / 2, x1: cx + w / 2, y1: cy + hgt / 2 });
    }
    const dark = scene.dark;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    for (const i of placeLabels(items)) {
      const it = items[i];
      ctx.beginPath();
      ctx.roundRect(it.x0, it.y0, it.x1 - it.x0, it.y1 - it.y0, 4);
      ctx.fillStyle = dark ? 'rgba(23,26,33,0.82)' : 'rgba(255,255,255,0.85)';
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = dark ? 'rgba(120,130,150,0.6)' : 'rgba(60,70,90,0.35)';
      ctx.stroke();
      ctx.font = it.font;
      ctx.fillStyle = dark ? '#eef1f7' : '#151a24';
      ctx.fillText(it.text, it.x, it.y + 0.5);
      placed.push(it.text);
    }
  }
  layer.add(paint);

  /** @param {{min_cluster_size?: number, label_column?: string}} params */
  async function run(params) {
    const p = state.projection;
    if (!p || p.status !== 'done') return;
    const mine = ++seq;
    const gen = state.generation;
    const stale = () => mine !== seq || gen !== state.generation;
    panel.say('Clustering…', true);
    try {
      /** @type {any} */
      let res = await api.startClusters(p.id, params);
      while (!Array.isArray(res.clusters)) {
        if (res.status === 'failed' || res.status === 'cancelled') throw Object.assign(new Error(res.error ?? res.status), { code: 'clusters_failed', detail: res.error ?? res.status });
        panel.say(`Clustering… ${res.status ?? ''}${res.progress ? ` ${Math.round(res.progress * 100)}%` : ''}`, true);
        await sleep(POLL_MS);
        if (stale()) return;
        res = await api.getClusters(p.id, res.id, state.datasetAbort.signal);
      }
      if (stale()) return;
      result = { pid: p.id, column: res.column, clusters: res.clusters };
      const count = res.clusters.filter((/** @type {any} */ c) => c.id >= 0).length;
      const noise = res.clusters.find((/** @type {any} */ c) => c.id < 0)?.size ?? 0;
      panel.say(`${count} cluster${count === 1 ? '' : 's'} in column “${res.column}”${noise ? ` · ${noise.toLocaleString('en-US')} points unclustered (-1)` : ''}.`);
      panel.setResult(result);
      panel.setProjection(state.projection);
      layer.redraw();
      await refreshMetadata(app, res.column);
    } catch (error) {
      if (stale()) return;
      panel.say('');
      panel.setProjection(state.projection);
      bus.emit('error', { title: 'Clusters', error });
    }
  }

  /** @param {number} id */
  async function highlight(id) {
    const dataset = state.dataset;
    if (!result || !dataset) return;
    try {
      const res = await api.search(dataset.id, { q: `^${id}$`, column: result.column, limit: dataset.n });
      if (state.dataset === dataset) bus.emit('highlight:points', { indices: Uint32Array.from(res.indices), label: `cluster ${id}` });
    } catch (error) {
      bus.emit('error', { title: `Cluster ${id}`, error });
    }
  }

  bus.on('clusters:run', (params) => run(params));
  bus.on('clusters:names', ({ on }) => { showNames = on; layer.redraw(); });
  bus.on('clusters:highlight', ({ id }) => highlight(id));
  bus.on('projection:update', ({ projection }) => {
    panel.setProjection(projection);
    layer.redraw();
  });
  bus.on('dataset:loaded', () => {
    seq++;
    result = null;
    panel.say('');
    panel.setResult(null);
  });
  bus.on('metadata:ready', ({ columns }) => {
    const names = columns.filter((/** @type {any} */ c) => c.kind === 'categorical' && c.name !== 'index').map((/** @type {any} */ c) => c.name);
    panel.setColumns(names);
  });
  for (const name of ['camera:change', 'coords:shown', 'theme', 'view:isolate']) bus.on(name, () => layer.redraw());

  if (/** @type {any} */ (window).__projectorTesting) {
    /** @type {any} */ (window).__projectorClusters = {
      get result() { return result && JSON.parse(JSON.stringify(result)); },
      /** Names drawn on the plot last time. */
      get placed() { return placed.slice(); },
    };
  }
}
