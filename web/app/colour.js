// Colour-by and label-by: per-point colours computed in the metadata Worker, applied to the
// scene once the points on screen are the open dataset's (the scene may still show another
// dataset's, or none, while the new one loads), and which column colours by default.

/** Category counts a default colouring may have: enough to tell groups apart, few enough to read. */
const DEFAULT_MAX_CATEGORIES = 50;
/** Column names that usually hold a class. */
const CLASS_NAME = /^(label|labels|class|classes|category|categories|topic|topics|cluster|clusters|group|type|kind|genre|species|tag|target|y)$/i;

/**
 * The column to colour by when the user has not chosen: a categorical column with a few
 * distinct values (never one whose values are (nearly) all different), preferring a name that
 * says "class", then 3 to 20 categories over 2, then the first such column; '' when none fits.
 * @param {import('../types').ColumnInfo[]} columns @param {number} n rows
 * @returns {string}
 */
export function defaultColorColumn(columns, n) {
  let best = '';
  let bestScore = -1;
  columns.forEach((c, i) => {
    const k = c.cardinality ?? 0;
    if (c.kind !== 'categorical' || c.name === 'index' || k < 2 || k > DEFAULT_MAX_CATEGORIES || k > n / 2) return;
    const score = (CLASS_NAME.test(c.name) ? 4 : 0) + (k >= 3 && k <= 20 ? 2 : 0) - i / (columns.length + 1);
    if (score > bestScore) {
      best = c.name;
      bestScore = score;
    }
  });
  return best;
}

/** @param {import('./state.js').App} app */
export function install(app) {
  const { state, bus, scene, panels } = app;
  /** Colours of the open dataset, waiting for its points when they are not on screen yet. @type {Uint8Array | null} */
  let pending = null;
  let seq = 0;

  /** Apply the open dataset's colours if the points on screen are as many as its rows. */
  const apply = () => {
    if (pending === null) {
      scene.setColors(null);
      bus.emit('colors:applied', { column: '' });
      return;
    }
    if (scene.n * 4 !== pending.length) return; // not this dataset's points yet: 'coords:shown' retries
    scene.setColors(pending);
    bus.emit('colors:applied', { column: state.color });
  };

  bus.on('color:by', async ({ column }) => {
    state.color = column;
    panels.color.setValues(state.color, state.label);
    app.syncUrl();
    const mine = ++seq;
    const meta = state.metadata;
    const n = state.dataset?.n;
    if (!column || !meta?.info) {
      pending = null;
      bus.emit('legend:update', { legend: null });
      apply();
      return;
    }
    try {
      const { rgba, legend } = await meta.colorBy(column);
      if (mine !== seq || meta !== state.metadata) return;
      if (n !== undefined && rgba.length !== n * 4) {
        throw new Error(`the metadata has ${rgba.length / 4} rows but the dataset has ${n}`);
      }
      pending = rgba;
      bus.emit('legend:update', { legend });
      apply();
    } catch (error) {
      if (mine === seq) bus.emit('error', { title: `Colour by ${column}`, error });
    }
  });

  bus.on('coords:shown', ({ first }) => {
    if (first && pending) apply();
  });
  // A dataset closing takes its colours along; the next one's arrive with its metadata.
  bus.on('dataset:loaded', () => {
    seq++;
    pending = null;
  });

  bus.on('label:by', ({ column }) => {
    state.label = column;
    panels.color.setValues(state.color, state.label);
    // The provider outlives this dataset (stepping keeps the picture while the next one loads):
    // it reads the metadata open at call time, and rejects (skipped by the scene) when none is.
    scene.setLabels(column, column && state.metadata ? async (indices) => {
      if (!state.metadata?.info) throw new Error('no metadata open');
      return state.metadata.labels(column, indices);
    } : null);
    app.syncUrl();
  });
}
