// A tiny publish/subscribe bus so panels never call each other directly
// (the role of TensorBoard's projectorEventContext).
//
// Event names used by the app (payloads in parentheses):
//   dataset:select      ({id})                      user picked a dataset
//   dataset:loaded      ({dataset})                 dataset object fetched
//   projection:run      ({method, dims, params})    user pressed Run
//   projection:stop     ()                          user pressed Stop
//   projection:select   ({id})                      user picked an existing projection
//   projection:update   ({projection})              projection object changed (status/progress)
//   coords:update       ({coords, dims, iteration}) new coordinates (Float32Array)
//   metadata:ready      ({columns})                 metadata parsed in the worker
//   color:by            ({column})                  colour-by column ('' = none)
//   label:by            ({column})                  label column ('' = none)
//   legend:highlight    ({indices, label})          points of a legend entry
//   highlight:points    ({indices, label})          highlight points as a search would (bookmarks)
//   search:result       ({indices, count, query, derived?}) search matches (or null to clear)
//   dataset:step        ({id})                      another step of the open sequence, same view
//   sequence:play       ({on})                      start / stop walking through the steps
//   bookmark:apply      ({bookmark})                user clicked a TensorBoard bookmark
//   point:hover         ({index, x, y} | null)      pointer over a point
//   point:select        ({index} | null)            click / keyboard selection
//   neighbors:params    ({k, metric})
//   neighbors:result    ({query, neighbors} | null)
//   view:isolate        ({on})                      show only the highlighted points
//   view:reset          ()
//   view:mode           ({sprites})
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
