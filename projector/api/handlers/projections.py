"""Projection routes: request (cached), status, coordinates (live frames while running), events, cancel.

Every state comes from the lifecycle owner (projector.jobs.lifecycle.Jobs); nothing is merged here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from projector.api.request import JSONResponse, array_response, jobs, json_body
from projector.errors import InvalidParameter
from projector.jobs.methods import METHODS

KEEPALIVE_SECONDS = 15.0  # a comment line this often keeps proxies from dropping a quiet stream
REQUEST_KEYS = ("method", "dims", "params")


def check_request_keys(body: dict[str, Any]) -> None:
    """Refuse keys a projection request does not have, so a misplaced parameter is never silently ignored."""
    unknown = [key for key in body if key not in REQUEST_KEYS]
    if not unknown:
        return
    detail = f"unknown field{'s' if len(unknown) > 1 else ''} {unknown} in the request; it takes {list(REQUEST_KEYS)}"
    name = body.get("method")
    method = METHODS.get(name) if isinstance(name, str) else None
    misplaced = [key for key in unknown if method is not None and key in {p.name for p in method.params}]
    if misplaced:
        example = orjson.dumps({"method": name, "params": {key: body[key] for key in misplaced}}).decode()
        detail += f"; method parameters go under `params`, e.g. {example}"
    elif method is not None:
        detail += f" (method parameters go under `params`: {sorted(p.name for p in method.params)})"
    raise InvalidParameter(detail, code="unknown_field")


async def create_projection(request: Request) -> Response:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object {method, dims, params}")
    check_request_keys(body)
    params = body.get("params")
    if params is not None and not isinstance(params, dict):  # null means no parameters; [] or "" is a mistake
        raise InvalidParameter(f"`params` must be an object of method parameters, got {params!r}")
    params = params or {}
    projection = await run_in_threadpool(jobs(request).request, request.path_params["id"], body.get("method"), body.get("dims", 2), params)
    return JSONResponse(projection, status_code=200 if projection["status"] == "done" else 202)


async def list_projections(request: Request) -> Response:
    return JSONResponse(jobs(request).list(request.path_params["id"]))


async def get_projection(request: Request) -> Response:
    return JSONResponse(jobs(request).get(request.path_params["pid"]))


async def get_coords(request: Request) -> Response:
    data, shape, iteration = await run_in_threadpool(jobs(request).coords, request.path_params["pid"])
    return array_response(data.tobytes() if isinstance(data, np.ndarray) else data, shape, iteration)


async def cancel_projection(request: Request) -> Response:
    return JSONResponse(jobs(request).cancel(request.path_params["pid"]))


async def projection_events(request: Request) -> Response:
    """Server-Sent Events: the projection object each time it changes, until the job ends."""
    pid = request.path_params["pid"]
    jobs(request).get(pid)  # 404 before the stream starts

    async def stream() -> AsyncIterator[bytes]:
        last = b""
        async for current in jobs(request).changes(pid, KEEPALIVE_SECONDS):
            if current is None:
                yield b": keep-alive\n\n"
                continue
            payload = orjson.dumps(current)
            if payload != last:
                last = payload
                yield b"data: " + payload + b"\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
