"""Dataset routes: list, upload, read, delete."""

from __future__ import annotations

import shutil

import numpy as np
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from projector.api.request import JSONResponse, jobs, settings, store
from projector.api.uploads import receive_body, receive_multipart
from projector.data.ingest import clean_name, ingest
from projector.data.neighbors import prepare_lookups
from projector.data.parquet import MEDIA_TYPES as PARQUET_TYPES
from projector.data.parquet import ingest_parquet, is_parquet
from projector.data.sprite import parse_sprite_dim
from projector.errors import Conflict, InvalidInput, InvalidParameter, NotFound

RAW_FORMATS = {
    "application/x-npy": "npy",
    "application/npy": "npy",
    "text/tab-separated-values": "tsv",
    "text/plain": "tsv",
    "application/zip": "npz",
    "application/x-npz": "npz",
    "application/x-safetensors": "safetensors",
    **dict.fromkeys(PARQUET_TYPES, "parquet"),
}
TENSOR_CHUNK_ROWS = 16384


async def list_datasets(request: Request) -> Response:
    return JSONResponse(store(request).list_datasets())


async def get_dataset(request: Request) -> Response:
    return JSONResponse(store(request).get_dataset(request.path_params["id"]))


async def create_dataset(request: Request) -> Response:
    """Upload a tensor as a raw body (npy, tsv, npz, safetensors) or as multipart parts."""
    db = store(request)
    limit = settings(request).max_upload_bytes
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    folder = db.temp_path("upload")
    folder.mkdir()
    try:
        name = request.query_params.get("name")
        metadata = sprite = sprite_dim = None
        if content_type == "multipart/form-data":
            parts = await receive_multipart(request, folder, limit, settings(request).body_timeout)
            if "tensor" not in parts:
                raise InvalidInput("the multipart body needs a part named `tensor`", code="missing_tensor")
            tensor = parts["tensor"]
            if tensor.size == 0:
                raise InvalidInput("the `tensor` part is empty", code="empty_body")
            tensor_file, fmt = tensor.path, None
            if "metadata" in parts:
                metadata = parts["metadata"].path  # parsed as a stream in the thread pool
            if "sprite" in parts:
                sprite = parts["sprite"].path
            if "sprite_dim" in parts:
                sprite_dim = parse_sprite_dim(parts["sprite_dim"].value.decode("utf-8", "replace"))
            if "name" in parts and not name:
                name = parts["name"].value.decode("utf-8", "replace")
            fallback = tensor.filename or "upload"
        elif content_type in RAW_FORMATS or content_type in ("application/octet-stream", ""):
            tensor_file = folder / "body"
            await receive_body(request, tensor_file, limit, settings(request).body_timeout)
            fmt = RAW_FORMATS.get(content_type)
            fallback = "upload"
        else:
            raise InvalidInput(
                f"unsupported Content-Type {content_type!r}; send application/x-npy, text/tab-separated-values, application/vnd.apache.parquet or multipart/form-data",
                code="unsupported_media_type",
                status=415,
            )
        embedding = request.query_params.get("embedding")
        assert tensor_file is not None  # multipart file parts always have a path
        if fmt == "parquet" or (fmt is None and is_parquet(tensor_file)):
            if metadata is not None:
                raise InvalidInput("a Parquet upload carries its metadata in its columns; send no `metadata` part", code="invalid_parquet")
            dataset = await run_in_threadpool(
                ingest_parquet, db, tensor_file, name=clean_name(name, fallback), embedding=embedding, max_bytes=limit,
                sprite_file=sprite, sprite_dim=sprite_dim,
            )  # fmt: skip
            prepare_lookups(db, dataset["id"])  # the int8 copy for neighbour lookups, in the background
            return JSONResponse(dataset, status_code=201)
        if embedding is not None:
            raise InvalidParameter("`embedding` names the embedding column of a Parquet upload, and this body is not Parquet")
        dataset = await run_in_threadpool(
            ingest,
            db,
            name=clean_name(name, fallback),
            source="upload",
            tensor_file=tensor_file,
            fmt=fmt,
            member=request.query_params.get("member"),
            metadata=metadata,
            sprite_file=sprite,
            sprite_dim=sprite_dim,
            consume=True,
            max_bytes=limit,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    prepare_lookups(db, dataset["id"])  # the int8 copy for neighbour lookups, in the background
    return JSONResponse(dataset, status_code=201)


async def delete_dataset(request: Request) -> Response:
    db = store(request)
    dataset_id = request.path_params["id"]
    if db.get_dataset(dataset_id)["source"] == "logdir":
        raise Conflict(f"dataset {dataset_id!r} comes from the logdir and is read-only; remove it there", code="read_only")
    await run_in_threadpool(jobs(request).delete_dataset, dataset_id)
    return Response(status_code=204)


async def get_tensor(request: Request) -> Response:
    X = store(request).tensor(request.path_params["id"])

    def chunks():  # type: ignore[no-untyped-def]
        for start in range(0, X.shape[0], TENSOR_CHUNK_ROWS):
            yield np.ascontiguousarray(X[start : start + TENSOR_CHUNK_ROWS], dtype="<f4").tobytes()

    headers = {"X-Shape": f"{X.shape[0]},{X.shape[1]}", "Content-Length": str(X.shape[0] * X.shape[1] * 4)}
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


async def get_metadata(request: Request) -> Response:
    db = store(request)
    dataset_id = request.path_params["id"]
    db.get_dataset(dataset_id)
    return FileResponse(db.metadata_path(dataset_id), media_type="application/json")


async def get_sprite(request: Request) -> Response:
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    path = db.sprite_path(dataset["id"])
    if path is None or dataset["sprite"] is None:
        raise NotFound(f"dataset {dataset['id']!r} has no sprite", code="no_sprite")
    width, height = dataset["sprite"]["dim"]
    return FileResponse(path, media_type="image/png", headers={"X-Sprite-Dim": f"{width},{height}"})


async def get_bookmarks(request: Request) -> Response:
    """TensorBoard bookmarks (saved views) of a logdir dataset, served as the file has them."""
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    path = db.bookmarks_path(dataset["id"])
    if path is None or not path.is_file():
        raise NotFound(f"dataset {dataset['id']!r} has no bookmarks", code="no_bookmarks")
    return FileResponse(path, media_type="application/json")


async def logdir_status(request: Request) -> Response:
    """The logdir being served, and every problem found in it (bad runs never hide good ones)."""
    sync = request.app.state.logdir
    if sync is None:
        return JSONResponse({"logdir": None, "scans": 0, "problems": []})
    return JSONResponse({"logdir": sync.logdir.name, "scans": sync.scans, "problems": sync.problems})  # no absolute paths
