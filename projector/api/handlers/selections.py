"""Saved selections of a dataset's rows, by name."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from projector.api.request import JSONResponse, json_body, store
from projector.data.rows import rows_body_limit
from projector.data.selections import delete_selection, list_selections, load_selection, save_selection


async def save(request: Request) -> Response:
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    body = await json_body(request, rows_body_limit(dataset["n"]))
    return JSONResponse(await run_in_threadpool(save_selection, db, dataset["id"], body), status_code=201)


async def list_all(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(list_selections, store(request), request.path_params["id"]))


async def get(request: Request) -> Response:
    dataset_id, name = request.path_params["id"], request.path_params["name"]
    rows = await run_in_threadpool(load_selection, store(request), dataset_id, name)
    return JSONResponse({"name": name, "count": len(rows), "rows": rows.tolist()})


async def delete(request: Request) -> Response:
    await run_in_threadpool(delete_selection, store(request), request.path_params["id"], request.path_params["name"])
    return Response(status_code=204)
