"""JSON schemas of the API's bodies, answers and parameters, each fact taken from where it lives (methods, limits, ids).

OpenAPI 3.0 (`nullable`). Answers list every field they always carry as required; objects stay
open (more fields may be added), except request bodies the server checks key by key.
"""

from __future__ import annotations

from typing import Any

from projector.api.handlers.export import DATASET_FORMATS, PROJECTION_FORMATS
from projector.api.handlers.lookup import MAX_SEARCH_LIMIT
from projector.api.handlers.projections import REQUEST_KEYS
from projector.data.ingest import MAX_NAME_LENGTH
from projector.data.layout import ID_PATTERN
from projector.data.neighbors import MAX_VECTOR_K
from projector.data.selections import NAME as SELECTION_NAME
from projector.data.store import SOURCES
from projector.jobs.clusters import BODY_KEYS as CLUSTER_KEYS
from projector.jobs.methods import METHODS, Param
from reducers.knn import METRICS

Schema = dict[str, Any]


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {**schema, "nullable": True}


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None, closed: bool = False) -> Schema:
    """An object with these required and optional properties; `closed` refuses any other key."""
    schema: Schema = {"type": "object", "properties": {**required, **(optional or {})}}
    if required:  # OpenAPI 3.0: `required` lists at least one name
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


STRING, INTEGER, NUMBER, BOOLEAN = {"type": "string"}, {"type": "integer"}, {"type": "number"}, {"type": "boolean"}
COUNT = {"type": "integer", "minimum": 0}
ROW = {"type": "integer", "minimum": 0, "description": "0-based row index"}
TIME = {"type": "string", "description": "UTC, ISO 8601 (YYYY-MM-DDTHH:MM:SSZ)"}
ID = {"type": "string", "pattern": ID_PATTERN.pattern}
METRIC = {"type": "string", "enum": list(METRICS), "default": "cosine"}
CELLS = {"type": "array", "items": STRING, "description": "one metadata row: a cell per column, as text"}
STATUS = {"type": "string", "enum": ["queued", "running", "done", "failed", "cancelled"]}
DATASET_NAME = {
    "type": "string",
    "maxLength": MAX_NAME_LENGTH,
    "pattern": "^[^\\u0000-\\u001f]*$",
    "description": "a dataset's display name",
}

# -- parameters -------------------------------------------------------------------------------------

PATH_PARAMETERS: dict[str, Schema] = {
    "id": ID,
    "pid": ID,
    "name": {"type": "string", "pattern": SELECTION_NAME.pattern},
}
ROWS_FLAG = (BOOLEAN, "carry the metadata rows named (default true); false for large answers")


def _param_schema(param: Param) -> Schema:
    """A method parameter's JSON schema, from its definition in projector.jobs.methods."""
    bounds = {key: value for key, value in (("minimum", param.minimum), ("maximum", param.maximum)) if value is not None}
    if param.kind == "choice":
        return {"type": "string", "enum": list(param.choices)}
    if param.kind == "int":
        return {"type": "integer", **bounds}
    if param.kind == "float":
        return {"type": "number", **bounds}
    if param.kind == "float_or_auto":
        return {"oneOf": [{"type": "number", **bounds}, {"type": "string", "enum": ["auto"]}]}
    if param.kind == "int_list":
        return {"type": "array", "items": {"type": "integer", **bounds}}
    if param.kind == "projection_id":
        return nullable(
            {"type": "string", "pattern": "^[A-Za-z0-9]{0,64}$", "description": "a finished projection's id; empty or null: none"}
        )
    return {"type": "string"}


def _method_request(name: str) -> Schema:
    """A projection request for one method: its parameters with their types and ranges, nothing else."""
    method = METHODS[name]
    params = {p.name: {**_param_schema(p), "description": p.doc or p.name} for p in method.params}
    fields = {"dims": {"type": "integer", "enum": [2, 3], "default": 2}, "params": nullable(obj({}, params, closed=True))}
    assert set(REQUEST_KEYS) == {"method", *fields}
    return obj({"method": {"type": "string", "enum": [name]}}, fields, closed=True)


def _request_name(method: str) -> str:
    return f"{method.capitalize()}Request"


# -- request bodies ---------------------------------------------------------------------------------

