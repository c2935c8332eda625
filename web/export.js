// Exports built in the browser from what is on screen: coordinates as CSV or
// NPY, and the selection as CSV. The builders are pure; download() is the DOM part.

/**
 * A .npy (version 1.0) file holding a little-endian float32 array of shape (n, dims).
 * @param {Float32Array} coords @param {number} dims
 * @returns {Blob}
 */
export function toNpy(coords, dims) {
  const n = coords.length / dims;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${dims}), }`;
  // magic (6) + version (2) + header length (2) + header + '\n' must be a multiple of 64.
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = new Uint8Array(10 + header.length);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(head.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) head[10 + i] = header.charCodeAt(i);
  return new Blob([head, new Uint8Array(coords.buffer, coords.byteOffset, coords.byteLength)], { type: 'application/octet-stream' });
}

/** @param {string} s */
const csvCell = (s) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * index,x,y[,z][,label] rows; built in chunks so a million rows stay cheap.
 * @param {Float32Array} coords @param {number} dims @param {string[] | null} [labels] @param {string} [labelName]
 * @returns {Blob}
 */
export function toCsv(coords, dims, labels = null, labelName = 'label') {
  const n = coords.length / dims;
  const axes = ['x', 'y', 'z'].slice(0, dims);
  const parts = [['index', ...axes, ...(labels ? [labelName] : [])].map(csvCell).join(',') + '\n'];
  let chunk = [];
  for (let i = 0; i < n; i++) {
    let line = String(i);
    for (let d = 0; d < dims; d++) line += ',' + coords[i * dims + d];
    if (labels) line += ',' + csvCell(labels[i] ?? '');
    chunk.push(line);
    if (chunk.length === 50_000) {
      parts.push(chunk.join('\n') + '\n');
      chunk = [];
    }
  }
  if (chunk.length) parts.push(chunk.join('\n') + '\n');
  return new Blob(parts, { type: 'text/csv' });
}

/**
 * Selected rows with their metadata.
 * @param {{index: number, role: string, distance?: number}[]} items
 * @param {(Record<string, string> | null)[]} rows metadata per item
 * @returns {Blob}
 */
export function selectionCsv(items, rows) {
  const columns = rows.find((r) => r) ? Object.keys(/** @type {Record<string,string>} */ (rows.find((r) => r))) : [];
  const lines = [['index', 'role', 'distance', ...columns].map(csvCell).join(',')];
  items.forEach((item, k) => {
    const row = rows[k] ?? {};
    lines.push([String(item.index), item.role, item.distance === undefined ? '' : String(item.distance), ...columns.map((c) => row[c] ?? '')].map(csvCell).join(','));
  });
  return new Blob([lines.join('\n') + '\n'], { type: 'text/csv' });
}

/** @param {Blob} blob @param {string} filename */
export function download(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
