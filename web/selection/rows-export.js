// Selected rows as files: a TSV (index, then the metadata columns) and a JSON document.

/** A TSV cell: tabs and line breaks would break the table. @param {string} s */
const cell = (s) => String(s ?? '').replace(/[\t\r\n]+/g, ' ');

/** @param {(Record<string, string> | null)[]} records */
const columnsOf = (records) => Object.keys(records.find((r) => r) ?? {});

/**
 * @param {number[]} rows @param {(Record<string, string> | null)[]} records metadata per row
 * @returns {Blob}
 */
export function selectionTsv(rows, records) {
  const columns = columnsOf(records).filter((c) => c !== 'index');
  const lines = [['index', ...columns].map(cell).join('\t')];
  rows.forEach((index, k) => {
    const r = records[k] ?? {};
    lines.push([String(index), ...columns.map((c) => cell(r[c]))].join('\t'));
  });
  return new Blob([lines.join('\n') + '\n'], { type: 'text/tab-separated-values' });
}

/**
 * `{"dataset", "rows": [...], "metadata": [{column: value}, ...]}`.
 * @param {string} dataset @param {number[]} rows @param {(Record<string, string> | null)[]} records
 * @returns {Blob}
 */
export function selectionJson(dataset, rows, records) {
  const body = { dataset, count: rows.length, rows, metadata: records.map((r) => r ?? {}) };
  return new Blob([JSON.stringify(body)], { type: 'application/json' });
}
