"""Metadata edits: set (and create) a column for some rows, or a whole column; and the edited table as TSV.

Edits are stored in the data dir's copy of the metadata (a logdir's files are never written);
the store replaces that file atomically (projector.data.store.Store.edit_metadata).
"""

from __future__ import annotations

import gc
import math
from typing import Any

import numpy as np

from projector.data.metadata import MAX_COLUMNS, Metadata
from projector.data.rows import check_rows
from projector.data.store import Store
from projector.errors import InvalidInput, PayloadTooLarge
from projector.logdir import metadata_tsv

MAX_COLUMN_NAME = 200
MAX_VALUE = 10_000
# The stored metadata an edit may grow to (as --max-metadata-mb's default): without it, one PATCH of
# under 1 MiB (170,000 rows × a 10,000-character value) wrote 1.7 GB and held as much in memory.
MAX_METADATA_BYTES = 512 * 1024 * 1024


def invalid_edit(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="invalid_edit")


def check_column_name(name: Any) -> str:
    """A column name a TSV header can hold: printable, no tabs or line breaks, no surrounding spaces."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise invalid_edit(f"`column` must be a non-empty name without leading or trailing spaces, got {name!r}")
    if len(name) > MAX_COLUMN_NAME or any(ord(c) < 32 or c == "\x7f" for c in name):
        raise invalid_edit(f"`column` must be at most {MAX_COLUMN_NAME} printable characters (no tabs or line breaks)")
    return name


def cell_text(value: Any) -> str:
    """A metadata cell from a JSON value: text or a finite number; null clears the cell."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise invalid_edit(f"`value` must be text, a number or null, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise invalid_edit(f"`value` must be finite, got {value!r}")
    text = str(value)
    if len(text) > MAX_VALUE or any(c in text for c in "\t\r\n"):
        raise invalid_edit(f"`value` must be at most {MAX_VALUE} characters without tabs or line breaks")
    return text


def with_values(metadata: Metadata, column: str, rows: np.ndarray, values: list[str] | str) -> Metadata:
    """A new table where `column` (created empty if missing) holds `values` (one per row, or one for all) at `rows`.

    The input table is not modified (other threads may be reading it).
    """
    columns = list(metadata.columns)
    existed = column in columns
    if existed:
        position = columns.index(column)
        table = list(metadata.rows)
    else:
        if len(columns) >= MAX_COLUMNS:
            raise invalid_edit(f"the metadata already has {MAX_COLUMNS} columns, the most it may have")
        columns.append(column)
        position = len(columns) - 1
        table = [[*row, ""] for row in metadata.rows]
    single = isinstance(values, str)
    for i, row in enumerate(rows.tolist()):
        cells = list(table[row]) if existed else table[row]
        cells[position] = values if single else values[i]  # type: ignore[assignment]
        table[row] = cells
    dtypes = {name: kind for name, kind in metadata.dtypes.items() if name != column}
    return Metadata(columns, table, dtypes)


def set_cells(store: Store, dataset_id: str, body: Any) -> dict[str, Any]:
    """Apply `{"column", "rows", "value"}` to a dataset's metadata; returns what changed."""
    if not isinstance(body, dict) or not {"column", "rows", "value"} <= set(body):
        raise invalid_edit('the body must be a JSON object {"column": C, "rows": [...], "value": V}')
    column = check_column_name(body["column"])
    value = cell_text(body["value"])
    rows = check_rows(body["rows"], store.get_dataset(dataset_id)["n"], unique=False)
    grown = store.metadata_path(dataset_id).stat().st_size + len(rows) * (len(value.encode()) + 4)
    if grown > MAX_METADATA_BYTES:
        raise PayloadTooLarge(f"this edit would grow the metadata to {grown:,} bytes; at most {MAX_METADATA_BYTES:,} are kept")
    created = [False]

    def change(metadata: Metadata) -> tuple[Metadata, list[str]]:
        created[0] = column not in metadata.columns
        return with_values(metadata, column, rows, value), [column]

    store.edit_metadata(dataset_id, change)
    dataset = store.get_dataset(dataset_id)
    return {"column": column, "rows": len(rows), "value": value, "created": created[0], "columns": dataset["columns"],
            "column_types": dataset["column_types"]}  # fmt: skip


def set_column(store: Store, dataset_id: str, column: str, values: list[str], kind: str | None = None) -> None:
    """Set a whole column (created if missing), e.g. cluster ids; `kind` forces its type ("categorical")."""

    def change(metadata: Metadata) -> tuple[Metadata, list[str]]:
        if len(values) != len(metadata.rows):
            raise invalid_edit(f"{len(values)} values for a column of {len(metadata.rows)} rows")
        return with_column(metadata, column, values), [column]

    store.edit_metadata(dataset_id, change, {column: kind} if kind else None)


def with_column(metadata: Metadata, column: str, values: list[str]) -> Metadata:
    """A new table where `column` (appended if missing) holds `values`, in one pass over the rows.

    The collector is paused meanwhile: building a million row lists otherwise triggers full
    collections over the whole table: 3 to 5 times the work at 10^6 rows.
    """
    columns = list(metadata.columns)
    enabled = gc.isenabled()
    gc.disable()
    try:
        if column in columns:
            i = columns.index(column)
            rows = [[*row[:i], v, *row[i + 1 :]] for row, v in zip(metadata.rows, values)]
        else:
            if len(columns) >= MAX_COLUMNS:
                raise invalid_edit(f"the metadata already has {MAX_COLUMNS} columns, the most it may have")
            columns.append(column)
            rows = [[*row, v] for row, v in zip(metadata.rows, values)]
    finally:
        if enabled:
            gc.enable()
    dtypes = {name: kind for name, kind in metadata.dtypes.items() if name != column}
    return Metadata(columns, rows, dtypes)


def metadata_tsv_bytes(store: Store, dataset_id: str) -> bytes:
    """The dataset's metadata, edits included, as TensorBoard's TSV (one column: no header line)."""
    metadata = store.metadata(dataset_id)
    return metadata_tsv(metadata.rows, header=metadata.columns)
