"""Metadata edits, and the (edited) metadata as TensorBoard's TSV."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from projector.api.request import JSONResponse, json_body, store
from projector.data.edits import metadata_tsv_bytes, set_cells
from projector.data.rows import rows_body_limit


async def edit_metadata(request: Request) -> Response:
    """`{"column", "rows", "value"}`: set `column` (created if missing) to `value` at `rows`."""
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    body = await json_body(request, rows_body_limit(dataset["n"]))
    return JSONResponse(await run_in_threadpool(set_cells, db, dataset["id"], body))


async def metadata_tsv(request: Request) -> Response:
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    data = await run_in_threadpool(metadata_tsv_bytes, db, dataset["id"])
    headers = {"Content-Disposition": f'attachment; filename="{dataset["id"]}-metadata.tsv"'}
    return Response(data, media_type="text/tab-separated-values; charset=utf-8", headers=headers)
