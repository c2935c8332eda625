"""The OpenAPI 3 document, built from the route table."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from projector import __version__
from projector.api.routes import Endpoint

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
                responses[status] = {"description": text, "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}}
        open_route = endpoint.path == "/api/health"
        for status, text in AUTH_RESPONSES.items():
            if open_route and status == "401":
                continue
            text += CROSS_ORIGIN if status == "403" and endpoint.method in WRITE_METHODS else ""
            responses.setdefault(status, {"description": text, "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}})
        responses.setdefault("default", {"description": "error", "content": {"application/json": {"schema": {"$ref": ERROR_REF}}}})
        operation: dict[str, Any] = {
            "summary": endpoint.summary,
            "operationId": endpoint.handler.__name__,
            "parameters": parameters,
            "responses": responses,
            "security": [] if open_route else [{"bearer": []}, {"cookie": []}, {}],  # {}: servers without a token
        }
        if endpoint.body:
            operation["requestBody"] = {"required": True, "content": {media: {"schema": schema} for media, schema in endpoint.body.items()}}
        paths.setdefault(endpoint.path, {})[endpoint.method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "projector", "version": __version__, "description": f"Embedding projector service.\n\n{ACCESS}"},
        "paths": paths,
        "components": {"schemas": {"Error": ERROR_SCHEMA}, "securitySchemes": SECURITY_SCHEMES},
    }
