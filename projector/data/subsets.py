"""Subsets: a new dataset made of some of a dataset's rows (TensorBoard's "isolate"), copied, in the order given.

The copy is a dataset like any other (it outlives its parent); only its catalog row remembers
the parent. Tensor rows are copied in chunks, so memory stays bounded for a million rows.
"""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np

from projector.data.atomic import atomic_path
from projector.data.metadata import Metadata, write_metadata_json
from projector.data.rows import check_rows, invalid_rows
from projector.data.search import search
from projector.data.store import Store
from projector.errors import InvalidInput

CHUNK_ROWS = 65536


def subset_rows(store: Store, dataset_id: str, body: Any) -> tuple[np.ndarray, str]:
    """The rows a subset request names, and a default name for it.

    `{"rows": [...]}` keeps those rows in that order; `{"q": REGEX, "column": C}` keeps the rows
    the metadata search finds, in row order. At least 2 rows, each listed once.
    """
    if not isinstance(body, dict):
        raise InvalidInput('the body must be a JSON object: {"rows": [...]} or {"q": REGEX, "column": C}', code="invalid_body")
    n = store.get_dataset(dataset_id)["n"]
    if ("rows" in body) == ("q" in body):
        raise InvalidInput('give either "rows" (row indices) or "q" (a regular expression), not both or neither', code="invalid_body")
    if "rows" in body:
        return check_rows(body["rows"], n, minimum=2), f"{len(body['rows'])} rows"
    pattern, column = body["q"], body.get("column")
    if not isinstance(pattern, str) or not (column is None or isinstance(column, str)):
        raise InvalidInput('"q" must be a regular expression and "column" a column name', code="invalid_body")
    count, hits = search(store.metadata(dataset_id), pattern, column or None, n)
    where = f" in column {column!r}" if column else ""
    if count == 0:
        raise InvalidInput(f"the pattern {pattern!r} matches no row{where}", code="no_match")
    if count < 2:
        raise invalid_rows(f"the pattern {pattern!r} matches only row {hits[0]}{where}; a subset needs at least 2 rows")
    return np.asarray(hits, dtype=np.int64), f"{pattern}" + (f" in {column}" if column else "")


def create_subset(store: Store, parent_id: str, rows: np.ndarray, name: str) -> dict[str, Any]:
    """Copy `rows` of the parent (tensor and metadata rows, in that order) into a new dataset; returns it."""
    parent = store.get_dataset(parent_id)
    X = store.tensor(parent_id)
    metadata = store.metadata(parent_id)
    staging = store.staging()
    try:
        with atomic_path(staging.tensor) as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype="<f4", shape=(len(rows), X.shape[1]))
            for start in range(0, len(rows), CHUNK_ROWS):
                chunk = rows[start : start + CHUNK_ROWS]
                out[start : start + len(chunk)] = X[chunk]
            out.flush()
            del out
        table = Metadata(list(metadata.columns), [metadata.rows[i] for i in rows.tolist()], dict(metadata.dtypes))
        write_metadata_json(table, staging.metadata)
        return store.commit_dataset(
            staging,
            name=name,
            n=len(rows),
            dim=X.shape[1],
            columns=table.columns,
            column_types=parent["column_types"],
            source="subset",
            parent=parent["id"],
        )
    except BaseException:
        shutil.rmtree(staging.folder, ignore_errors=True)
        raise
