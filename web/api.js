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
