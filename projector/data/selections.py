"""Saved selections: named lists of a dataset's rows, kept in its folder (they go when the dataset goes)."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from projector.data.atomic import atomic_write
from projector.data.rows import check_rows
from projector.data.store import Store
from projector.errors import InvalidInput, NotFound

NAME = re.compile(r"^\w[\w .-]{0,99}$")  # letters (any script), digits, _ - . and spaces; no slashes
MAX_SELECTIONS = 1000


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not NAME.match(name) or name.endswith((" ", ".")):
        raise InvalidInput(
            f"a selection name is 1 to 100 letters, digits, spaces and _ - . (starting with a letter or digit), got {name!r}",
            code="invalid_name",
        )
    return name


def save_selection(store: Store, dataset_id: str, body: Any) -> dict[str, Any]:
    """Store `{"name", "rows"}` (replacing a selection of that name); returns its summary."""
    if not isinstance(body, dict) or "name" not in body or "rows" not in body:
        raise InvalidInput('the body must be a JSON object {"name": NAME, "rows": [...]}', code="invalid_body")
    name = check_name(body["name"])
    rows = check_rows(body["rows"], store.get_dataset(dataset_id)["n"], minimum=1)
    files = store.files(dataset_id)
    path = files.selection(name)
    if not path.exists() and len(list_selections(store, dataset_id)) >= MAX_SELECTIONS:
        raise InvalidInput(f"dataset {dataset_id!r} already has {MAX_SELECTIONS} saved selections; delete some first", code="too_many")
    files.selections.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    np.save(buffer, rows.astype("<i8"))
    atomic_write(path, buffer.getvalue())
    return _summary(name, path, len(rows))


def _summary(name: str, path: Path, count: int) -> dict[str, Any]:
    return {"name": name, "count": count, "saved": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(path.stat().st_mtime))}


def list_selections(store: Store, dataset_id: str) -> list[dict[str, Any]]:
    """Every saved selection of a dataset: name, row count and when it was saved, by name."""
    store.get_dataset(dataset_id)
    folder = store.files(dataset_id).selections
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.glob("*.npy")):
        if NAME.match(path.stem):
            found.append(_summary(path.stem, path, int(np.load(path, mmap_mode="r").shape[0])))
    return found


def load_selection(store: Store, dataset_id: str, name: str) -> np.ndarray:
    """The rows of a saved selection, in the order they were saved."""
    store.get_dataset(dataset_id)
    path = store.files(dataset_id).selection(check_name(name))
    if not path.is_file():
        raise NotFound(f"dataset {dataset_id!r} has no selection named {name!r}", code="no_selection")
    return np.load(path)  # type: ignore[no-any-return]


def delete_selection(store: Store, dataset_id: str, name: str) -> None:
    load_selection(store, dataset_id, name)
    store.files(dataset_id).selection(name).unlink(missing_ok=True)
