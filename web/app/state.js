// The state of the open view, and the App handle every controller in app/ receives.
// Controllers share this state and talk through the bus; panels (ui/) never see it.

/**
 * @typedef {object} Panels
 * @property {import('../ui/status.js').StatusPanel} status
 * @property {import('../ui/datasets.js').DatasetsPanel} datasets
 * @property {import('../ui/projection.js').ProjectionPanel} projection
 * @property {import('../ui/colorby.js').ColorPanel} color
 * @property {import('../ui/search.js').SearchPanel} search
 * @property {import('../ui/inspector.js').InspectorPanel} inspector
 * @property {import('../ui/toolbar.js').Toolbar} toolbar
 * @property {import('../ui/bookmarks.js').BookmarksPanel} bookmarks
 */

/**
 * @typedef {object} App
 * @property {import('../events.js').EventBus} bus
 * @property {import('../scene.js').Scene} scene
 * @property {ViewState} state
 * @property {Panels} panels
 * @property {() => void} syncUrl write the view to the address bar (soon)
 * @property {() => void} flushUrl write it now
 * @property {boolean} playing Play is walking through a sequence's steps
 */

/** @typedef {{q: string, regex: boolean, column: string}} SearchQuery what the user typed */

/**
 * @typedef {object} ViewState
 * @property {import('../types').Dataset | null} dataset
 * @property {import('../types').Projection | null} projection
 * @property {import('../data/metadata.js').Metadata | null} metadata
 * @property {import('../ui/thumb.js').SpriteInfo | null} sprite
 * @property {boolean} sprites thumbnails wanted (drawn when the dataset has a sprite sheet)
 * @property {string} color
 * @property {string} label
 * @property {number} selected
 * @property {{index: number, distance: number}[]} neighbors
 * @property {{k: number, metric: string}} neighborParams
 * @property {Uint32Array | number[]} matches
 * @property {number} matchCount
 * @property {SearchQuery | null} search the search whose matches are highlighted (null: none, or a legend / bookmark highlight)
 * @property {boolean} isolated
 * @property {string} selection name of the saved lasso / box selection shown ('' when none, or changed since)
 * @property {number | null} iteration iteration of the frame on screen
 * @property {string | null} shownDataset dataset whose coordinates the scene shows
 * @property {number} generation bumped when another dataset opens: older async work drops its result
 * @property {AbortController} datasetAbort aborts the open dataset's requests
 */

/** @returns {ViewState} */
export function createState() {
  return {
    dataset: null,
    projection: null,
    metadata: null,
    sprite: null,
    sprites: false,
    color: '',
    label: '',
    selected: -1,
    neighbors: [],
    neighborParams: { k: 10, metric: 'cosine' },
    matches: [],
    matchCount: 0,
    search: null,
    isolated: false,
    selection: '',
    iteration: null,
    shownDataset: null,
    generation: 0,
    datasetAbort: new AbortController(),
  };
}

/** The same defaults the inspector starts with; links leave them out. */
export const DEFAULT_NEIGHBORS = { k: 10, metric: 'cosine' };
