// Start-up: the scene, the panels (ui/) and the controllers (app/) around one event bus.
// Panels never call each other or the API; controllers own the view's state and talk to
// the server. Each controller is one idea: see app/*.js.

import * as api from './api.js';
import { EventBus } from './events.js';
import { Scene } from './scene.js';
import { readUrl } from './urlstate.js';
import { StatusPanel } from './ui/status.js';
import { DatasetsPanel } from './ui/datasets.js';
import { ProjectionPanel } from './ui/projection.js';
import { ColorPanel } from './ui/colorby.js';
import { SearchPanel } from './ui/search.js';
import { InspectorPanel } from './ui/inspector.js';
import { Tooltip } from './ui/tooltip.js';
import { Toolbar } from './ui/toolbar.js';
import { BookmarksPanel } from './ui/bookmarks.js';
import { createState } from './app/state.js';
import { urlWriter, install as installView } from './app/view.js';
import { openDataset, install as installDatasets } from './app/datasets.js';
import { install as installProjections } from './app/projections.js';
import { install as installHighlight } from './app/highlight.js';
import { install as installColour } from './app/colour.js';
import { install as installSteps } from './app/steps.js';
import { install as installExporting } from './app/exporting.js';
import { install as installTheme } from './app/theme.js';
import { Layer } from './selection/layer.js';
import { install as installSelection } from './selection/controller.js';
import { install as installClusters } from './selection/clusters.js';
import { CustomPanel } from './ui/custom.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @returns {import('./app/state.js').App | null} */
function createApp() {
  const bus = new EventBus();
  const status = new StatusPanel(bus, { errors: $('errors'), status: $('status'), empty: $('empty') });
  let scene;
  try {
    scene = new Scene(/** @type {HTMLCanvasElement} */ ($('scatter')), /** @type {HTMLCanvasElement} */ ($('overlay')), bus);
  } catch (error) {
    status.setEmpty(String(/** @type {Error} */ (error).message), { error: true });
    bus.emit('error', { title: 'Cannot draw', error });
    return null;
  }
  const state = createState();
  /** @returns {import('./data/metadata.js').Metadata | null} */
  const metadata = () => state.metadata;
  const sprite = () => state.sprite;
  const panels = {
    status,
    datasets: new DatasetsPanel(bus, $('datasets')),
    projection: new ProjectionPanel(bus, $('projection-panel')),
    color: new ColorPanel(bus, $('color-panel'), $('legend-numeric'), metadata),
    search: new SearchPanel(bus, $('search-panel'), metadata),
    inspector: new InspectorPanel(bus, $('inspector-panel'), metadata, sprite),
    toolbar: new Toolbar(bus, $('toolbar')),
    bookmarks: new BookmarksPanel(bus, $('bookmarks-panel')),
  };
  new Tooltip(bus, $('tooltip'), metadata, sprite);
  new CustomPanel(bus, $('custom-panel'));
  const url = urlWriter(state, scene);
  return { bus, scene, state, panels, syncUrl: url.sync, flushUrl: url.flush, playing: false };
}

/** @param {import('./app/state.js').App} app */
async function start(app) {
  const { bus, state, panels } = app;
  for (const install of [installView, installDatasets, installProjections, installHighlight, installColour, installSteps, installExporting]) install(app);
  installTheme(app, /** @type {HTMLButtonElement} */ ($('theme-toggle')));
  // Lasso / box selection and cluster names share one canvas over the scatter.
  const layer = new Layer(/** @type {HTMLCanvasElement} */ ($('select-layer')));
  installSelection(app, { panel: $('selection-panel'), stage: /** @type {HTMLElement} */ ($('scatter').parentElement), toolbar: $('toolbar'), layer });
  installClusters(app, { panel: $('clusters-panel'), layer });
  if (/** @type {any} */ (window).__projectorTesting) (await import('./testing.js')).install(app);

  const want = readUrl();
  if (want.k || want.metric) {
    state.neighborParams = { k: want.k ?? state.neighborParams.k, metric: want.metric ?? state.neighborParams.metric };
    panels.inspector.setParams(state.neighborParams.k, state.neighborParams.metric);
  }
  if (want.thumbs) state.sprites = true; // drawn once the dataset's sprite sheet has loaded
  api.getMethods().then(
    (methods) => panels.projection.setMethods(methods),
    (error) => {
      panels.projection.setMethods(null);
      bus.emit('error', { title: 'Could not read the projection methods', error });
    },
  );
  let datasets;
  try {
    datasets = await api.listDatasets();
  } catch (error) {
    panels.status.setEmpty('The server could not be reached.', { error: true });
    bus.emit('error', { title: 'Could not list datasets', error });
    return;
  }
  panels.datasets.setDatasets(datasets, want.dataset);
  const id = want.dataset ?? datasets[0]?.id;
  if (!id) {
    panels.status.setEmpty('No datasets yet. Upload one with `projector load FILE` or POST /api/datasets, then reload.');
    return;
  }
  await openDataset(app, id, want);
}

const app = createApp();
if (app) start(app);
