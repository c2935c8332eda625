// What is highlighted on the scatter: the selected point and its nearest neighbours (from the
// API, in the original space), search matches (or a legend entry's / bookmark's points), and
// Isolate, which hides everything else. Region selections (lasso, box) belong beside this
// module, with flag bits of their own in the renderer.

import * as api from '../api.js';

/** @param {import('./state.js').App} app */
export function install(app) {
  const { state, bus, scene, panels } = app;

  const refreshUi = () => panels.toolbar.setIsolated(state.isolated, scene.hasHighlight() ? 1 : 0);

  let neighborSeq = 0;
  async function loadNeighbors() {
    const dataset = state.dataset;
    if (!dataset || state.selected < 0) return;
    const seq = ++neighborSeq;
    const index = state.selected;
    const { metric } = state.neighborParams;
    const k = Math.max(1, Math.min(state.neighborParams.k, dataset.n - 1)); // a small dataset has fewer
    try {
      const res = await api.getNeighbors(dataset.id, { index, k, metric });
      if (seq !== neighborSeq || state.selected !== index || state.dataset !== dataset) return;
      state.neighbors = res.neighbors;
      scene.setSelection(index, res.neighbors.map((n) => n.index));
      bus.emit('neighbors:result', res);
      refreshUi();
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
    neighborSeq++;
    scene.setSelection(index, []);
    if (index < 0) bus.emit('neighbors:result', null);
    else loadNeighbors();
    refreshUi();
    app.syncUrl();
  });

  bus.on('neighbors:params', ({ k, metric }) => {
    state.neighborParams = { k, metric };
    loadNeighbors();
    app.syncUrl();
  });

  bus.on('search:result', (res) => {
    state.matches = res ? res.indices : [];
    state.matchCount = res ? res.count : 0;
    // Legend entries and bookmarks highlight points too, but are not a search to put in a link.
    state.search = res && !res.derived && res.query.q ? res.query : null;
    scene.setMatches(state.matches);
    if (!res && state.isolated) bus.emit('view:isolate', { on: false });
    refreshUi();
    app.syncUrl();
  });

  // New points of another size reset the scene's flags: put the highlights back.
  bus.on('coords:shown', ({ first }) => {
    if (!first) return;
    if (state.matches.length) scene.setMatches(state.matches);
    if (state.selected >= 0) scene.setSelection(state.selected, state.neighbors.map((n) => n.index));
    refreshUi();
  });

  bus.on('view:isolate', ({ on }) => {
    state.isolated = on && scene.hasHighlight();
    scene.setIsolate(state.isolated);
    refreshUi();
  });
}
