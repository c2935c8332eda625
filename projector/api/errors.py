"""Errors → HTTP: every failure leaves as `{"error": code, "detail": text}` with its status."""

from __future__ import annotations

import errno
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from projector.api.request import JSONResponse
from projector.errors import ProjectorError, TooManyRequests

log = logging.getLogger("projector")
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 400: "bad_request"}


async def projector_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProjectorError)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
    return JSONResponse(exc.body(), status_code=exc.status, headers=headers)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        detail = f"no route or file at {request.url.path}"
    else:
        detail = str(exc.detail)
    return JSONResponse(
        {"error": HTTP_CODES.get(exc.status_code, "http_error"), "detail": detail}, status_code=exc.status_code, headers=exc.headers
    )


async def server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return JSONResponse({"error": "disk_full", "detail": "the data dir's disk is full; nothing was stored"}, status_code=507)
    # The exception's text may name paths or data: it goes to the server log, never to the client.
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "internal_error", "detail": "unexpected server error; the server log has the details"}, status_code=500)


EXCEPTION_HANDLERS = {ProjectorError: projector_error, HTTPException: http_error, Exception: server_error}
