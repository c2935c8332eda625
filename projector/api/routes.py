"""The one route table: each endpoint with its handler and what the OpenAPI document says of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from projector.api import metrics
from projector.api.handlers import clusters, datasets, edits, export, lookup, projections, selections, service, subsets, vectors
from projector.api.handlers.export import MEDIA_TYPES as EXPORT_TYPES
from projector.api.schemas import BODIES, NOT_READY, QUERY, ref

Handler = Callable[[Request], Awaitable[Response]]
API_PREFIXES = ("/api/", "/metrics")  # never the page's static files: an unknown method there is a 405 with the route's Allow


@dataclass(frozen=True)
class Query:
    """A query parameter with its exact JSON schema."""

    name: str
    schema: dict[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Reply:
    """A response: its body (a JSON schema, or other media types with theirs), headers it always has, links it offers.

    `links` names groups of operations the answer leads to (see projector.api.openapi.LINKS).
    """

    description: str
    schema: dict[str, Any] | None = None
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    query: tuple[tuple[str, str, str] | Query, ...] = ()  # Query, or (name, JSON type, description)
    body: dict[str, Any] | None = None  # media type → schema
    responses: dict[str, str | Reply] = field(default_factory=lambda: {"200": "OK"})
    binary: bool = False  # the 200 body is raw little-endian float32
    # Statuses a request that fits the schema can still get, for rules no schema states (file contents,
    # ranges that depend on the dataset); published as `x-beyond-schema`.
    beyond_schema: tuple[str, ...] = ()
    body_required: bool = True
    linked: bool = True  # other answers link here (False: may be missing even when its parent exists, e.g. a sprite)
    removes: bool = True  # a DELETE that removes its resource (False: cancelling a projection keeps it, as `x-keeps-resource`)


def q(key: str, name: str | None = None, required: bool = False) -> Query:
    schema, text = QUERY[key]
    return Query(name or key.rsplit(".", 1)[-1], schema, text, required)


def text(name: str, description: str, required: bool = False) -> Query:
    return Query(name, {"type": "string"}, description, required)


def flag(name: str, description: str) -> Query:
    return Query(name, {"type": "boolean", "default": False}, description)


def json(description: str, schema: dict[str, Any], links: tuple[str, ...] = ()) -> Reply:
    return Reply(description, schema, links=links)


SSE_EVENT = {  # OpenAPI 3.0: the schema of a text/event-stream describes one event (fields data, event, id, retry)
    "type": "object",
    "properties": {"data": {"type": "string", "description": "a Projection (see components) as JSON"}},
    "required": ["data"],
}
FLOAT32 = {"application/octet-stream": {"type": "string", "format": "binary"}}
DATASET = json("the dataset", ref("Dataset"), ("dataset",))
PROJECTION = json("the projection", ref("Projection"), ("projection",))
MISSING = "no such dataset"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "GET", "/api/health", service.health,
        "Liveness: the service answers (always open); with ready=1, readiness: the catalog is open and jobs can run",
        (flag("ready", "check readiness: 503 with the failing checks when not ready"),),
        responses={"200": json("alive (or ready)", ref("Health")), "503": Reply("not ready: the failing checks", NOT_READY)},
    ),
    Endpoint(
        "GET", "/metrics", metrics.metrics, "Prometheus metrics (text format; OpenMetrics when Accept asks for it)",
        responses={"200": Reply("metrics", media={"text/plain": {"type": "string"}, "application/openmetrics-text": {"type": "string"}})},
    ),
    Endpoint("GET", "/api/openapi.json", service.openapi, "This document", responses={"200": json("OpenAPI 3", {"type": "object"})}),
    Endpoint(
        "GET", "/api/methods", service.methods, "Projection methods with their parameters, defaults and ranges",
        responses={"200": json("by method name", ref("Methods"))},
    ),
    Endpoint("GET", "/api/datasets", datasets.list_datasets, "All datasets", responses={"200": json("datasets", {"type": "array", "items": ref("Dataset")})}),
    Endpoint(
        "GET", "/api/logdir", datasets.logdir_status, "The served TensorBoard logdir and the problems found in it",
        responses={"200": json("logdir status", ref("Logdir"))},
    ),
    Endpoint(
        "POST", "/api/datasets", datasets.create_dataset, "Upload a dataset",
        (
            q("name"),
            text("member", "array to read from an .npz or .safetensors with several"),
            text("embedding", "Parquet: the list column holding the embedding (default: the only one)"),
        ),
        BODIES["tensor"],
        {
            "201": DATASET,
            "400": "invalid tensor, metadata or sprite",
            "408": "upload stalled or past --upload-deadline",
            "413": "body, metadata part or inflated .npz member too large",
            "415": "unsupported Content-Type",
            "422": "`embedding` given for a body that is not Parquet",
            "429": "too_many_uploads: --max-uploads uploads already in progress (Retry-After)",
        },
        beyond_schema=("400", "413", "422"),
    ),
    Endpoint("GET", "/api/datasets/{id}", datasets.get_dataset, "One dataset", responses={"200": DATASET, "404": MISSING}),
    Endpoint(
        "DELETE", "/api/datasets/{id}", datasets.delete_dataset, "Delete a dataset and its projections",
        responses={"204": "deleted", "404": MISSING, "409": "read_only: a logdir dataset"},
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/tensor", datasets.get_tensor, "The tensor, n × dim float32",
        responses={"200": Reply("little-endian float32, row-major", media=FLOAT32, headers={"X-Shape": "n,dim"}), "404": MISSING},
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/metadata", datasets.get_metadata, "Metadata as {columns, rows} in tensor row order",
        responses={"200": json("metadata", ref("Metadata")), "404": MISSING},
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/sprite", datasets.get_sprite, "The sprite PNG",
        responses={"200": Reply("PNG", media={"image/png": {"type": "string", "format": "binary"}}, headers={"X-Sprite-Dim": "W,H"}), "404": "no sprite"},
        linked=False,
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/bookmarks", datasets.get_bookmarks, "TensorBoard bookmarks of a logdir dataset, as stored",
        responses={"200": json("TensorBoard's saved states", {"type": "array"}), "404": "none"},
        linked=False,
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/projections", projections.list_projections, "The dataset's projections",
        responses={"200": json("projections", {"type": "array", "items": ref("Projection")}), "404": MISSING},
    ),
    Endpoint(
        "POST", "/api/datasets/{id}/projections", projections.create_projection, "Request a projection (cached by method, dims and params)",
        body=BODIES["projection"],
        responses={
            "200": Reply("already done", ref("Projection"), links=("projection",)),
            "202": Reply("queued or running", ref("Projection"), links=("projection",)),
            "404": MISSING,
            "413": "JSON body over 1 MiB",
            "422": "bad parameters (some ranges depend on the dataset, e.g. perplexity below (n - 1) / 3)",
            "429": "queue_full: --max-queued-jobs projections already wait (Retry-After)",
        },
        beyond_schema=("422",),
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/neighbors", lookup.neighbors, "Exact k nearest neighbours of a point in the original space",
        (
            Query("index", {"type": "integer", "minimum": 0}, "row of the query point (below n)"),
            text("column", "look the query point up by this column (with `value`)"),
            text("value", "... equal to this value: the first such row; `matches` says how many"),
            q("neighbors.k"),
            q("metric"),
            flag("exact", "always scan every point, even where a cached kNN graph could answer"),
            q("rows"),
        ),
        responses={"200": json("neighbours, nearest first", ref("Neighbors")), "404": "no such dataset, or no row has that value", "422": "bad parameters"},
        beyond_schema=("422",),
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/search", lookup.search_metadata, "Rows whose metadata matches a regular expression",
        (
            text("q", "regular expression, RE2 syntax (Python re without backreferences or lookaround), re.search semantics", required=True),
            text("column", "default: all columns"),
            q("search.limit"),
            flag("ignore_case", "match regardless of case"),
            q("rows"),
        ),
        responses={"200": json("matches in row order", ref("Search")), "400": "invalid_regex or regex_timeout", "404": MISSING, "422": "no such column"},
        beyond_schema=("400", "422"),
    ),
    Endpoint("GET", "/api/projections/{pid}", projections.get_projection, "A projection's status, progress and results", responses={"200": PROJECTION, "404": "no such projection"}),
    Endpoint(
        "GET", "/api/projections/{pid}/coords", projections.get_coords, "Coordinates, n × dims float32 (latest frame while running)",
        responses={
            "200": Reply("little-endian float32, row-major", media=FLOAT32, headers={"X-Shape": "n,dims", "X-Iteration": "the frame's iteration"}),
            "404": "no such projection (or a clusters job)",
            "409": "no coordinates yet, or the job failed",
        },
    ),
    Endpoint(
        "GET", "/api/projections/{pid}/export", export.export_projection,
        "A finished projection as a file: metadata columns then x, y (z) in row order (npy: the coordinates only)",
        (q("export.projection", "format"),),
        responses={
            "200": Reply("the file (Content-Disposition: attachment)", media={EXPORT_TYPES[f].split(";")[0]: {"type": "string", "format": "binary"} for f in EXPORT_TYPES}),
            "404": "no such projection", "409": "the projection has not finished",
        },
    ),  # fmt: skip
    Endpoint(
        "GET", "/api/datasets/{id}/export", export.export_dataset,
        "The dataset as Parquet: the tensor as a fixed-size list float32 column, then the metadata columns",
        (q("export.dataset", "format"), Query("embedding", {"type": "string", "minLength": 1, "maxLength": 200}, "name of the tensor column")),
        responses={"200": Reply("Parquet", media={EXPORT_TYPES["parquet"]: {"type": "string", "format": "binary"}}), "404": MISSING},
    ),
    Endpoint(
        "GET", "/api/projections/{pid}/events", projections.projection_events, "Server-Sent Events of progress until the job ends",
        responses={
            "200": Reply("an event per change, the projection as JSON in `data`; `: keep-alive` comment lines", media={"text/event-stream": SSE_EVENT}),
            "404": "no such projection",
            "429": "too_many_streams: --max-streams streams already open (Retry-After)",
        },
    ),
    Endpoint(
        "DELETE", "/api/projections/{pid}", projections.cancel_projection, "Cancel a queued or running projection",
        responses={"200": json("the projection (cancelled, or as it was when already over)", ref("Projection")), "404": "no such projection"},
        removes=False,
    ),
    # -- exploration tools (issue 14) ---------------------------------------------------------------
    Endpoint(
        "POST", "/api/datasets/{id}/subsets", subsets.create,
        "A new dataset of some rows (tensor and metadata rows copied, in the order given); it records its parent",
        body=BODIES["subset"],
        responses={
            "201": Reply("the new dataset, with `parent`", ref("Dataset"), links=("dataset",)),
            "400": "invalid_rows (out of range: the first bad one named; fewer than 2), no_match, invalid_regex",
            "404": MISSING, "413": "body too large", "422": "no such column",
        },
        beyond_schema=("400", "404", "422"),
    ),  # fmt: skip
    Endpoint(
        "POST", "/api/datasets/{id}/neighbors", vectors.neighbors_of_vectors,
        "Exact k nearest rows of each query vector, nearest first (no row left out); distances in the original space",
        (q("vectors.k", "k"), q("metric")),
        BODIES["vectors"],
        {
            "200": json("one result per query vector", ref("VectorNeighbors")),
            "400": "dimension_mismatch, or invalid_vectors (bad X-Shape or length, NaN or infinity, all-zero vector for cosine)",
            "404": MISSING, "413": "more than 1000 query vectors, or body too large", "415": "unsupported Content-Type",
            "422": "bad k (at most the dataset's n) or metric",
        },
        beyond_schema=("400", "422"),
    ),  # fmt: skip
    Endpoint(
        "POST", "/api/projections/{pid}/clusters", clusters.create,
        "HDBSCAN clusters of a finished layout, as a job; the dataset's metadata gains the categorical column `column` (noise -1)",
        body=BODIES["clusters"],
        responses={
            "200": Reply("done (cached)", ref("Clusters"), links=("clusters",)),
            "202": Reply("queued or running: follow GET /api/projections/{pid}/clusters/{id}", ref("Clusters"), links=("clusters",)),
            "404": "no such projection", "409": "not_done: the projection has not finished (or failed)",
            "422": "min_cluster_size above n, or no such label_column", "429": "queue_full (Retry-After)",
        },
        beyond_schema=("422",),
        body_required=False,
    ),  # fmt: skip
    Endpoint(
        "GET", "/api/projections/{pid}/clusters/{id}", clusters.get, "A clusters job: status and progress; when done, the result",
        responses={"200": json("the clusters job", ref("Clusters")), "404": "no such job"},
    ),
    Endpoint(
        "PATCH", "/api/datasets/{id}/metadata", edits.edit_metadata,
        "Set a metadata column (created if missing) to one value for some rows; stored in the data dir (a logdir is never written)",
        body=BODIES["edit"],
        responses={"200": json("what changed", ref("Edit")), "400": "invalid_edit or invalid_rows", "404": MISSING},
        beyond_schema=("400",),
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/metadata.tsv", edits.metadata_tsv,
        "The metadata, edits and cluster columns included, as TensorBoard's TSV (a header line unless there is one column)",
        responses={"200": Reply("TSV", media={"text/tab-separated-values": {"type": "string"}}), "404": MISSING},
    ),
    Endpoint(
        "POST", "/api/datasets/{id}/selections", selections.save, "Save (or replace) a named selection of rows",
        body=BODIES["selection"],
        responses={
            "201": Reply("saved", ref("SelectionSummary"), links=("selection",)),
            "400": "invalid_rows (beyond n) or too_many", "404": MISSING,
        },
        beyond_schema=("400",),
    ),  # fmt: skip
    Endpoint(
        "GET", "/api/datasets/{id}/selections", selections.list_all, "Saved selections",
        responses={"200": json("by name", {"type": "array", "items": ref("SelectionSummary")}), "404": MISSING},
    ),
    Endpoint(
        "GET", "/api/datasets/{id}/selections/{name}", selections.get, "A saved selection's rows, in the order saved",
        responses={"200": json("the selection", ref("Selection")), "404": "no such selection"},
    ),
    Endpoint(
        "DELETE", "/api/datasets/{id}/selections/{name}", selections.delete, "Delete a saved selection",
        responses={"204": "deleted", "404": "no such selection"},
    ),
)  # fmt: skip


class PageMount(Mount):
    """The page's static files at `/`, for every path but the API's (so `PUT /api/datasets` is a 405 from its route)."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if path.startswith(API_PREFIXES) or path in ("/api", "/metrics"):
            return Match.NONE, {}
        return super().matches(scope)


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
