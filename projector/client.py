"""A small Python client for the HTTP API (standard library only, plus numpy)."""

from __future__ import annotations

import io
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import orjson

from projector.errors import ProjectorError
from projector.logdir.metadata_tsv import metadata_tsv as write_metadata_tsv

PARQUET = "application/vnd.apache.parquet"
UPLOAD_CHUNK = 1 << 22
TERMINAL = ("done", "failed", "cancelled")
EVENTS_READ_TIMEOUT = 60.0  # the server sends a keep-alive line every 15 s


def _npy_stream(array: np.ndarray) -> tuple[list[bytes | memoryview], int]:
    """The `.npy` encoding of a float32 matrix as (pieces, total length), without copying the data."""
    array = np.ascontiguousarray(array, dtype="<f4")
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(array))
    raw = array.reshape(-1).data.cast("B")
    pieces: list[bytes | memoryview] = [header.getvalue()]
    pieces += [raw[start : start + UPLOAD_CHUNK] for start in range(0, len(raw), UPLOAD_CHUNK)]
    return pieces, sum(len(p) for p in pieces)


class Coordinates(np.ndarray):
    """A projection's n × dims float32 coordinates that remember where they come from.

    `projection_id` and `dataset_id` name the projection on the server (for `notebook.show`,
    `Client.to_pandas` or the export routes); otherwise it is a plain `np.ndarray`.
    """

    projection_id: str | None
    dataset_id: str | None

    def __array_finalize__(self, obj: Any) -> None:
        self.projection_id = getattr(obj, "projection_id", None)
        self.dataset_id = getattr(obj, "dataset_id", None)


def _is_table(data: Any) -> bool:
    """A pandas DataFrame or a pyarrow Table (told apart without importing either)."""
    return type(data).__module__.split(".")[0] in ("pandas", "pyarrow") and hasattr(data, "columns")


def table_parquet(data: Any) -> bytes:
    """A DataFrame or Arrow table as Parquet bytes (the DataFrame's index is left out)."""
    import pyarrow as pa  # third-party and heavy: only for DataFrame uploads
    import pyarrow.parquet as pq

    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def metadata_tsv(metadata: Any) -> bytes:
    """Metadata as TensorBoard's TSV, by the one writer TensorBoard's page and the server read alike.

    Accepts a sequence of labels (one column), a mapping of column name → values, a pandas
    DataFrame, or a sequence of rows whose first element is the header (a list of names). One
    column is sent without a header (TensorBoard's rule), so the server names it `label`.
    """
    if not isinstance(metadata, Mapping) and not hasattr(metadata, "itertuples"):
        values = list(metadata)
        if values and isinstance(values[0], (list, tuple)):
            return write_metadata_tsv(values[1:], header=values[0])
        return write_metadata_tsv(values)
    return write_metadata_tsv(metadata)


