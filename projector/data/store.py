"""The data dir: an SQLite catalog of datasets and projections, and the files behind it.

The file layout is projector.data.layout's; every file is written through projector.data.atomic
(temp name, fsync, rename, fsync the folder) and a dataset's catalog row is written last, so a
crash or a power cut at any point leaves nothing half-written listed.
"""

from __future__ import annotations

import secrets
import shutil
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from projector.data.atomic import atomic_path, move_into
from projector.data.layout import DataDir, DatasetFiles, check_id
from projector.data.metadata import Metadata, column_types, read_metadata_json, write_metadata_json
from projector.errors import NotFound

ACTIVE_STATUSES = ("queued", "running")
SOURCES = ("upload", "logdir", "demo", "subset")  # where a dataset came from (its `source`)
INTERRUPTED = "interrupted: the server stopped before this projection finished; request it again"
SCHEMA = """
CREATE TABLE IF NOT EXISTS datasets (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    n INTEGER NOT NULL,
    dim INTEGER NOT NULL,
    columns TEXT NOT NULL,
    column_types TEXT NOT NULL,
    source TEXT NOT NULL,
    created TEXT NOT NULL,
    sprite_dim TEXT,
    parent TEXT
);
CREATE TABLE IF NOT EXISTS projections (
    id TEXT PRIMARY KEY,
    dataset TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    method TEXT NOT NULL,
    dims INTEGER NOT NULL,
    params TEXT NOT NULL,
    cache_key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    iteration INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    result TEXT NOT NULL DEFAULT '{}',
    created TEXT NOT NULL,
    finished TEXT
);
CREATE INDEX IF NOT EXISTS projections_by_dataset ON projections(dataset);
-- where an imported dataset came from (e.g. a logdir embedding at one step), so importing it again finds it
CREATE TABLE IF NOT EXISTS dataset_sources (key TEXT PRIMARY KEY, dataset TEXT NOT NULL);
"""


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_id() -> str:
    return secrets.token_hex(6)


