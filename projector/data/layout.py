"""Where every file of the data dir lives: the only module that spells file names.

    DATA/catalog.sqlite                 datasets and projections (WAL)
    DATA/datasets/<id>/tensor.npy       float32, n × dim
    DATA/datasets/<id>/metadata.json    {"columns", "rows"}
    DATA/datasets/<id>/sprite.png       thumbnail atlas
    DATA/datasets/<id>/logdir.json      where a logdir dataset comes from
    DATA/datasets/<id>/selections/<name>.npy   a saved selection: row indices, int64
    DATA/datasets/<id>/bookmarks.json   a logdir dataset's TensorBoard bookmarks, as the log had them
    DATA/datasets/<id>/knn-<metric>-<k>-{indices,distances}.npy   the shared kNN graph
    DATA/datasets/<id>/<name>.npy       other derived caches (unit rows, squared norms)
    DATA/projections/<pid>.npy          finished coordinates, float32 n × dims
    DATA/tmp/                           uploads and datasets being written; emptied at start-up

Pure paths, no I/O beyond listing, and picklable: job workers (local or on a cluster) get a
DataDir from the job spec and find their files through it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from projector.errors import NotFound

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_GRAPH_NAME = re.compile(r"^knn-(cosine|euclidean)-(\d+)-indices\.npy$")


def check_id(value: str, kind: str) -> str:
    """Ids come from URLs: anything that is not a plain token is simply not found."""
    if not ID_PATTERN.match(value):
        raise NotFound(f"no {kind} with id {value!r}")
    return value


@dataclass(frozen=True)
class DatasetFiles:
    """The files of one dataset's folder."""

    folder: Path

    @property
    def tensor(self) -> Path:
        return self.folder / "tensor.npy"

    @property
    def metadata(self) -> Path:
        return self.folder / "metadata.json"

    @property
    def sprite(self) -> Path:
        return self.folder / "sprite.png"

    @property
    def logdir_state(self) -> Path:
        return self.folder / "logdir.json"

    @property
    def bookmarks(self) -> Path:
        return self.folder / "bookmarks.json"

    def derived(self, name: str) -> Path:
        return self.folder / f"{name}.npy"

    @property
    def selections(self) -> Path:
        return self.folder / "selections"

    def selection(self, name: str) -> Path:
        """A saved selection's rows (the name is checked by projector.data.selections)."""
        return self.selections / f"{name}.npy"

    def graph(self, metric: str, k: int) -> tuple[Path, Path]:
        """(indices, distances) of the cached kNN graph with k neighbours."""
        return self.folder / f"knn-{metric}-{k}-indices.npy", self.folder / f"knn-{metric}-{k}-distances.npy"

    def graph_ks(self, metric: str) -> list[int]:
        """The neighbour counts of the complete graphs cached for `metric`, smallest first."""
        found = []
        for path in self.folder.glob(f"knn-{metric}-*-indices.npy"):
            match = _GRAPH_NAME.match(path.name)
            if match and self.graph(metric, int(match.group(2)))[1].exists():
                found.append(int(match.group(2)))
        return sorted(found)


@dataclass(frozen=True)
class DataDir:
    """The data dir's folders, and the path of any dataset or projection in it."""

    root: Path

    @property
    def catalog(self) -> Path:
        return self.root / "catalog.sqlite"

    @property
    def datasets(self) -> Path:
        return self.root / "datasets"

    @property
    def projections(self) -> Path:
        return self.root / "projections"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    def dataset(self, dataset_id: str) -> DatasetFiles:
        return DatasetFiles(self.datasets / check_id(dataset_id, "dataset"))

    def coords(self, pid: str) -> Path:
        return self.projections / f"{check_id(pid, 'projection')}.npy"

    # Working files of jobs that run on a cluster (projector.jobs.executors.dask); keys are our own tokens.
    def frame(self, key: str) -> Path:
        """The latest live frame of a job running on another machine: raw little-endian float32."""
        return self.tmp / f"frame-{check_id(key, 'job')}.f32"

    def probe(self, token: str) -> Path:
        """A file the server writes so that cluster workers can prove they see this data dir."""
        return self.tmp / f"probe-{check_id(token, 'probe')}"

    def graph_work(self, key: str) -> GraphWork:
        return GraphWork(self.tmp / f"graph-{check_id(key, 'job')}")


@dataclass(frozen=True)
class GraphWork:
    """A kNN graph being built block by block by several processes: the shared plan and each block's rows."""

    folder: Path

    @property
    def plan(self) -> Path:
        return self.folder / "plan.npz"

    def block(self, index: int) -> Path:
        return self.folder / f"block-{index}.npz"
