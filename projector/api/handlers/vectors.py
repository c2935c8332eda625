"""Nearest neighbours of query vectors (a query embedding, a centroid, a vector from another model)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from projector.api.request import JSONResponse, bounded_body, int_query, json_body, store
from projector.data.neighbors import MAX_VECTOR_K, nearest_to_vectors
from projector.data.vectors import MAX_QUERY_VECTORS, check_queries, parse_shape, vectors_from_bytes, vectors_from_json
from projector.errors import InvalidInput

JSON_BYTES_PER_VALUE = 32  # generous: "-1.2345678901234567e-05, "


async def neighbors_of_vectors(request: Request) -> Response:
    """Raw float32 (`X-Shape: m,dim`) or `{"vectors": [[...]]}` → `{"results": [{"neighbors": [...]}, ...]}`, nearest first."""
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    k = int_query(request, "k", 10, minimum=1, maximum=MAX_VECTOR_K)
    metric = request.query_params.get("metric", "cosine")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/octet-stream":
        shape = parse_shape(request.headers.get("x-shape"), dataset["dim"])
        queries = vectors_from_bytes(await bounded_body(request, shape[0] * shape[1] * 4, "the float32 body"), shape)
    elif content_type in ("application/json", ""):
        body = await json_body(request, 4096 + MAX_QUERY_VECTORS * dataset["dim"] * JSON_BYTES_PER_VALUE)
        queries = vectors_from_json(body, dataset["dim"])
    else:
        raise InvalidInput(
            f"unsupported Content-Type {content_type!r}: send application/octet-stream (float32, X-Shape: m,dim) or application/json",
            code="unsupported_media_type",
            status=415,
        )
    check_queries(queries, metric)
    results = await run_in_threadpool(nearest_to_vectors, db, dataset["id"], queries, k, metric)
    return JSONResponse(
        {"metric": metric, "k": k, "results": [{"neighbors": [{"index": i, "distance": d} for i, d in found]} for found in results]}
    )