class Store:
    """Datasets and projections under one data dir; safe to use from several threads."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = DataDir(Path(data_dir).expanduser().resolve())
        self.root = self.dir.root
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # datasets are private to their owner
        for folder in (self.dir.datasets, self.dir.projections, self.dir.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.dir.catalog, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a commit that returned survives a power cut
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(SCHEMA)
        if "parent" not in {row["name"] for row in self._query("PRAGMA table_info(datasets)")}:
            self._execute("ALTER TABLE datasets ADD COLUMN parent TEXT")  # a data dir from before subsets
        self._tensors: dict[str, np.ndarray] = {}
        self._metadata: OrderedDict[str, Metadata] = OrderedDict()
        self._derived_locks: dict[tuple[str, str], threading.Lock] = {}

    # -- start-up -----------------------------------------------------------------------------

    def recover(self) -> None:
        """Drop what a crash left behind: temp files, unlisted dataset dirs, jobs stuck running.

        Only the server calls this, at start-up: a CLI command running beside a live server must not.
        """
        for leftover in self.dir.tmp.iterdir():
            shutil.rmtree(leftover, ignore_errors=True) if leftover.is_dir() else leftover.unlink(missing_ok=True)
        listed = {row["id"] for row in self._query("SELECT id FROM datasets")}
        for folder in self.dir.datasets.iterdir():
            if folder.name not in listed:
                shutil.rmtree(folder, ignore_errors=True)
            else:  # caches (kNN graphs, normalised copies) cut short while being written
                for partial in folder.glob(".*"):
                    partial.unlink(missing_ok=True)
        for leftover in self.dir.projections.glob(".*"):
            leftover.unlink(missing_ok=True)
        self._execute(
            "UPDATE projections SET status='failed', error=? WHERE status IN ('queued', 'running')",
            (INTERRUPTED,),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- catalog helpers ----------------------------------------------------------------------

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def _execute(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        with self._lock:
            self._db.execute(sql, args)

    # -- datasets -----------------------------------------------------------------------------

    def staging(self) -> DatasetFiles:
        """A fresh dataset folder under tmp/ where a new dataset's files are written."""
        path = self.dir.tmp / f"staging-{new_id()}"
        path.mkdir()
        return DatasetFiles(path)

    def temp_path(self, prefix: str) -> Path:
        """A fresh name under tmp/ (uploads in flight, scratch files); removed at start-up if left."""
        return self.dir.tmp / f"{prefix}-{new_id()}"

    def commit_dataset(
        self,
        staging: DatasetFiles,
        *,
        name: str,
        n: int,
        dim: int,
        columns: list[str],
        column_types: dict[str, str],
        source: str,
        sprite_dim: tuple[int, int] | None = None,
        dataset_id: str | None = None,
        parent: str | None = None,
    ) -> dict[str, Any]:
        """Move a fully written staging folder into place, then list it in the catalog."""
        assert source in SOURCES, source
        dataset_id = dataset_id or new_id()
        move_into(staging.folder, self.dir.dataset(dataset_id).folder)
        self._execute(
            "INSERT INTO datasets (id, name, n, dim, columns, column_types, source, created, sprite_dim, parent)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                dataset_id, name, n, dim, orjson.dumps(columns).decode(), orjson.dumps(column_types).decode(),
                source, utc_now(), f"{sprite_dim[0]},{sprite_dim[1]}" if sprite_dim else None, parent,
            ),
        )  # fmt: skip
        return self.get_dataset(dataset_id)

    def _dataset_object(self, row: sqlite3.Row) -> dict[str, Any]:
        sprite = None
        if row["sprite_dim"]:
            width, height = (int(v) for v in row["sprite_dim"].split(","))
            sprite = {"dim": [width, height]}
        return {
            "id": row["id"],
            "name": row["name"],
            "n": row["n"],
            "dim": row["dim"],
            "columns": orjson.loads(row["columns"]),
            "column_types": orjson.loads(row["column_types"]),
            "source": row["source"],
            "created": row["created"],
            "sprite": sprite,
            "parent": row["parent"],
            **(self._logdir_info(row["id"]) if row["source"] == "logdir" else {}),
        }

    def _logdir_info(self, dataset_id: str) -> dict[str, Any]:
        """Where a logdir dataset comes from: run, tensor, training step and the sequence it belongs to."""
        info = self.logdir_state(dataset_id)
        if info is None:
            return {}
        return {key: info.get(key) for key in ("run", "tensor_name", "step", "sequence")} | {"has_bookmarks": bool(info.get("bookmarks"))}

    def logdir_state(self, dataset_id: str) -> dict[str, Any] | None:
        """What a logdir dataset was imported from (written at import by `ingest(logdir_state=...)`)."""
        try:
            info = orjson.loads(self.files(dataset_id).logdir_state.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return None
        return info if isinstance(info, dict) else None

    def bookmarks_path(self, dataset_id: str) -> Path | None:
        """A logdir dataset's bookmarks, copied into the data dir when it was imported."""
        path = self.files(dataset_id).bookmarks
        return path if path.is_file() else None

    def list_datasets(self) -> list[dict[str, Any]]:
        return [self._dataset_object(row) for row in self._query("SELECT * FROM datasets ORDER BY created, rowid")]

    def get_dataset(self, dataset_id: str) -> dict[str, Any]:
        rows = self._query("SELECT * FROM datasets WHERE id = ?", (check_id(dataset_id, "dataset"),))
        if not rows:
            raise NotFound(f"no dataset with id {dataset_id!r}")
        return self._dataset_object(rows[0])

    def find_dataset(self, id_or_name: str) -> dict[str, Any]:
        """A dataset by id, or by name when exactly one dataset has that name."""
        rows = self._query("SELECT * FROM datasets WHERE id = ?", (id_or_name,))
        if not rows:
            rows = self._query("SELECT * FROM datasets WHERE name = ?", (id_or_name,))
        if len(rows) > 1:
            raise NotFound(f"{len(rows)} datasets are named {id_or_name!r}; use the id")
        if not rows:
            raise NotFound(f"no dataset with id or name {id_or_name!r}")
        return self._dataset_object(rows[0])

    def delete_dataset(self, dataset_id: str) -> list[str]:
        """Unlist a dataset, then remove its files; returns the ids of its projections."""
        self.get_dataset(dataset_id)
        pids = [row["id"] for row in self._query("SELECT id FROM projections WHERE dataset = ?", (dataset_id,))]
        self._execute("DELETE FROM datasets WHERE id = ?", (dataset_id,))
        self._execute("DELETE FROM dataset_sources WHERE dataset = ?", (dataset_id,))
        with self._lock:
            self._tensors.pop(dataset_id, None)
            self._metadata.pop(dataset_id, None)
        shutil.rmtree(self.files(dataset_id).folder, ignore_errors=True)
        for pid in pids:
            self.coords_path(pid).unlink(missing_ok=True)
        return pids

    def dataset_by_source(self, key: str) -> dict[str, Any] | None:
        """The listed dataset imported from `key` (see `claim_source`), or None."""
        rows = self._query("SELECT d.* FROM dataset_sources s JOIN datasets d ON d.id = s.dataset WHERE s.key = ?", (key,))
        return self._dataset_object(rows[0]) if rows else None

    def claim_source(self, key: str, dataset_id: str) -> str | None:
        """Record that `dataset_id` (about to be committed) is imported from `key`, unless a listed dataset already is.

        Returns the id of that dataset, or None when the claim is made. One transaction, so two
        processes importing the same source at once make one dataset; a claim whose dataset was
        never committed is taken over.
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._db.execute(
                    "SELECT d.id FROM dataset_sources s JOIN datasets d ON d.id = s.dataset WHERE s.key = ?", (key,)
                ).fetchall()
                if not rows:
                    self._db.execute("INSERT OR REPLACE INTO dataset_sources (key, dataset) VALUES (?, ?)", (key, dataset_id))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return str(rows[0]["id"]) if rows else None

    def dataset_count(self) -> int:
        return int(self._query("SELECT COUNT(*) AS c FROM datasets")[0]["c"])

    def dataset_totals(self) -> tuple[int, int]:
        """(datasets, bytes of their float32 tensors), from the catalog alone."""
        row = self._query("SELECT COUNT(*) AS c, COALESCE(SUM(n * dim), 0) AS values_ FROM datasets")[0]
        return int(row["c"]), 4 * int(row["values_"])

    def projection_counts(self) -> list[tuple[str, str, int]]:
        """(method, status, how many) over every projection in the catalog."""
        rows = self._query("SELECT method, status, COUNT(*) AS c FROM projections GROUP BY method, status")
        return [(row["method"], row["status"], int(row["c"])) for row in rows]

    def files(self, dataset_id: str) -> DatasetFiles:
        """The dataset's files (tensor, metadata, sprite, graph caches), by role."""
        return self.dir.dataset(dataset_id)

    def tensor(self, dataset_id: str) -> np.ndarray:
        """The dataset's float32 tensor, memory-mapped read-only."""
        with self._lock:
            cached = self._tensors.get(dataset_id)
        if cached is not None:
            return cached
        self.get_dataset(dataset_id)
        array = np.load(self.files(dataset_id).tensor, mmap_mode="r")
        with self._lock:
            self._tensors[dataset_id] = array
        return array

    def metadata_path(self, dataset_id: str) -> Path:
        return self.files(dataset_id).metadata

    def metadata(self, dataset_id: str) -> Metadata:
        with self._lock:
            if dataset_id in self._metadata:
                self._metadata.move_to_end(dataset_id)
                return self._metadata[dataset_id]
        self.get_dataset(dataset_id)
        metadata = read_metadata_json(self.metadata_path(dataset_id))
        with self._lock:
            self._metadata[dataset_id] = metadata
            while len(self._metadata) > 4:
                self._metadata.popitem(last=False)
        return metadata

    def edit_metadata(
        self, dataset_id: str, change: Callable[[Metadata], tuple[Metadata, list[str]]], kinds: dict[str, str] | None = None
    ) -> Metadata:
        """Replace a dataset's metadata with `change(current)` = (new metadata, names of the columns it changed).

        One edit at a time per dataset: the file is replaced atomically, then the catalog's column
        list and the changed columns' types (inferred, or as given in `kinds`, e.g. cluster ids: categorical).
        """
        dataset = self.get_dataset(dataset_id)
        with self._lock:
            lock = self._derived_locks.setdefault((dataset_id, "metadata"), threading.Lock())
        with lock:
            metadata, changed = change(self.metadata(dataset_id))
            write_metadata_json(metadata, self.metadata_path(dataset_id))
            types = {name: kind for name, kind in dataset["column_types"].items() if name in metadata.columns}
            for name in changed:
                inferred = (kinds or {}).get(name) or column_types(Metadata([name], [[v] for v in metadata.column(name)]))[name]
                types[name] = inferred
            self._execute(
                "UPDATE datasets SET columns = ?, column_types = ? WHERE id = ?",
                (orjson.dumps(metadata.columns).decode(), orjson.dumps(types).decode(), dataset_id),
            )
            with self._lock:
                self._metadata[dataset_id] = metadata
        return metadata

    def sprite_path(self, dataset_id: str) -> Path | None:
        path = self.files(dataset_id).sprite
        return path if path.exists() else None

    def derived(self, dataset_id: str, name: str, build: Callable[[Path], None]) -> np.ndarray:
        """A cache file derived from a dataset, built once by `build(tmp_path)` and memory-mapped."""
        path = self.files(dataset_id).derived(name)
        with self._lock:
            lock = self._derived_locks.setdefault((dataset_id, name), threading.Lock())
        with lock:
            if not path.exists():
                with atomic_path(path) as tmp:
                    build(tmp)
        return np.load(path, mmap_mode="r")

    # -- projections --------------------------------------------------------------------------

    @staticmethod
    def _projection_object(row: sqlite3.Row) -> dict[str, Any]:
        result = orjson.loads(row["result"])
        obj = {
            "id": row["id"],
            "dataset": row["dataset"],
            "method": row["method"],
            "dims": row["dims"],
            "params": orjson.loads(row["params"]),
            "status": row["status"],
            "progress": row["progress"],
            "iteration": row["iteration"],
            "error": row["error"],
            "quality": result.pop("quality", None),
            "created": row["created"],
            "finished": row["finished"],
        }
        obj.update(result)
        return obj

    def get_projection(self, pid: str) -> dict[str, Any]:
        rows = self._query("SELECT * FROM projections WHERE id = ?", (check_id(pid, "projection"),))
        if not rows:
            raise NotFound(f"no projection with id {pid!r}")
        return self._projection_object(rows[0])

    def projections_for(self, dataset_id: str) -> list[dict[str, Any]]:
        self.get_dataset(dataset_id)
        rows = self._query("SELECT * FROM projections WHERE dataset = ? ORDER BY created, rowid", (dataset_id,))
        return [self._projection_object(row) for row in rows]

    def claim_projection(self, dataset_id: str, method: str, dims: int, params: dict[str, Any]) -> tuple[dict[str, Any], bool]:
        """The projection for this exact request, created (or reset after a failure) if needed.

        Returns (projection, needs_run): needs_run is True when the caller must start the job.
        """
        key, params_json = self._cache_key(dataset_id, method, dims, params)
        with self._lock:
            rows = self._db.execute("SELECT * FROM projections WHERE cache_key = ?", (key,)).fetchall()
            if rows:
                row = rows[0]
                if self._usable(row):
                    return self._projection_object(row), False
                self._db.execute(
                    "UPDATE projections SET status='queued', progress=0, iteration=0, error=NULL, result='{}', finished=NULL WHERE id = ?",
                    (row["id"],),
                )
                return self.get_projection(row["id"]), True
            pid = new_id()
            self._db.execute(
                "INSERT INTO projections (id, dataset, method, dims, params, cache_key, status, created)"
                " VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                (pid, dataset_id, method, dims, params_json, key, utc_now()),
            )
        return self.get_projection(pid), True

    def cached_projection(self, dataset_id: str, method: str, dims: int, params: dict[str, Any]) -> dict[str, Any] | None:
        """The projection `claim_projection` would return without starting a job, or None (nothing is written)."""
        key, _ = self._cache_key(dataset_id, method, dims, params)
        rows = self._query("SELECT * FROM projections WHERE cache_key = ?", (key,))
        return self._projection_object(rows[0]) if rows and self._usable(rows[0]) else None

    @staticmethod
    def _cache_key(dataset_id: str, method: str, dims: int, params: dict[str, Any]) -> tuple[str, str]:
        params_json = orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()
        return f"{dataset_id}|{method}|{dims}|{params_json}", params_json

    def _usable(self, row: sqlite3.Row) -> bool:
        """Queued, running, or done with its coordinates on disk."""
        return row["status"] in ACTIVE_STATUSES or (row["status"] == "done" and self.coords_path(row["id"]).exists())

    def update_projection(self, pid: str, **fields: Any) -> None:
        """Set status/progress/iteration/error, or merge `result` (a dict) into the stored result."""
        with self._lock:
            if "result" in fields:
                rows = self._db.execute("SELECT result FROM projections WHERE id = ?", (pid,)).fetchall()
                if not rows:
                    return
                merged = orjson.loads(rows[0]["result"])
                merged.update(fields["result"])
                fields["result"] = orjson.dumps(merged).decode()
            if fields.get("status") in ("done", "failed", "cancelled"):
                fields["finished"] = utc_now()
            assignments = ", ".join(f"{column} = ?" for column in fields)
            self._db.execute(f"UPDATE projections SET {assignments} WHERE id = ?", (*fields.values(), pid))

    def coords_path(self, pid: str) -> Path:
        return self.dir.coords(pid)

    def load_coords(self, pid: str) -> np.ndarray:
        """A finished projection's coordinates, float32 n × dims."""
        return np.load(self.dir.coords(pid))

    def active_projections(self) -> Iterator[str]:
        for row in self._query("SELECT id FROM projections WHERE status IN ('queued', 'running')"):
            yield row["id"]
