"""Lookups in a dataset: nearest neighbours of a point, and metadata search."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from projector.api.request import JSONResponse, bool_query, int_query, store
from projector.data.neighbors import nearest
from projector.data.search import find_row, search
from projector.errors import InvalidParameter

MAX_SEARCH_LIMIT = 1_000_000


async def neighbors(request: Request) -> Response:
    db = store(request)
    dataset_id = db.get_dataset(request.path_params["id"])["id"]
    query = request.query_params
    k = int_query(request, "k", 10)
    metric = query.get("metric", "cosine")
    with_rows = bool_query(request, "rows", True)
    metadata = await run_in_threadpool(db.metadata, dataset_id)
    matches = None
    if "index" in query:
        index = int_query(request, "index")
    elif "column" in query and "value" in query:
        index, matches = await run_in_threadpool(find_row, metadata, query["column"], query["value"])
    else:
        raise InvalidParameter("give `index`, or `column` and `value`")
    found, exact = await run_in_threadpool(nearest, db, dataset_id, index, k, metric, bool_query(request, "exact"))
    answer: dict[str, Any] = {
        "query": {"index": index, "row": metadata.rows[index]} | ({} if matches is None else {"matches": matches}),
        "metric": metric,
        "k": k,
        "exact": exact,
        "neighbors": [{"index": i, "distance": d} | ({"row": metadata.rows[i]} if with_rows else {}) for i, d in found],
    }
    if with_rows:
        answer["columns"] = metadata.columns
    return JSONResponse(answer)


async def search_metadata(request: Request) -> Response:
    db = store(request)
    dataset_id = db.get_dataset(request.path_params["id"])["id"]
    pattern = request.query_params.get("q")
    if pattern is None:
        raise InvalidParameter("query parameter `q` (a regular expression) is required")
    limit = int_query(request, "limit", 1000, minimum=0, maximum=MAX_SEARCH_LIMIT)
    column = request.query_params.get("column") or None
    ignore_case = bool_query(request, "ignore_case")
    metadata = await run_in_threadpool(db.metadata, dataset_id)
    count, indices = await run_in_threadpool(search, metadata, pattern, column, limit, ignore_case)
    answer: dict[str, Any] = {"count": count, "indices": indices, "truncated": count > len(indices)}
    if bool_query(request, "rows", True):
        answer |= {"columns": metadata.columns, "rows": [metadata.rows[i] for i in indices]}
    return JSONResponse(answer)
