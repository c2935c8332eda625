// Export what is on screen (coordinates as CSV or NPY, the highlighted points as CSV) and
// copy a link to the view.

import { toCsv, toNpy, selectionCsv, download } from '../export.js';

/** @param {import('./state.js').App} app */
export function install(app) {
  const { state, bus, scene } = app;

  bus.on('copy-link', async () => {
    app.flushUrl();
    try {
      await navigator.clipboard.writeText(window.location.href);
      bus.emit('status', { text: 'Link copied.' });
    } catch {
      window.prompt('Copy this link:', window.location.href);
    }
  });

  bus.on('export', async ({ kind }) => {
    const coords = scene.coords;
    const p = state.projection;
    if (!coords || !p) return bus.emit('status', { text: 'Nothing to export yet.' });
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
}
