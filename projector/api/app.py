"""The Starlette application: routes, error handling, access control, the static web client, and what it owns."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from projector.api.access import AccessGuard
from projector.api.errors import EXCEPTION_HANDLERS
from projector.api.headers import SecurityHeaders
from projector.api.limits import ConcurrencyLimits
from projector.api.metrics import Metrics, RequestMetrics
from projector.api.openapi import openapi_document
from projector.api.routes import ENDPOINTS, PageMount, starlette_routes
from projector.data.demo import add_demo
from projector.data.logdir_sync import LogdirSync
from projector.data.store import Store
from projector.jobs.executors.base import Executor
from projector.jobs.executors.local import LocalExecutor
from projector.jobs.executors.named import DASK_EXECUTOR, resolve
from projector.jobs.lifecycle import Jobs
from projector.settings import Settings

ExecutorFactory = Callable[[Settings], Executor]


def web_dir() -> Path:
    """The client's files: inside the installed package, or `web/` beside it in a checkout."""
    here = Path(__file__).resolve().parent.parent  # the projector package
    for candidate in (here / "web", here.parent / "web"):
        if (candidate / "index.html").exists():
            return candidate
    return here.parent / "web"


def local_executor(settings: Settings) -> Executor:
    return LocalExecutor(settings.job_workers, warm_up=settings.warm_up)


def dask_executor(settings: Settings) -> Executor:
    """The workers of the Dask cluster at `settings.scheduler` (distributed is imported only here)."""
    executor: Executor = resolve(DASK_EXECUTOR)(settings.scheduler, settings.data_dir, warm_up=settings.warm_up)
    return executor


def default_executor(settings: Settings) -> Executor:
    """The workers of the Dask cluster at `settings.scheduler` if there is one, else local processes."""
    if settings.scheduler:
        return dask_executor(settings)
    return local_executor(settings)


class ProjectorApp(Starlette):
    """Starlette with the security headers outside everything, so even its own 500 answers carry them."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), self.state.settings)


def create_app(settings: Settings, executor: ExecutorFactory = default_executor) -> Starlette:
    """The app; `executor` builds where projection work runs (local processes unless told otherwise)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store(settings.data_dir)
        store.recover()
        if settings.demo and settings.logdir is None and store.dataset_count() == 0:
            add_demo(store)
        jobs = Jobs(store, executor(settings), max_queued=settings.max_queued_jobs)
        app.state.store = store
        app.state.jobs = jobs
        jobs.on_finish.append(metrics.job_finished)
        app.state.logdir = None
        if settings.logdir is not None:
            app.state.logdir = LogdirSync(store, settings.logdir, delete_dataset=jobs.delete_dataset)
            app.state.logdir.start()
        try:
            yield
        finally:
            if app.state.logdir is not None:
                app.state.logdir.stop()
            jobs.shutdown()
            store.close()

    # Outermost first: who may ask (Host, Origin, token), CORS answers for --cors-origin pages, then how many at once.
    middleware = [Middleware(AccessGuard, settings=settings)]
    if settings.cors_origins:
        middleware.append(Middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["*"], allow_headers=["*"]))
    middleware.append(Middleware(ConcurrencyLimits, settings=settings))
    metrics = Metrics()
    middleware.insert(0, Middleware(RequestMetrics, metrics=metrics))  # outermost: counts every answer, the access checks' too
    routes = starlette_routes()
    routes.append(PageMount("/", app=StaticFiles(directory=web_dir(), html=True, check_dir=False), name="web"))
    app = ProjectorApp(routes=routes, middleware=middleware, exception_handlers=EXCEPTION_HANDLERS, lifespan=lifespan)
    app.state.settings = settings
    app.state.openapi = openapi_document(ENDPOINTS)
    app.state.metrics = metrics
    metrics.collect_from(app.state)
    return app
