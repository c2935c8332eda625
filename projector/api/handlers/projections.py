"""Projection routes: request (cached), status, coordinates (live frames while running), events, cancel."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import numpy as np
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from projector.errors import Conflict, InvalidParameter, NotFound
from projector.api.request import JSONResponse, array_response, jobs, json_body, store
from projector.jobs.lifecycle import TERMINAL
from projector.jobs.methods import check_dims, get_method

EVENT_POLL_SECONDS = 0.2


def projection_object(request: Request, pid: str) -> dict[str, Any]:
    """The catalog's projection merged with the live state of its job, if it is running."""
    projection = store(request).get_projection(pid)
    job = jobs(request).get(pid)
    if job is not None and projection["status"] not in TERMINAL:
        projection.update(job.snapshot())
    return projection


async def create_projection(request: Request) -> Response:
    db = store(request)
    dataset = db.get_dataset(request.path_params["id"])
    body = await json_body(request)
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a JSON object {method, dims, params}")
    method = get_method(body.get("method"))
    dims = check_dims(body.get("dims", 2))
    params = body.get("params") or {}
    if not isinstance(params, dict):
        raise InvalidParameter("`params` must be a JSON object")
    params = method.normalize(dims, params, dataset["n"], dataset["dim"])
    if params.get("init_from"):
        check_init_from(request, params["init_from"], dataset["n"], dims)
    projection, needs_run = db.claim_projection(dataset["id"], method.name, dims, params)
    if needs_run:
        jobs(request).submit(projection)
    projection = projection_object(request, projection["id"])
    return JSONResponse(projection, status_code=200 if projection["status"] == "done" else 202)


def check_init_from(request: Request, pid: str, n: int, dims: int) -> None:
    """A layout to start from must be a finished projection with the same number of points and dims."""
    try:
        start = store(request).get_projection(pid)
    except NotFound:
        raise InvalidParameter(f"parameter `init_from`: no projection {pid!r}") from None
    start_n = store(request).get_dataset(start["dataset"])["n"]
    if start["status"] != "done" or start_n != n or start["dims"] != dims:
        raise InvalidParameter(
            f"parameter `init_from`: projection {pid} must be done with {n} points in {dims}D"
            f" (it is {start['status']}, {start_n} points in {start['dims']}D)"
        )


async def list_projections(request: Request) -> Response:
    projections = store(request).projections_for(request.path_params["id"])
    return JSONResponse([projection_object(request, p["id"]) for p in projections])


async def get_projection(request: Request) -> Response:
    return JSONResponse(projection_object(request, request.path_params["pid"]))


async def get_coords(request: Request) -> Response:
    pid = request.path_params["pid"]
    projection = projection_object(request, pid)
    if projection["status"] == "done":
        coords = await run_in_threadpool(np.load, store(request).coords_path(pid))
        return array_response(coords.tobytes(), coords.shape, projection["iteration"])
    job = jobs(request).get(pid)
    if job is not None and job.frame is not None and job.frame_shape is not None:
        return array_response(job.frame, job.frame_shape, job.frame_iteration)
    state = projection["status"]
    detail = f"projection {pid} is {state}" + (f": {projection['error']}" if projection["error"] else "; no frame yet")
    raise Conflict(detail, code="not_ready" if state in ("queued", "running") else state)


async def cancel_projection(request: Request) -> Response:
    pid = request.path_params["pid"]
    store(request).get_projection(pid)
    jobs(request).cancel(pid)
    return JSONResponse(projection_object(request, pid))


async def projection_events(request: Request) -> Response:
    """Server-Sent Events: the projection object each time it changes, until the job ends."""
    pid = request.path_params["pid"]
    projection_object(request, pid)  # 404 before the stream starts

    async def stream() -> AsyncIterator[bytes]:
        last: tuple[Any, ...] | None = None
        while True:
            current = projection_object(request, pid)
            key = (current["status"], current["progress"], current["iteration"])
            if key != last:
                last = key
                yield b"data: " + orjson.dumps(current) + b"\n\n"
            if current["status"] in TERMINAL or await request.is_disconnected():
                return
            await asyncio.sleep(EVENT_POLL_SECONDS)

    return StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
