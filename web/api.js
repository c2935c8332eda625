// Every HTTP call the client makes goes through this module.
// Errors come back from the server as {"error", "detail"} JSON; they are
// turned into ApiError so the UI can show both parts.

/** @typedef {import('./types').Dataset} Dataset */
/** @typedef {import('./types').Projection} Projection */

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0 for a network failure)
   * @param {string} code short machine code from the server
   * @param {string} detail human text from the server
   * @param {string} url
   */
  constructor(status, code, detail, url) {
    super(`${code}: ${detail}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.url = url;
  }
}

/** Base URL of the API: api.js sits at the web root, so this works in Workers
 * and when the app is served under a sub-path. */
const BASE = new URL('api/', import.meta.url);

/**
 * @param {string} path relative to /api/
 * @param {Record<string, any>} [query]
 */
export function apiUrl(path, query) {
  const url = new URL(path, BASE);
  if (query) {
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') url.searchParams.set(key, String(value));
    }
  }
  return url.toString();
}

/**
 * fetch() that throws ApiError for network failures and non-2xx answers.
 * @param {string} url
 * @param {RequestInit} [init]
 * @returns {Promise<Response>}
 */
async function request(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch (err) {
    // A cancelled request (a newer view replaced it) is not a failure to report.
    if (/** @type {any} */ (err)?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', `could not reach the server (${err})`, url);
  }
  if (response.ok) return response;
  let code = `http_${response.status}`;
  let detail = response.statusText || 'request failed';
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') {
      code = body.error ?? code;
      detail = body.detail ?? (Array.isArray(body.errors) ? body.errors.join('; ') : detail);
    }
  } catch {
    if (text) detail = text.slice(0, 300);
  }
  throw new ApiError(response.status, String(code), String(detail), url);
}

/** @param {string} url @param {RequestInit} [init] */
async function json(url, init) {
  const response = await request(url, init);
  if (response.status === 204) return null;
  return response.json();
}

/** @returns {Promise<Dataset[]>} */
export const listDatasets = () => json(apiUrl('datasets'));

/** @param {string} id @param {AbortSignal} [signal] @returns {Promise<Dataset>} */
export const getDataset = (id, signal) => json(apiUrl(`datasets/${encodeURIComponent(id)}`), { signal });

/**
 * The dataset's projections, or null when the server has no such route.
 * @param {string} id
 * @param {AbortSignal} [signal]
 * @returns {Promise<Projection[] | null>}
 */
export async function listProjections(id, signal) {
  try {
    return await json(apiUrl(`datasets/${encodeURIComponent(id)}/projections`), { signal });
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
      // 404 for an unknown dataset is reported by getDataset; here it means "no listing".
      return null;
    }
    throw err;
  }
}

/**
 * Parameter descriptions per method, or null when the server has no such route.
 * @returns {Promise<Record<string, any> | null>}
 */
export async function getMethods() {
  try {
    return await json(apiUrl('methods'));
  } catch (err) {
    if (err instanceof ApiError && (err.status === 404 || err.status === 405)) return null;
    throw err;
  }
}

/**
 * @param {string} datasetId
 * @param {{method: string, dims: number, params?: Record<string, any>}} body
 * @returns {Promise<Projection>}
 */
export const createProjection = (datasetId, body) =>
  json(apiUrl(`datasets/${encodeURIComponent(datasetId)}/projections`), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });

/** @param {string} pid @param {AbortSignal} [signal] @returns {Promise<Projection>} */
export const getProjection = (pid, signal) => json(apiUrl(`projections/${encodeURIComponent(pid)}`), { signal, cache: 'no-store' });

/** Server-Sent Events of a projection: one projection object per change, until the job ends. @param {string} pid */
export const eventsUrl = (pid) => apiUrl(`projections/${encodeURIComponent(pid)}/events`);

/** @param {string} pid */
export const cancelProjection = (pid) =>
  json(apiUrl(`projections/${encodeURIComponent(pid)}`), { method: 'DELETE' });

/** @param {string} pid */
export const coordsUrl = (pid) => apiUrl(`projections/${encodeURIComponent(pid)}/coords`);

/**
 * Latest coordinates of a projection, straight from the wire into a Float32Array.
 * @param {string} pid
 * @param {AbortSignal} [signal]
 * @returns {Promise<{coords: Float32Array, n: number, dims: number, iteration: number | null}>}
 */
export async function getCoords(pid, signal) {
  const response = await request(coordsUrl(pid), { signal, cache: 'no-store' });
  const buffer = await response.arrayBuffer();
  const coords = new Float32Array(buffer);
  const shape = (response.headers.get('X-Shape') ?? '').split(',').map(Number);
  let [n, dims] = shape;
  if (!(dims > 0)) {
    dims = 2;
    n = coords.length / 2;
  }
  const iterHeader = response.headers.get('X-Iteration');
  const iteration = iterHeader === null || iterHeader === '' ? null : Number(iterHeader);
  return { coords, n, dims, iteration };
}

/**
 * @param {string} datasetId
 * @param {{index: number, k: number, metric: string}} q
 * @returns {Promise<{query: {index: number, row?: any[]}, metric: string, neighbors: {index: number, distance: number}[]}>}
 */
export const getNeighbors = (datasetId, q) =>
  json(apiUrl(`datasets/${encodeURIComponent(datasetId)}/neighbors`, q));

/**
 * @param {string} datasetId
 * @param {{q: string, column?: string, limit?: number}} q
 * @param {AbortSignal} [signal]
 * @returns {Promise<{count: number, indices: number[]}>}
 */
export const search = (datasetId, q, signal) => json(apiUrl(`datasets/${encodeURIComponent(datasetId)}/search`, q), { signal });

/**
 * Metadata as sent by the server: {columns, rows}. Called from the metadata Worker.
 * @param {string} datasetId
 * @returns {Promise<{columns: string[], rows: string[][]}>}
 */
export const getMetadata = (datasetId) => json(apiUrl(`datasets/${encodeURIComponent(datasetId)}/metadata`));

/** @param {string} datasetId */
export const spriteUrl = (datasetId) => apiUrl(`datasets/${encodeURIComponent(datasetId)}/sprite`);

/**
 * TensorBoard bookmarks (saved views) of a logdir dataset: a JSON array of states.
 * @param {string} datasetId
 * @returns {Promise<import('./types').Bookmark[]>}
 */
export const getBookmarks = (datasetId) => json(apiUrl(`datasets/${encodeURIComponent(datasetId)}/bookmarks`));

// ---- selections, subsets, edits, clusters and vector queries (issue 14) -------------------

/** @param {string} id */
const ds = (id) => `datasets/${encodeURIComponent(id)}`;
/** @param {any} body @returns {RequestInit} */
const jsonBody = (body, method = 'POST') => ({ method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

/**
 * A new dataset made of some rows of another (TensorBoard's "isolate"), in the order given.
 * @param {string} datasetId @param {ArrayLike<number>} rows @param {string} [name]
 * @returns {Promise<Dataset>}
 */
export const createSubset = (datasetId, rows, name) => json(apiUrl(`${ds(datasetId)}/subsets`), jsonBody({ rows: Array.from(rows), ...(name ? { name } : {}) }));

/**
 * Nearest rows of each query vector (m × dim float32, sent as raw little-endian bytes).
 * @param {string} datasetId @param {Float32Array} vectors @param {number} dim @param {{k: number, metric: string}} q
 * @returns {Promise<{results: {neighbors: {index: number, distance: number}[]}[]}>}
 */
export const vectorNeighbors = (datasetId, vectors, dim, q) => json(apiUrl(`${ds(datasetId)}/neighbors`, q), {
  method: 'POST',
  headers: { 'Content-Type': 'application/octet-stream', 'X-Shape': `${vectors.length / dim},${dim}` },
  body: vectors,
});

/**
 * The tensor, n × dim float32.
 * @param {string} datasetId @param {AbortSignal} [signal]
 * @returns {Promise<{data: Float32Array, n: number, dim: number}>}
 */
export async function getTensor(datasetId, signal) {
  const response = await request(apiUrl(`${ds(datasetId)}/tensor`), { signal });
  const data = new Float32Array(await response.arrayBuffer());
  const [n, dim] = (response.headers.get('X-Shape') ?? '').split(',').map(Number);
  return { data, n, dim };
}

/**
 * Set (and create) a metadata column for some rows.
 * @param {string} datasetId @param {{column: string, rows: ArrayLike<number>, value: string | number | null}} edit
 */
export const patchMetadata = (datasetId, edit) => json(apiUrl(`${ds(datasetId)}/metadata`), jsonBody({ ...edit, rows: Array.from(edit.rows) }, 'PATCH'));

/** The (edited) metadata as a TensorBoard-style TSV. @param {string} datasetId */
export const metadataTsvUrl = (datasetId) => apiUrl(`${ds(datasetId)}/metadata.tsv`);

/**
 * Save a named selection (replacing one of that name).
 * @param {string} datasetId @param {string} name @param {ArrayLike<number>} rows
 * @returns {Promise<{name: string, count: number}>}
 */
export const saveSelection = (datasetId, name, rows) => json(apiUrl(`${ds(datasetId)}/selections`), jsonBody({ name, rows: Array.from(rows) }));

/** @param {string} datasetId @returns {Promise<{name: string, count: number}[]>} */
export const listSelections = (datasetId) => json(apiUrl(`${ds(datasetId)}/selections`), { cache: 'no-store' });

/**
 * The rows of a saved selection.
 * @param {string} datasetId @param {string} name @returns {Promise<number[]>}
 */
export async function getSelection(datasetId, name) {
  const body = await json(apiUrl(`${ds(datasetId)}/selections/${encodeURIComponent(name)}`), { cache: 'no-store' });
  return Array.isArray(body) ? body : body.rows;
}

/**
 * @typedef {{id: number, size: number, centroid: number[], label: string}} Cluster
 * @typedef {{column: string, clusters: Cluster[]}} ClusterResult
 * @typedef {{id: string, status: string, error?: string} & Partial<ClusterResult>} ClusterJob
 */

/**
 * Cluster a finished projection's layout: the result at once (200), or a job to follow (202).
 * @param {string} pid @param {{min_cluster_size?: number, label_column?: string}} params
 * @returns {Promise<ClusterJob | ClusterResult>}
 */
export const startClusters = (pid, params) => json(apiUrl(`projections/${encodeURIComponent(pid)}/clusters`), jsonBody(params));

/** @param {string} pid @param {string} jobId @param {AbortSignal} [signal] @returns {Promise<ClusterJob>} */
export const getClusters = (pid, jobId, signal) => json(apiUrl(`projections/${encodeURIComponent(pid)}/clusters/${encodeURIComponent(jobId)}`), { signal, cache: 'no-store' });
