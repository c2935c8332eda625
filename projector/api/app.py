"""The Starlette application: routes, error handling, auth, the static web client."""

from __future__ import annotations

import contextlib
import errno
import logging
from pathlib import Path
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from projector.api.auth import TokenAuth
from projector.errors import ProjectorError
from projector.api.request import JSONResponse
from projector.jobs.lifecycle import JobManager
from projector.api.routes import starlette_routes
from projector.settings import Settings
from projector.data.store import Store

log = logging.getLogger("projector")
HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 400: "bad_request"}


def web_dir() -> Path:
    """The client's files: inside the installed package, or `web/` beside it in a checkout."""
    here = Path(__file__).resolve().parent.parent  # the projector package
    for candidate in (here / "web", here.parent / "web"):
        if (candidate / "index.html").exists():
            return candidate
    return here.parent / "web"


async def projector_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProjectorError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        detail = f"no route or file at {request.url.path}"
    else:
        detail = str(exc.detail)
    return JSONResponse({"error": HTTP_CODES.get(exc.status_code, "http_error"), "detail": detail}, status_code=exc.status_code, headers=exc.headers)


async def server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return JSONResponse({"error": "disk_full", "detail": "the data dir's disk is full; nothing was stored"}, status_code=507)
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "internal_error", "detail": f"{type(exc).__name__}: {exc}"}, status_code=500)


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store(settings.data_dir)
        store.recover()
        if settings.demo and settings.logdir is None and store.dataset_count() == 0:
            from projector.data.demo import add_demo

            add_demo(store)
        app.state.store = store
        app.state.jobs = JobManager(store, settings.job_workers, warm_up=settings.warm_up)
        app.state.logdir = None
        if settings.logdir is not None:
            from projector.data.logdir_sync import LogdirSync

            app.state.logdir = LogdirSync(store, settings.logdir)
            app.state.logdir.start()
        try:
            yield
        finally:
            if app.state.logdir is not None:
                app.state.logdir.stop()
            app.state.jobs.shutdown()
            store.close()

    middleware = []
    if settings.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"], allow_headers=["*"]))
    if settings.token:
        middleware.append(Middleware(TokenAuth, token=settings.token, protect_reads=settings.protect_reads))
    routes = starlette_routes()
    routes.append(Mount("/", app=StaticFiles(directory=web_dir(), html=True, check_dir=False), name="web"))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={ProjectorError: projector_error, HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.settings = settings
    return app
