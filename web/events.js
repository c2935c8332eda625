// A tiny publish/subscribe bus so panels never call each other directly
// (the role of TensorBoard's projectorEventContext).
//
// Event names used by the app (payloads in parentheses):
//   dataset:select      ({id})                      user picked a dataset
//   dataset:loaded      ({dataset})                 dataset object fetched
//   dataset:step        ({id})                      another step of the open sequence, same view
//   sequence:play       ({on})                      start / stop walking through the steps
//   projection:run      ({method, dims, params})    user pressed Run
//   projection:dims     ({method, dims, params})    user switched 2D / 3D
//   projection:stop     ()                          user pressed Stop
//   projection:select   ({id})                      user picked an existing projection
//   projection:update   ({projection, channel?, keepForm?}) projection object changed (status/progress);
//                                                   channel 'events' (SSE) or 'poll' while a job runs
//   coords:shown        ({projection, n, dims, iteration, first}) new coordinates are on screen
//   camera:change       ()                          the camera moved
//   metadata:ready      ({columns, ms})             metadata parsed in the worker
//   color:by            ({column})                  colour-by column ('' = none)
//   colors:applied      ({column})                  the scene's colours changed
//   label:by            ({column})                  label column ('' = none)
//   legend:update       ({legend})                  legend of the colouring (null: none)
//   legend:highlight    ({indices, label})          points of a legend entry
//   highlight:points    ({indices, label})          highlight points as a search would (bookmarks)
//   search:result       ({indices, count, query, derived?}) search matches (or null to clear);
//                                                   query is {q, regex, column}, or a label when derived
//   bookmark:apply      ({bookmark})                user clicked a TensorBoard bookmark
//   point:hover         ({index, x, y} | null)      pointer over a point
//   point:select        ({index} | null)            click / keyboard / search-list selection
//   neighbors:params    ({k, metric})
//   neighbors:result    ({query, neighbors} | null)
//   view:isolate        ({on})                      show only the highlighted points
//   view:reset          ()
//   view:mode           ({sprites})
//   view:pointsize      ({size})
//   theme               ({theme})                   'light' or 'dark'
//   export              ({kind})
//   copy-link           ()
//   selection:tool      ({kind})                    'lasso', 'box' or null (web/selection/controller.js)
//   selection:clear / selection:isolate / selection:centroid   ()   the selection panel's actions
//   selection:save / selection:open ({name})        save the lasso / box selection, or open a saved one
//   selection:export    ({format})                  'tsv' or 'json'
//   selection:label     ({column, value})           set a metadata column for the selected rows
//   clusters:run        ({min_cluster_size?, label_column?})  cluster the projection on screen
//   clusters:names      ({on})                      draw the cluster names on the plot
//   clusters:highlight  ({id})                      highlight one cluster's points
//   error               ({title, error})            anything that failed, shown to the user
//   status              ({text})                    short status line

/** @typedef {(payload: any) => void} Handler */

export class EventBus {
  constructor() {
    /** @type {Map<string, Set<Handler>>} */
    this._handlers = new Map();
  }

  /**
   * Subscribe; returns the unsubscribe function.
   * @param {string} name
   * @param {Handler} handler
   * @returns {() => void}
   */
  on(name, handler) {
    let set = this._handlers.get(name);
    if (!set) this._handlers.set(name, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  /**
   * Publish. A throwing handler is reported on the `error` event and does not
   * stop the other handlers.
   * @param {string} name
   * @param {any} [payload]
   */
  emit(name, payload) {
    const set = this._handlers.get(name);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(payload);
      } catch (err) {
        if (name === 'error') {
          console.error(err);
        } else {
          this.emit('error', { title: `while handling ${name}`, error: err });
        }
      }
    }
  }
}
