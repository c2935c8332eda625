"""Subsets: a new dataset from some rows of another (TensorBoard's "isolate")."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from projector.api.request import JSONResponse, json_body, store
from projector.data.ingest import MAX_NAME_LENGTH, clean_name
from projector.data.rows import rows_body_limit
from projector.data.subsets import create_subset, subset_rows
from projector.errors import InvalidInput


async def create(request: Request) -> Response:
    """`{"rows": [...]}` or `{"q": REGEX, "column": C}`, optional `"name"` → 201 the new dataset (with `"parent"`)."""
    db = store(request)
    parent = db.get_dataset(request.path_params["id"])
    body = await json_body(request, rows_body_limit(parent["n"]))
    rows, description = await run_in_threadpool(subset_rows, db, parent["id"], body)
    name = body.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidInput(f"`name` must be text, got {name!r}", code="invalid_name")
    name = clean_name(name, f"{parent['name']} · {description}"[:MAX_NAME_LENGTH])
    dataset = await run_in_threadpool(create_subset, db, parent["id"], rows, name)
    return JSONResponse(dataset, status_code=201)