class Client:
    """Talks to a running `projector serve`.

    >>> client = Client("http://127.0.0.1:6006")
    >>> dataset = client.upload(vectors, metadata={"label": labels}, name="my embeddings")
    >>> coords = client.project(dataset, "pca", dims=3)

    `token` (default $PROJECTOR_TOKEN) is sent as `Authorization: Bearer <token>` on every request.
    """

    def __init__(self, url: str = "http://127.0.0.1:6006", token: str | None = None, timeout: float = 600.0) -> None:
        self.url = url.rstrip("/")
        self.token = token if token is not None else os.environ.get("PROJECTOR_TOKEN") or None
        self.timeout = timeout

    # -- plumbing -----------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, query: Mapping[str, Any] | None = None,
        body: bytes | Iterable[bytes | memoryview] | None = None, length: int | None = None, content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[bytes, Mapping[str, str]]:  # fmt: skip
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # type: ignore[arg-type]
        if content_type:
            request.add_header("Content-Type", content_type)
        if length is not None:
            request.add_header("Content-Length", str(length))
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.read(), response.headers
        except urllib.error.HTTPError as exc:
            payload = exc.read()
            try:
                error = orjson.loads(payload)
                raise ProjectorError(error["detail"], code=error["error"], status=exc.code) from None
            except (orjson.JSONDecodeError, KeyError, TypeError):
                raise ProjectorError(payload.decode("utf-8", "replace") or str(exc), status=exc.code) from None

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        payload, _ = self._request(method, path, **kwargs)
        return orjson.loads(payload) if payload else None

    def _array(self, path: str) -> np.ndarray:
        payload, headers = self._request("GET", path)
        shape = tuple(int(s) for s in headers["X-Shape"].split(","))
        return np.frombuffer(payload, dtype="<f4").reshape(shape)

    # -- datasets -----------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._json("GET", "/api/health")  # type: ignore[no-any-return]

    def datasets(self) -> list[dict[str, Any]]:
        return self._json("GET", "/api/datasets")  # type: ignore[no-any-return]

    def dataset(self, dataset_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/datasets/{dataset_id}")  # type: ignore[no-any-return]

    def upload(
        self, array: Any, metadata: Any = None, name: str | None = None, sprite: bytes | None = None,
        sprite_dim: tuple[int, int] | None = None, embedding: str | None = None,
    ) -> str:  # fmt: skip
        """Upload a 2-D array (and optional metadata and sprite PNG); returns the new dataset id.

        `array` may also be a pandas DataFrame (or a pyarrow Table) whose `embedding` column holds
        the vectors (lists or arrays; default: the only such column): it travels as Parquet, and
        its other columns become the metadata with their types.
        """
        query = {"name": name}
        if _is_table(array):
            if metadata is not None:
                raise ValueError("a DataFrame carries its metadata in its columns; pass no `metadata`")
            pieces: list[bytes | memoryview] = [table_parquet(array)]
            length, tensor_type, tensor_name = len(pieces[0]), PARQUET, "tensor.parquet"
            query["embedding"] = embedding
        else:
            if embedding is not None:
                raise ValueError("`embedding` names a DataFrame's embedding column; `array` is not a DataFrame")
            pieces, length = _npy_stream(np.asarray(array))
            tensor_type, tensor_name = "application/x-npy", "tensor.npy"
        if metadata is None and sprite is None:
            dataset = self._json("POST", "/api/datasets", query=query, body=iter(pieces), length=length, content_type=tensor_type)
            return str(dataset["id"])
        boundary = secrets.token_hex(16)

        def part(field: str, filename: str | None, content_type: str | None) -> bytes:
            disposition = f'form-data; name="{field}"' + (f'; filename="{filename}"' if filename else "")
            head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
            if content_type:
                head += f"Content-Type: {content_type}\r\n"
            return (head + "\r\n").encode()

        body: list[bytes | memoryview] = [part("tensor", tensor_name, tensor_type), *pieces, b"\r\n"]
        if metadata is not None:
            body += [part("metadata", "metadata.tsv", "text/tab-separated-values"), metadata_tsv(metadata), b"\r\n"]
        if sprite is not None:
            body += [part("sprite", "sprite.png", "image/png"), sprite, b"\r\n"]
            if sprite_dim is not None:
                body += [part("sprite_dim", None, None), f"{sprite_dim[0]},{sprite_dim[1]}".encode(), b"\r\n"]
        body.append(f"--{boundary}--\r\n".encode())
        dataset = self._json(
            "POST", "/api/datasets", query=query, body=iter(body), length=sum(len(p) for p in body),
            content_type=f"multipart/form-data; boundary={boundary}",
        )  # fmt: skip
        return str(dataset["id"])

    def delete(self, dataset_id: str) -> None:
        self._request("DELETE", f"/api/datasets/{dataset_id}")

    def tensor(self, dataset_id: str) -> np.ndarray:
        return self._array(f"/api/datasets/{dataset_id}/tensor")

    def metadata(self, dataset_id: str) -> dict[str, Any]:
        return self._json("GET", f"/api/datasets/{dataset_id}/metadata")  # type: ignore[no-any-return]

    def to_pandas(self, dataset_id: str, projection: str | Coordinates | None = None, embedding: str = "embedding") -> Any:
        """The dataset as a pandas DataFrame: the `embedding` column (float32 vectors) and the metadata with their types.

        With `projection` (an id, or what `project` returned): the projection's metadata columns and
        its coordinates `x`, `y` (`z`) instead. Needs pandas (`pip install "projector[pandas]"`).
        """
        try:
            import pandas as pd
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as err:
            raise ImportError('Client.to_pandas needs pandas and pyarrow: pip install "projector[pandas]"') from err
        if projection is None:
            payload, _ = self._request("GET", f"/api/datasets/{dataset_id}/export", query={"format": "parquet", "embedding": embedding})
        else:
            pid = str(getattr(projection, "projection_id", None) or projection)
            owner = self.projection(pid)["dataset"]
            if owner != dataset_id:
                raise ValueError(f"projection {pid} belongs to dataset {owner}, not {dataset_id}")
            payload, _ = self._request("GET", f"/api/projections/{pid}/export", query={"format": "parquet"})
        table = pq.read_table(pa.BufferReader(payload))
        frame = table.to_pandas()
        for name in table.column_names:  # integers and booleans with nulls: pandas' nullable types, not float/object
            column = table.column(name)
            if column.null_count and (pa.types.is_integer(column.type) or pa.types.is_boolean(column.type)):
                kind = (
                    "boolean"
                    if pa.types.is_boolean(column.type)
                    else f"{'U' if pa.types.is_unsigned_integer(column.type) else ''}Int{column.type.bit_width}"
                )
                frame[name] = pd.array(column.to_pylist(), dtype=kind)
        return frame

    # -- projections --------------------------------------------------------------------------

    def start_projection(self, dataset_id: str, method: str = "pca", dims: int = 2, **params: Any) -> dict[str, Any]:
        """Request a projection and return its object at once (it may still be queued or running)."""
        body = orjson.dumps({"method": method, "dims": dims, "params": params})
        return self._json("POST", f"/api/datasets/{dataset_id}/projections", body=body, content_type="application/json")  # type: ignore[no-any-return]

    def projection(self, pid: str) -> dict[str, Any]:
        return self._json("GET", f"/api/projections/{pid}")  # type: ignore[no-any-return]

    def events(self, pid: str, timeout: float | None = None) -> Iterator[dict[str, Any]]:
        """The projection object at each change, from the server's event stream, until it ends.

        Stops early (without an error) when the stream breaks; reading blocks at most `timeout` s.
        """
        request = urllib.request.Request(f"{self.url}/api/projections/{pid}/events", headers={"Accept": "text/event-stream"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        read_timeout = EVENTS_READ_TIMEOUT if timeout is None else max(0.05, min(timeout, EVENTS_READ_TIMEOUT))
        with urllib.request.urlopen(request, timeout=read_timeout) as response:
            for line in response:
                if line.startswith(b"data: "):
                    yield orjson.loads(line[6:])

    def wait(self, pid: str, timeout: float | None = None, poll: float = 0.25) -> dict[str, Any]:
        """Follow a projection until it ends: over the event stream, polling every `poll` s if the stream breaks."""
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            for projection in self.events(pid, timeout):
                if projection["status"] in TERMINAL:
                    return projection
                if deadline is not None and time.monotonic() > deadline:
                    break
        except (OSError, ValueError, orjson.JSONDecodeError):  # the stream broke or timed out: poll instead
            pass
        while True:
            projection = self.projection(pid)
            if projection["status"] in TERMINAL:
                return projection
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"projection {pid} still {projection['status']} after {timeout} s")
            time.sleep(poll)

    def coords(self, pid: str) -> np.ndarray:
        return self._array(f"/api/projections/{pid}/coords")

    def cancel(self, pid: str) -> dict[str, Any]:
        return self._json("DELETE", f"/api/projections/{pid}")  # type: ignore[no-any-return]

    def project(self, dataset_id: str, method: str = "pca", dims: int = 2, timeout: float | None = None, **params: Any) -> np.ndarray:
        """Run (or fetch from the cache) a projection and return its n × dims coordinates.

        The array is a `Coordinates` (an `np.ndarray`) whose `.projection_id` names the projection.
        """
        projection = self.start_projection(dataset_id, method, dims, **params)
        projection = self.wait(projection["id"], timeout)
        if projection["status"] != "done":
            raise ProjectorError(
                f"projection {projection['id']} {projection['status']}: {projection.get('error')}", code=projection["status"]
            )
        coords = self.coords(projection["id"]).view(Coordinates)
        coords.projection_id, coords.dataset_id = projection["id"], projection["dataset"]
        return coords

    # -- lookups ------------------------------------------------------------------------------

    def neighbors(
        self, dataset_id: str, index: int | None = None, k: int = 10, metric: str = "cosine",
        column: str | None = None, value: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        query = {"index": index, "k": k, "metric": metric, "column": column, "value": value}
        return self._json("GET", f"/api/datasets/{dataset_id}/neighbors", query=query)  # type: ignore[no-any-return]

    def search(self, dataset_id: str, q: str, column: str | None = None, limit: int = 1000) -> dict[str, Any]:
        return self._json("GET", f"/api/datasets/{dataset_id}/search", query={"q": q, "column": column, "limit": limit})  # type: ignore[no-any-return]

    def neighbors_of_vectors(self, dataset_id: str, vectors: Any, k: int = 10, metric: str = "cosine") -> dict[str, Any]:
        """The k nearest rows of each query vector (m × dim, or one vector), sent as float32.

        Returns `{"metric", "k", "results": [{"neighbors": [{"index", "distance"}, ...]}, ...]}`, one
        result per vector, nearest first; no row is left out (a vector is not a row).
        """
        queries = np.ascontiguousarray(np.atleast_2d(np.asarray(vectors)), dtype="<f4")
        return self._json(  # type: ignore[no-any-return]
            "POST", f"/api/datasets/{dataset_id}/neighbors", query={"k": k, "metric": metric}, body=queries.tobytes(),
            content_type="application/octet-stream", headers={"X-Shape": f"{queries.shape[0]},{queries.shape[1]}"},
        )  # fmt: skip

    # -- curation: subsets, clusters, metadata edits, saved selections -------------------------

    def _post_json(self, path: str, body: Mapping[str, Any], method: str = "POST") -> Any:
        return self._json(method, path, body=orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), content_type="application/json")

    def subset(
        self, dataset_id: str, rows: Iterable[int] | None = None, *, q: str | None = None, column: str | None = None,
        name: str | None = None,
    ) -> str:  # fmt: skip
        """A new dataset of some rows of `dataset_id`: `rows` in that order, or those whose metadata matches the
        regular expression `q` (in `column`, default any) in row order. Returns the new dataset's id."""
        body: dict[str, Any] = {"rows": [int(r) for r in rows]} if rows is not None else {"q": q, "column": column}
        if name is not None:
            body["name"] = name
        return str(self._post_json(f"/api/datasets/{dataset_id}/subsets", body)["id"])

    def clusters(
        self, projection: Any, min_cluster_size: int | None = None, label_column: str | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        """Cluster a finished projection's layout (HDBSCAN) and wait for the result.

        `projection` is a projection id or the array `project` returned. Returns `{"id", "status",
        "column", "clusters": [{"id", "size", "centroid", "label"}], "noise", ...}`; the dataset's
        metadata has gained the column `column` (cluster id per row, -1 for noise).
        """
        pid = str(getattr(projection, "projection_id", None) or projection)
        body = {key: value for key, value in (("min_cluster_size", min_cluster_size), ("label_column", label_column)) if value is not None}
        job = self._post_json(f"/api/projections/{pid}/clusters", body)
        if job["status"] not in TERMINAL:
            self.wait(job["id"], timeout)
            job = self._json("GET", f"/api/projections/{pid}/clusters/{job['id']}")
        if job["status"] != "done":
            raise ProjectorError(f"clusters of projection {pid} {job['status']}: {job.get('error')}", code=job["status"])
        return job  # type: ignore[no-any-return]

    def edit_metadata(self, dataset_id: str, column: str, rows: Iterable[int], value: Any) -> dict[str, Any]:
        """Set `column` (created if missing) to `value` for `rows`; returns what changed."""
        body = {"column": column, "rows": [int(r) for r in rows], "value": value}
        return self._post_json(f"/api/datasets/{dataset_id}/metadata", body, method="PATCH")  # type: ignore[no-any-return]

    def metadata_tsv(self, dataset_id: str) -> str:
        """The metadata, edits included, as TensorBoard's TSV text."""
        return self._request("GET", f"/api/datasets/{dataset_id}/metadata.tsv")[0].decode("utf-8")

    def save_selection(self, dataset_id: str, name: str, rows: Iterable[int]) -> dict[str, Any]:
        """Save (or replace) a named selection of rows; returns `{"name", "count", "saved"}`."""
        return self._post_json(f"/api/datasets/{dataset_id}/selections", {"name": name, "rows": [int(r) for r in rows]})  # type: ignore[no-any-return]

    def selections(self, dataset_id: str) -> list[dict[str, Any]]:
        return self._json("GET", f"/api/datasets/{dataset_id}/selections")  # type: ignore[no-any-return]

    def selection(self, dataset_id: str, name: str, as_frame: bool = False) -> Any:
        """A saved selection's rows as an int64 array, or with `as_frame=True` a pandas DataFrame of
        their metadata (indexed by row, in the saved order; needs pandas)."""
        rows = np.asarray(
            self._json("GET", f"/api/datasets/{dataset_id}/selections/{urllib.parse.quote(name, safe='')}")["rows"], dtype=np.int64
        )
        if not as_frame:
            return rows
        import pandas as pd  # optional: only for as_frame

        metadata = self.metadata(dataset_id)
        return pd.DataFrame([metadata["rows"][i] for i in rows], columns=metadata["columns"], index=pd.Index(rows, name="row"))
