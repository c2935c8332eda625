"""The one route table: each endpoint with its handler and what the OpenAPI document says of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from projector.api import metrics
from projector.api.handlers import clusters, datasets, edits, export, lookup, projections, selections, service, subsets, vectors

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    query: tuple[tuple[str, str, str], ...] = ()  # (name, type, description)
    body: dict[str, Any] | None = None  # media type → schema
    responses: dict[str, str] = field(default_factory=lambda: {"200": "OK"})
    binary: bool = False  # the 200 body is raw little-endian float32


DATASET_QUERY = (
    ("name", "string", "a display name for the new dataset"),
    ("member", "string", "array to read from an .npz or .safetensors with several"),
    ("embedding", "string", "Parquet: the list column holding the embedding (default: the only one)"),
)
TENSOR_BODY = {
    "application/x-npy": {"type": "string", "format": "binary"},
    "text/tab-separated-values": {"type": "string"},
    "application/vnd.apache.parquet": {"type": "string", "format": "binary"},
    "multipart/form-data": {
        "type": "object",
        "properties": {
            "tensor": {"type": "string", "format": "binary", "description": "npy, npz, tsv, safetensors or Parquet"},
            "metadata": {"type": "string", "format": "binary", "description": "metadata TSV"},
            "sprite": {"type": "string", "format": "binary", "description": "PNG atlas of thumbnails"},
            "sprite_dim": {"type": "string", "description": "W,H of one thumbnail in pixels"},
        },
        "required": ["tensor"],
    },
}
PROJECTION_BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": ["pca", "tsne", "umap", "custom"]},
            "dims": {"type": "integer", "enum": [2, 3]},
            "params": {"type": "object", "description": "see GET /api/methods"},
        },
        "required": ["method"],
    }
}
ROWS = {"type": "array", "items": {"type": "integer", "minimum": 0}, "description": "row indices (0-based), each once"}
SUBSET_BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            "rows": ROWS,
            "q": {"type": "string", "description": "or: a regular expression (search semantics); rows in search order"},
            "column": {"type": "string", "description": "the column `q` searches (default: all)"},
            "name": {"type": "string"},
        },
    }
}
VECTORS_BODY = {
    "application/octet-stream": {
        "type": "string",
        "format": "binary",
        "description": "m × dim little-endian float32, header X-Shape: m,dim",
    },
    "application/json": {
        "type": "object",
        "properties": {"vectors": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}}},
        "required": ["vectors"],
    },
}
CLUSTERS_BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            "min_cluster_size": {"type": "integer", "minimum": 2, "description": "default: max(5, sqrt(n) / 2)"},
            "label_column": {"type": "string", "description": "names the clusters (default: the first text column, else categorical)"},
        },
    }
}
CLUSTERS_RESULT = '{"column", "clusters": [{"id", "size", "centroid": [..dims], "label"}], "noise", "label_column"}'
EDIT_BODY = {
    "application/json": {
        "type": "object",
        "properties": {
            "column": {"type": "string"},
            "rows": ROWS,
            "value": {"oneOf": [{"type": "string"}, {"type": "number"}], "nullable": True, "description": "null empties the cells"},
        },
        "required": ["column", "rows", "value"],
    }
}
SELECTION_BODY = {
    "application/json": {
        "type": "object",
        "properties": {"name": {"type": "string", "pattern": "^\\w[\\w .-]{0,99}$"}, "rows": ROWS},
        "required": ["name", "rows"],
    }
}

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET",
        "/api/health",
        service.health,
        "Liveness: the service answers (always open); with ready=1, readiness: the catalog is open and jobs can run",
        (("ready", "boolean", "check readiness: 503 with the failing checks when not ready"),),
        responses={"200": "alive (or ready)", "503": "not ready"},
    ),
    Endpoint("GET", "/metrics", metrics.metrics, "Prometheus metrics (text exposition format)"),
    Endpoint("GET", "/api/openapi.json", service.openapi, "This document"),
    Endpoint("GET", "/api/methods", service.methods, "Projection methods with their parameters, defaults and ranges"),
    Endpoint("GET", "/api/datasets", datasets.list_datasets, "All datasets"),
    Endpoint("GET", "/api/logdir", datasets.logdir_status, "The served TensorBoard logdir and the problems found in it"),
    Endpoint(
        "POST",
        "/api/datasets",
        datasets.create_dataset,
        "Upload a dataset",
        DATASET_QUERY,
        TENSOR_BODY,
        {
            "201": "the new dataset",
            "400": "invalid tensor, metadata or sprite",
            "408": "upload stalled or past --upload-deadline",
            "413": "body, metadata part or inflated .npz member too large",
            "415": "unsupported Content-Type",
            "429": "too_many_uploads: --max-uploads uploads already in progress (Retry-After)",
        },
    ),  # fmt: skip
    Endpoint("GET", "/api/datasets/{id}", datasets.get_dataset, "One dataset", responses={"200": "OK", "404": "no such dataset"}),
    Endpoint(
        "DELETE",
        "/api/datasets/{id}",
        datasets.delete_dataset,
        "Delete a dataset and its projections",
        responses={"204": "deleted", "404": "no such dataset"},
    ),
    Endpoint("GET", "/api/datasets/{id}/tensor", datasets.get_tensor, "The tensor, n × dim float32 (header X-Shape)", binary=True),
    Endpoint("GET", "/api/datasets/{id}/metadata", datasets.get_metadata, "Metadata as {columns, rows} in tensor row order"),
    Endpoint(
        "GET",
        "/api/datasets/{id}/sprite",
        datasets.get_sprite,
        "The sprite PNG (header X-Sprite-Dim)",
        responses={"200": "PNG", "404": "no sprite"},
    ),
    Endpoint(
        "GET",
        "/api/datasets/{id}/bookmarks",
        datasets.get_bookmarks,
        "TensorBoard bookmarks of a logdir dataset, as stored",
        responses={"200": "JSON", "404": "none"},
    ),
    Endpoint("GET", "/api/datasets/{id}/projections", projections.list_projections, "The dataset's projections"),
    Endpoint(
        "POST",
        "/api/datasets/{id}/projections",
        projections.create_projection,
        "Request a projection (cached by method, dims and params)",
        body=PROJECTION_BODY,
        responses={
            "200": "already done",
            "202": "queued or running",
            "413": "JSON body over 1 MiB",
            "422": "bad parameters",
            "429": "queue_full: --max-queued-jobs projections already wait (Retry-After)",
        },
    ),  # fmt: skip
    Endpoint(
        "GET",
        "/api/datasets/{id}/neighbors",
        lookup.neighbors,
        "Exact k nearest neighbours of a point in the original space",
        (
            ("index", "integer", "row of the query point"),
            ("column", "string", "look the query point up by this column"),
            ("value", "string", "... equal to this value (first match)"),
            ("k", "integer", "default 10"),
            ("metric", "string", "cosine (default) or euclidean"),
            ("exact", "boolean", "always scan every point, even where a cached kNN graph could answer"),
        ),
    ),  # fmt: skip
    Endpoint(
        "GET",
        "/api/datasets/{id}/search",
        lookup.search_metadata,
        "Rows whose metadata matches a regular expression",
        (
            ("q", "string", "regular expression, RE2 syntax (Python re without backreferences or lookaround), re.search semantics"),
            ("column", "string", "default: all columns"),
            ("limit", "integer", "at most this many indices (default 1000)"),
            ("ignore_case", "boolean", "default false"),
        ),
        responses={"200": "OK", "400": "invalid_regex (also: too costly to compile), or regex_timeout"},
    ),  # fmt: skip
    Endpoint("GET", "/api/projections/{pid}", projections.get_projection, "A projection's status, progress and results"),
    Endpoint(
        "GET",
        "/api/projections/{pid}/coords",
        projections.get_coords,
        "Coordinates, n × dims float32 (latest frame while running)",
        responses={"200": "float32 (headers X-Shape, X-Iteration)", "409": "no coordinates yet, or the job failed"},
        binary=True,
    ),  # fmt: skip
    Endpoint(
        "GET",
        "/api/projections/{pid}/export",
        export.export_projection,
        "A finished projection as a file: metadata columns then x, y (z) in row order (npy: the coordinates only)",
        (("format", "string", "parquet (default), csv or npy"),),
        responses={"200": "the file", "409": "the projection has not finished", "422": "unknown format"},
    ),
    Endpoint(
        "GET",
        "/api/datasets/{id}/export",
        export.export_dataset,
        "The dataset as Parquet: the tensor as a fixed-size list float32 column, then the metadata columns",
        (
            ("format", "string", "parquet (the default and only one)"),
            ("embedding", "string", "name of the tensor column (default embedding)"),
        ),
        responses={"200": "the file", "404": "no such dataset", "422": "unknown format"},
    ),
    Endpoint(
        "GET",
        "/api/projections/{pid}/events",
        projections.projection_events,
        "Server-Sent Events of progress until the job ends",
        responses={"200": "text/event-stream", "429": "too_many_streams: --max-streams streams already open (Retry-After)"},
    ),
    Endpoint("DELETE", "/api/projections/{pid}", projections.cancel_projection, "Cancel a queued or running projection"),
    # -- exploration tools (issue 14) ---------------------------------------------------------------
    Endpoint(
        "POST",
        "/api/datasets/{id}/subsets",
        subsets.create,
        "A new dataset of some rows (tensor and metadata rows copied, in the order given); it records its parent",
        body=SUBSET_BODY,
        responses={
            "201": "the new dataset, with `parent`",
            "400": "invalid_rows (not integers, repeated, out of range: the first bad one named; fewer than 2), no_match, invalid_regex",
            "404": "no such dataset",
            "413": "body too large",
        },
    ),  # fmt: skip
    Endpoint(
        "POST",
        "/api/datasets/{id}/neighbors",
        vectors.neighbors_of_vectors,
        "Exact k nearest rows of each query vector, nearest first (no row left out); distances in the original space",
        (("k", "integer", "default 10, at most 1000"), ("metric", "string", "cosine (default) or euclidean")),
        VECTORS_BODY,
        {
            "200": '{"metric", "k", "results": [{"neighbors": [{"index", "distance"}, ...]}, ...]}, one per query vector',
            "400": "dimension_mismatch, or invalid_vectors (bad X-Shape or length, NaN or infinity, all-zero vector for cosine)",
            "413": "more than 1000 query vectors, or body too large",
            "415": "unsupported Content-Type",
            "422": "bad k or metric",
        },
    ),  # fmt: skip
    Endpoint(
        "POST",
        "/api/projections/{pid}/clusters",
        clusters.create,
        "HDBSCAN clusters of a finished layout, as a job; the dataset's metadata gains the categorical column `column` (noise -1)",
        body=CLUSTERS_BODY,
        responses={
            "200": "done (cached): " + CLUSTERS_RESULT,
            "202": '{"id", "status", ...} queued or running: follow GET /api/projections/{pid}/clusters/{id}',
            "404": "no such projection",
            "409": "not_done: the projection has not finished (or failed)",
            "422": "bad min_cluster_size or label_column",
            "429": "queue_full (Retry-After)",
        },
    ),  # fmt: skip
    Endpoint(
        "GET",
        "/api/projections/{pid}/clusters/{id}",
        clusters.get,
        "A clusters job: status and progress; when done, the result",
        responses={
            "200": '{"id", "projection", "status", "progress", "error", ...} and once done ' + CLUSTERS_RESULT,
            "404": "no such job",
        },
    ),  # fmt: skip
    Endpoint(
        "PATCH",
        "/api/datasets/{id}/metadata",
        edits.edit_metadata,
        "Set a metadata column (created if missing) to one value for some rows; stored in the data dir (a logdir is never written)",
        body=EDIT_BODY,
        responses={
            "200": '{"column", "rows", "value", "created", "columns", "column_types"}',
            "400": "invalid_edit or invalid_rows",
            "404": "no such dataset",
        },
    ),  # fmt: skip
    Endpoint(
        "GET",
        "/api/datasets/{id}/metadata.tsv",
        edits.metadata_tsv,
        "The metadata, edits and cluster columns included, as TensorBoard's TSV (a header line unless there is one column)",
        responses={"200": "text/tab-separated-values", "404": "no such dataset"},
    ),
    Endpoint(
        "POST",
        "/api/datasets/{id}/selections",
        selections.save,
        "Save (or replace) a named selection of rows",
        body=SELECTION_BODY,
        responses={"201": '{"name", "count", "saved"}', "400": "invalid_name, invalid_rows or too_many", "404": "no such dataset"},
    ),  # fmt: skip
    Endpoint("GET", "/api/datasets/{id}/selections", selections.list_all, "Saved selections: [{name, count, saved}]"),
    Endpoint(
        "GET",
        "/api/datasets/{id}/selections/{name}",
        selections.get,
        "A saved selection's rows, in the order saved",
        responses={"200": '{"name", "count", "rows": [int, ...]}', "404": "no such selection"},
    ),
    Endpoint(
        "DELETE",
        "/api/datasets/{id}/selections/{name}",
        selections.delete,
        "Delete a saved selection",
        responses={"204": "deleted", "404": "no such selection"},
    ),
)


def starlette_routes() -> list[BaseRoute]:
    by_path: dict[str, dict[str, Handler]] = {}
    for endpoint in ENDPOINTS:
        by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint.handler
    routes: list[BaseRoute] = []
    for path, handlers in by_path.items():
        routes.append(Route(path, _dispatch(handlers), methods=list(handlers)))
    return routes


def _dispatch(handlers: dict[str, Handler]) -> Handler:
    if len(handlers) == 1:
        return next(iter(handlers.values()))

    async def endpoint(request: Request) -> Response:
        return await handlers[request.method if request.method != "HEAD" else "GET"](request)

    return endpoint
