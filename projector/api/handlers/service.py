"""Service routes: health, the OpenAPI document, the methods on offer."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from projector import __version__
from projector.api.request import JSONResponse
from projector.jobs.methods import describe_methods


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "version": __version__})


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def methods(request: Request) -> Response:
    return JSONResponse(describe_methods())
