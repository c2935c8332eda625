"""Export routes: a projection (metadata + x, y, z) as Parquet, CSV or .npy; a dataset (tensor + metadata) as Parquet."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from projector.api.request import jobs, store
from projector.data.export import csv_stream, dataset_batches, npy_stream, parquet_stream, projection_batches
from projector.errors import Conflict, InvalidParameter

MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "csv": "text/csv; charset=utf-8", "npy": "application/x-npy"}
PROJECTION_FORMATS = ("parquet", "csv", "npy")
DATASET_FORMATS = ("parquet",)


def export_format(request: Request, allowed: tuple[str, ...]) -> str:
    fmt = request.query_params.get("format", "parquet")
    if fmt not in allowed:
        raise InvalidParameter(f"`format` must be one of {list(allowed)}, got {fmt!r}")
    return fmt


def _download(chunks: Iterator[bytes], fmt: str, filename: str) -> Response:
    headers = {"Content-Disposition": f'attachment; filename="{filename}.{fmt}"', "Cache-Control": "no-store"}
    return StreamingResponse(chunks, media_type=MEDIA_TYPES[fmt], headers=headers)


async def export_projection(request: Request) -> Response:
    """A finished projection's coordinates in row order; Parquet and CSV lead with the metadata columns."""
    fmt = export_format(request, PROJECTION_FORMATS)
    projection = jobs(request).get(request.path_params["pid"])
    pid = projection["id"]
    if projection["status"] != "done":
        raise Conflict(f"projection {pid} is {projection['status']}; only a finished projection can be exported", code="not_ready")
    db = store(request)
    coords = np.load(db.coords_path(pid), mmap_mode="r")
    if fmt == "npy":
        return _download(npy_stream(coords), fmt, f"projection-{pid}")
    dataset = db.get_dataset(projection["dataset"])
    metadata = await run_in_threadpool(db.metadata, dataset["id"])
    schema, batches = await run_in_threadpool(projection_batches, metadata, dataset["column_types"], coords)
    chunks = parquet_stream(schema, batches) if fmt == "parquet" else csv_stream(schema, batches)
    return _download(chunks, fmt, f"projection-{pid}")


async def export_dataset(request: Request) -> Response:
    """The tensor as a fixed-size-list float32 column (`embedding=NAME`, default "embedding") and the metadata columns."""
    fmt = export_format(request, DATASET_FORMATS)
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    embedding = request.query_params.get("embedding", "embedding")
    if not embedding or len(embedding) > 200:
        raise InvalidParameter(f"`embedding` must be a column name of 1 to 200 characters, got {embedding!r}")
    tensor = db.tensor(dataset["id"])
    metadata = await run_in_threadpool(db.metadata, dataset["id"])
    schema, batches = await run_in_threadpool(dataset_batches, metadata, dataset["column_types"], tensor, embedding)
    return _download(parquet_stream(schema, batches), fmt, f"dataset-{dataset['id']}")
