// The open dataset's metadata changed on the server (a column was labelled, clusters were
// added): read the dataset object and the metadata again, keeping the view, and colour by a
// given column.

import * as api from '../api.js';
import { loadMetadata } from '../app/datasets.js';

/** @param {import('../app/state.js').App} app @param {string} [colorBy] a column to colour by once loaded */
export async function refreshMetadata(app, colorBy) {
  const { state, panels } = app;
  const open = state.dataset;
  if (!open) return;
  const gen = state.generation;
  const dataset = await api.getDataset(open.id, state.datasetAbort.signal);
  if (gen !== state.generation) return;
  state.dataset = dataset;
  panels.search.setColumns(dataset.columns ?? []);
  const old = state.metadata;
  if (colorBy !== undefined) state.color = colorBy;
  // An older read still loading gives way to this one (loadMetadata drops a superseded read).
  await loadMetadata(app, dataset, gen, { color: true, label: true });
  if (old !== state.metadata) old?.dispose();
}
