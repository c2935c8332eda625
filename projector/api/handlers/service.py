"""Service routes: health, the OpenAPI document, the methods on offer."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from projector import __version__
from projector.api.request import JSONResponse, bool_query
from projector.jobs.methods import describe_methods


async def health(request: Request) -> Response:
    """Liveness (the process answers); with `ready=1`, readiness: the catalog answers and jobs can run (else 503)."""
    if not bool_query(request, "ready"):
        return JSONResponse({"status": "ok", "version": __version__})
    checks = await run_in_threadpool(readiness, request.app.state)
    failing = {name: problem for name, problem in checks.items() if problem != "ok"}
    if failing:
        detail = "not ready: " + "; ".join(f"{name}: {problem}" for name, problem in failing.items())
        return JSONResponse({"error": "not_ready", "detail": detail, "checks": checks}, status_code=503, headers={"Retry-After": "5"})
    return JSONResponse({"status": "ready", "version": __version__, "checks": checks})


def readiness(state: Any) -> dict[str, str]:
    """Each check's result: "ok", or what is wrong."""
    checks = {"catalog": "not open", "executor": "not started"}
    store, jobs = getattr(state, "store", None), getattr(state, "jobs", None)
    if store is not None:
        try:
            store.dataset_count()
            checks["catalog"] = "ok"
        except Exception as exc:  # closed, locked, or the disk went away
            checks["catalog"] = f"{type(exc).__name__}: {exc}"
    if jobs is not None:
        checks["executor"] = jobs.executor.problem() or "ok"
    return checks


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


async def methods(request: Request) -> Response:
    return JSONResponse(describe_methods())
