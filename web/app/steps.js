// Training steps of a logdir embedding: stepping to another step with the same view, Play
// (each step's projection finished before the next), and TensorBoard bookmarks.

import * as api from '../api.js';
import { openDataset } from './datasets.js';
import { FINAL } from './jobs.js';

/** Pause on each finished step while playing. */
const PLAY_PAUSE_MS = 700;
/** How often Play checks whether the step on screen has finished. */
const SETTLE_POLL_MS = 100;

const sleep = (/** @type {number} */ ms) => new Promise((r) => setTimeout(r, ms));

/** @param {import('./state.js').App} app */
export function install(app) {
  const { state, bus, panels } = app;
  /** What the last step left behind, for a step taken before the previous one has shown anything. @type {import('./projections.js').Follow | null} */
  let lastFollow = null;
  let playToken = 0;

  /** Open another step of the open sequence with the same method, dims, params, colouring and camera. @param {string} id */
  function stepTo(id) {
    const follow = state.projection && state.dataset ? { projection: state.projection, n: state.dataset.n } : lastFollow;
    lastFollow = follow;
    /** @type {import('../urlstate.js').UrlState} */
    const want = { color: state.color, label: state.label };
    if (state.search) Object.assign(want, state.search);
    if (state.selected >= 0) want.point = state.selected;
    return openDataset(app, id, want, follow);
  }

  function stopPlay() {
    playToken++;
    app.playing = false;
    panels.datasets.setPlaying(false);
  }

  /** Until the projection on screen is finished (or Play stopped). @param {number} token */
  async function settled(token) {
    while (token === playToken && state.projection && !FINAL.has(state.projection.status)) await sleep(SETTLE_POLL_MS);
  }

  /** Walk through the steps of the open sequence, each one's projection finished before the next. */
  async function play() {
    const token = ++playToken;
    app.playing = true;
    panels.datasets.setPlaying(true);
    // Training may have written steps since the page opened.
    try {
      const fresh = await api.listDatasets();
      if (token !== playToken) return;
      panels.datasets.setDatasets(fresh, state.dataset?.id);
    } catch { /* play the steps known */ }
    const steps = panels.datasets.steps;
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

  bus.on('dataset:step', ({ id }) => stepTo(id));
  bus.on('sequence:play', ({ on }) => (on ? play() : stopPlay()));
  bus.on('bookmark:apply', ({ bookmark }) => {
    const n = state.dataset?.n ?? 0;
    const label = String(bookmark.label ?? 'bookmark');
    const column = bookmark.selectedColorOptionName;
    const names = state.metadata?.info?.columns.map((c) => c.name) ?? [];
    if (typeof column === 'string' && names.includes(column) && column !== state.color) bus.emit('color:by', { column });
    const points = Array.isArray(bookmark.selectedPoints) ? bookmark.selectedPoints.filter((i) => Number.isInteger(i) && i >= 0 && i < n) : [];
    if (points.length) bus.emit('highlight:points', { indices: Uint32Array.from(points), label: `bookmark “${label}”` });
    else panels.search.reset(true);
    bus.emit('status', { text: `Bookmark: ${label}` });
  });
}