# A tensor TSV the schema can generate exactly: 4 to 40 rows of 3 small numbers.
TSV_TENSOR = {
    "type": "string",
    "pattern": r"^(-?[0-9]{1,3}(\.[0-9]{1,3})?\t-?[0-9]{1,3}(\.[0-9]{1,3})?\t-?[0-9]{1,3}(\.[0-9]{1,3})?\n){4,40}$",
}
BODIES: dict[str, dict[str, Schema]] = {
    "tensor": {
        "text/tab-separated-values": {
            **TSV_TENSOR,
            "description": "a tensor TSV: one row per point, tab-separated numbers",
            "example": "0.1\t0.2\t0.3\n1\t0\t2\n-1.5\t2\t0\n3\t1\t1\n",
        },
        "application/x-npy": {"type": "string", "format": "binary", "description": "a .npy file (n × dim numbers)"},
        "application/vnd.apache.parquet": {"type": "string", "format": "binary", "description": "a Parquet file with a list column"},
        "multipart/form-data": obj(
            {"tensor": {"type": "string", "format": "binary", "description": "npy, npz, tsv, safetensors or Parquet"}},
            {
                "metadata": {"type": "string", "format": "binary", "description": "metadata TSV"},
                "sprite": {"type": "string", "format": "binary", "description": "PNG atlas of thumbnails"},
                "sprite_dim": {"type": "string", "pattern": "^[0-9]{1,5},[0-9]{1,5}$", "description": "W,H of one thumbnail"},
                "name": DATASET_NAME,
            },
        ),
    },
    "projection": {
        "application/json": {
            "oneOf": [ref(_request_name(name)) for name in METHODS],
            "discriminator": {"propertyName": "method", "mapping": {name: ref(_request_name(name))["$ref"] for name in METHODS}},
            "example": {"method": "pca", "dims": 2},
        }
    },
    "subset": {
        "application/json": {
            "oneOf": [
                obj({"rows": {"type": "array", "items": ROW, "minItems": 2, "uniqueItems": True}}, {"name": nullable(DATASET_NAME)}),
                obj({"q": STRING}, {"column": nullable(STRING), "name": nullable(DATASET_NAME)}),
            ]
        }
    },
    "vectors": {
        "application/json": obj({"vectors": {"type": "array", "minItems": 1, "items": {"type": "array", "minItems": 1, "items": NUMBER}}}),
        "application/octet-stream": {"type": "string", "format": "binary", "description": "m × dim float32, header X-Shape: m,dim"},
    },
    "clusters": {
        "application/json": obj(
            {},
            {
                "min_cluster_size": {"type": "integer", "minimum": 2, "description": "default max(5, sqrt(n) / 2)"},
                "label_column": nullable({"type": "string", "description": "names the clusters (default: the first text column)"}),
            },
            closed=True,
        )
    },
    "edit": {
        "application/json": obj(
            {
                "column": {"type": "string", "minLength": 1},
                "rows": {"type": "array", "items": ROW},
                "value": nullable({"oneOf": [STRING, NUMBER], "description": "null empties the cells"}),
            }
        )
    },
    "selection": {
        "application/json": obj(
            {"name": {"type": "string", "pattern": SELECTION_NAME.pattern}, "rows": {"type": "array", "items": ROW, "minItems": 1}}
        )
    },
}
# An example of each JSON body (the docs show them; schemathesis' examples phase sends them).
EXAMPLES = {
    "subset": {"rows": [0, 1, 2], "name": "picked"},
    "vectors": {"vectors": [[0.1, 0.2, 0.3]]},
    "clusters": {"min_cluster_size": 5},
    "edit": {"column": "reviewed", "rows": [0, 2], "value": "yes"},
    "selection": {"name": "outliers", "rows": [0, 2]},
}
for _body, _example in EXAMPLES.items():
    BODIES[_body]["application/json"]["example"] = _example
assert set(CLUSTER_KEYS) == set(BODIES["clusters"]["application/json"]["properties"])

# -- answers ----------------------------------------------------------------------------------------

