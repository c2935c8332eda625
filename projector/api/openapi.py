"""The OpenAPI 3 document, built from the route table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from projector import __version__
from projector.api.routes import Endpoint

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["error", "detail"],
}


def openapi_document(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    """The OpenAPI 3 document of `endpoints` (the app builds it once, from the route table)."""
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in re.findall(r"{(\w+)}", endpoint.path)
        ]
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": {"type": kind}, "description": text}
            for name, kind, text in endpoint.query
        ]
        responses: dict[str, Any] = {}
        for status, text in endpoint.responses.items():
            if status.startswith("2"):
                media = "application/octet-stream" if endpoint.binary and status == "200" else "application/json"
                responses[status] = {"description": text}
                if status != "204":
                    responses[status]["content"] = {media: {"schema": {}}}
            else:
                responses[status] = {
                    "description": text,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                }
        responses.setdefault(
            "default", {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        )
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": endpoint.handler.__name__,
            "parameters": parameters,
            "responses": responses,
        }
        if endpoint.body:
            operation["requestBody"] = {"required": True, "content": {media: {"schema": schema} for media, schema in endpoint.body.items()}}
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "projector", "version": __version__, "description": "Embedding projector service"},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
