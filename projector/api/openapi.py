"""The OpenAPI 3 document, built from the route table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from projector import __version__
from projector.api.routes import Endpoint, Query, Reply
from projector.api.schemas import COMPONENTS, PATH_PARAMETERS

ACCESS = """Access. Without a token, a request whose `Host` is not `localhost`, `127.0.0.1`, `[::1]` (any port),
the `--host` value or an `--allow-host` name is refused (403 `untrusted_host`). A POST, PUT, PATCH or
DELETE carrying an `Origin` (or `Sec-Fetch-Site: cross-site`) other than the server's own origin or a
`--cors-origin` is refused (403 `cross_origin`), token or cookie notwithstanding; requests without
`Origin` are unaffected. With a token (`--token`, `$PROJECTOR_TOKEN`, `--token-file`), every /api route
but /api/health needs `Authorization: Bearer <token>` (scheme in any case) or the session cookie that
opening `/?token=<token>` sets (HttpOnly, SameSite=Strict, then a redirect to the clean URL); else 401
`unauthorized`. Busy resources answer 429 with `Retry-After`."""
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "the token given to `projector serve`"},
    "cookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "projector-session-PORT",
        "description": "set by opening `/?token=<token>` in a browser; PORT is the server's port",
    },
}
AUTH_RESPONSES = {
    "401": "the server has a token and the request carries neither it (`Authorization: Bearer`) nor the session cookie",
    "403": "untrusted_host: the `Host` names neither a loopback address, `--host` nor an `--allow-host` (servers without a token)",
}
CROSS_ORIGIN = "; cross_origin: a browser page of another origin (`Origin`, `Sec-Fetch-Site: cross-site`) that is not a --cors-origin"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
ERROR_REF = "#/components/schemas/Error"

ERROR_JSON = {"application/json": {"schema": {"$ref": ERROR_REF}}}
# What every operation with query parameters, or with a JSON body, can also answer (unless it says more).
QUERY_RESPONSES = {"422": "a query parameter outside its schema (the detail names it and the value sent)"}
JSON_BODY_RESPONSES = {
    "400": "invalid_json: the body is not JSON",
    "413": "the JSON body is larger than its limit",
    "429": "too_many_bodies: the request bodies held in memory are at their cap (Retry-After)",
}
RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait before trying again", "required": True, "schema": {"type": "integer", "minimum": 1}}
}
# Where an answer leads: (path prefix of the operations reached, their path parameter → runtime expression).
LINKS: dict[str, tuple[str, dict[str, str]]] = {
    "dataset": ("/api/datasets/{id}", {"id": "$response.body#/id"}),
    "projection": ("/api/projections/{pid}", {"pid": "$response.body#/id"}),
    "clusters": ("/api/projections/{pid}/clusters/{id}", {"pid": "$request.path.pid", "id": "$response.body#/id"}),
    "selection": ("/api/datasets/{id}/selections/{name}", {"id": "$request.path.id", "name": "$response.body#/name"}),
}


def operation_ids(endpoints: Iterable[Endpoint]) -> dict[tuple[str, str], str]:
    """(method, path) → operationId: the handler's name, prefixed by its module where two handlers share a name."""
    endpoints = list(endpoints)
    names = [e.handler.__name__ for e in endpoints]
    return {
        (e.method, e.path): e.handler.__name__
        if names.count(e.handler.__name__) == 1
        else f"{e.handler.__module__.rsplit('.', 1)[-1]}_{e.handler.__name__}"
        for e in endpoints
    }


def _parameters(endpoint: Endpoint) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS.get(name, {"type": "string"})}
        for name in re.findall(r"{(\w+)}", endpoint.path)
    ]
    for item in endpoint.query:
        query = item if isinstance(item, Query) else Query(item[0], {"type": item[1]}, item[2])
        parameters.append(
            {"name": query.name, "in": "query", "required": query.required, "schema": query.schema, "description": query.description}
        )
    return parameters


def _links(reply: Reply, endpoints: list[Endpoint], ids: dict[tuple[str, str], str]) -> dict[str, Any]:
    links: dict[str, Any] = {}
    for group in reply.links:
        prefix, parameters = LINKS[group]
        for target in endpoints:
            names = set(re.findall(r"{(\w+)}", target.path))
            if target.linked and target.path.startswith(prefix) and names == set(parameters):
                links[ids[(target.method, target.path)]] = {"operationId": ids[(target.method, target.path)], "parameters": parameters}
    return links


def _response(
    endpoint: Endpoint, status: str, reply: str | Reply, endpoints: list[Endpoint], ids: dict[tuple[str, str], str]
) -> dict[str, Any]:
    if isinstance(reply, str):
        if not status.startswith("2"):
            return _error(reply, status)
        if status == "204":
            return {"description": reply}
        media = "application/octet-stream" if endpoint.binary and status == "200" else "application/json"
        return {"description": reply, "content": {media: {"schema": {}}}}
    content = {media: {"schema": schema} for media, schema in reply.media.items()}
    if reply.schema is not None:
        content["application/json"] = {"schema": reply.schema}
    answer: dict[str, Any] = {"description": reply.description, "content": content}
    headers = {name: {"description": text, "required": True, "schema": {"type": "string"}} for name, text in reply.headers.items()}
    if status in ("429", "503"):
        headers |= RETRY_AFTER
    if headers:
        answer["headers"] = headers
    links = _links(reply, endpoints, ids)
    if links:
        answer["links"] = links
    return answer


def _error(description: str, status: str) -> dict[str, Any]:
    """An error answer: the Error object (with Retry-After when the client is told to come back)."""
    answer: dict[str, Any] = {"description": description, "content": ERROR_JSON}
    if status in ("429", "503"):
        answer["headers"] = RETRY_AFTER
    return answer


def openapi_document(endpoints: Iterable[Endpoint]) -> dict[str, Any]:
    """The OpenAPI 3 document of `endpoints` (the app builds it once, from the route table)."""
    endpoints = list(endpoints)
    ids = operation_ids(endpoints)
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        responses = {status: _response(endpoint, status, reply, endpoints, ids) for status, reply in endpoint.responses.items()}
        implied = (QUERY_RESPONSES if endpoint.query else {}) | (JSON_BODY_RESPONSES if "application/json" in (endpoint.body or {}) else {})
        for status, text in implied.items():
            responses.setdefault(status, _error(text, status))
        open_route = endpoint.path == "/api/health"
        for status, text in AUTH_RESPONSES.items():
            if open_route and status == "401":
                continue
            text += CROSS_ORIGIN if status == "403" and endpoint.method in WRITE_METHODS else ""
            responses.setdefault(status, _error(text, status))
        responses.setdefault("default", {"description": "error", "content": ERROR_JSON})
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": ids[(endpoint.method, endpoint.path)],
            "parameters": _parameters(endpoint),
            "responses": responses,
            "security": [] if open_route else [{"bearer": []}, {"cookie": []}, {}],  # {}: servers without a token
        }
        if endpoint.body:
            content = {media: {"schema": schema} for media, schema in endpoint.body.items()}
            operation["requestBody"] = {"required": endpoint.body_required, "content": content}
        if endpoint.beyond_schema:
            operation["x-beyond-schema"] = list(endpoint.beyond_schema)
        if endpoint.method == "DELETE" and not endpoint.removes:
            operation["x-keeps-resource"] = True
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "projector", "version": __version__, "description": f"Embedding projector service.\n\n{ACCESS}"},
        "paths": paths,
        "components": {"schemas": COMPONENTS, "securitySchemes": SECURITY_SCHEMES},
    }