NEIGHBOR = obj({"index": ROW, "distance": NUMBER}, {"row": CELLS})
COMPONENTS: dict[str, Schema] = {
    "Error": obj({"error": STRING, "detail": STRING}),
    "Health": obj({"status": {"type": "string", "enum": ["ok", "ready"]}, "version": STRING}, {"checks": {"type": "object"}}),
    "Dataset": obj(
        {
            "id": ID,
            "name": STRING,
            "n": COUNT,
            "dim": COUNT,
            "columns": {"type": "array", "items": STRING},
            "column_types": {"type": "object", "additionalProperties": {"type": "string", "enum": ["numeric", "categorical"]}},
            "source": {"type": "string", "enum": list(SOURCES)},
            "created": TIME,
            "sprite": nullable(obj({"dim": {"type": "array", "items": COUNT, "minItems": 2, "maxItems": 2}})),
        },
        {
            "parent": nullable(ID),
            "run": STRING,
            "tensor_name": STRING,
            "step": nullable(INTEGER),
            "sequence": STRING,
            "has_bookmarks": BOOLEAN,
        },
    ),  # fmt: skip
    "Projection": obj(
        {
            "id": ID,
            "dataset": ID,
            "method": STRING,
            "dims": INTEGER,
            "params": {"type": "object"},
            "status": STATUS,
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "iteration": COUNT,
            "error": nullable(STRING),
            "quality": nullable({"type": "object"}),
            "created": TIME,
            "finished": nullable(TIME),
        },
        {"explained_variance_ratio": {"type": "array", "items": NUMBER}},
    ),  # fmt: skip
    "Metadata": obj(
        {"columns": {"type": "array", "items": STRING}, "rows": {"type": "array", "items": CELLS}}, {"dtypes": {"type": "object"}}
    ),
    "Neighbors": obj(
        {
            "query": obj({"index": ROW, "row": CELLS}, {"matches": {"type": "integer", "minimum": 1}}),
            "metric": METRIC,
            "k": INTEGER,
            "exact": BOOLEAN,
            "neighbors": {"type": "array", "items": NEIGHBOR},
        },
        {"columns": {"type": "array", "items": STRING}},
    ),  # fmt: skip
    "Search": obj(
        {"count": COUNT, "indices": {"type": "array", "items": ROW}, "truncated": BOOLEAN},
        {"columns": {"type": "array", "items": STRING}, "rows": {"type": "array", "items": CELLS}},
    ),
    "VectorNeighbors": obj(
        {"metric": METRIC, "k": INTEGER, "results": {"type": "array", "items": obj({"neighbors": {"type": "array", "items": NEIGHBOR}})}}
    ),
    "Logdir": obj({"logdir": nullable(STRING), "scans": COUNT, "problems": {"type": "array", "items": STRING}}),
    "Methods": {
        "type": "object",
        "additionalProperties": obj({"title": STRING, "dims": {"type": "array", "items": INTEGER}, "params": {"type": "object"}}),
    },
    "Clusters": obj(
        {
            "id": ID,
            "projection": ID,
            "status": STATUS,
            "progress": NUMBER,
            "error": nullable(STRING),
            "min_cluster_size": nullable(INTEGER),
            "label_column": nullable(STRING),
            "column": STRING,
        },
        {
            "noise": nullable(COUNT),
            "clusters": nullable(
                {
                    "type": "array",
                    "items": obj(
                        {"id": INTEGER, "size": COUNT, "centroid": {"type": "array", "items": NUMBER}}, {"label": nullable(STRING)}
                    ),
                }
            ),
        },
    ),  # fmt: skip
    "Edit": obj(
        {
            "column": STRING,
            "rows": COUNT,
            "value": STRING,
            "created": BOOLEAN,
            "columns": {"type": "array", "items": STRING},
            "column_types": {"type": "object"},
        }
    ),  # fmt: skip
    "SelectionSummary": obj({"name": STRING, "count": COUNT, "saved": TIME}),
    "Selection": obj({"name": STRING, "count": COUNT, "rows": {"type": "array", "items": ROW}}),
    **{_request_name(name): _method_request(name) for name in METHODS},
}
NOT_READY = {"allOf": [ref("Error"), obj({"checks": {"type": "object", "additionalProperties": STRING}})]}

# -- query parameters (name → (schema, description)) ------------------------------------------------

K = {"type": "integer", "minimum": 1, "default": 10}
QUERY: dict[str, tuple[Schema, str]] = {
    "search.limit": ({"type": "integer", "minimum": 0, "maximum": MAX_SEARCH_LIMIT, "default": 1000}, "at most this many indices"),
    "vectors.k": ({**K, "maximum": MAX_VECTOR_K}, "neighbours per query vector"),
    "neighbors.k": (K, "neighbours (at most n - 1)"),
    "metric": (METRIC, "distance in the original space"),
    "rows": ROWS_FLAG,
    "name": (DATASET_NAME, "a display name for the new dataset"),
    "export.projection": ({"type": "string", "enum": list(PROJECTION_FORMATS), "default": "parquet"}, "file format"),
    "export.dataset": ({"type": "string", "enum": list(DATASET_FORMATS), "default": "parquet"}, "file format"),
}
