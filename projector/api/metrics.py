"""Operating the service: Prometheus metrics (`GET /metrics`) and a log line for every failed request.

Requests are counted by method, route template (never the raw path, so ids do not multiply the
series) and status, with a latency histogram; jobs by method and final state with a duration
histogram (from `Jobs.on_finish`). What the catalog holds (projections by method and state,
datasets, tensor bytes) and the queue length are read when Prometheus scrapes, by a few SQL counts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("projector.http")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
JOB_BUCKETS = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)


class CatalogCollector(Collector):
    """Gauges read at scrape time from the app's store and jobs (nothing while the app starts or stops)."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        store, jobs = getattr(self.state, "store", None), getattr(self.state, "jobs", None)
        if store is None or jobs is None:
            return
        by_state = GaugeMetricFamily("projector_jobs", "Projections in the catalog by method and state", labels=["method", "state"])
        for method, state, count in store.projection_counts():
            by_state.add_metric([method, state], count)
        yield by_state
        yield GaugeMetricFamily("projector_jobs_queued", "Jobs waiting for a worker", value=jobs.queued())
        datasets, tensor_bytes = store.dataset_totals()
        yield GaugeMetricFamily("projector_datasets", "Datasets in the catalog", value=datasets)
        yield GaugeMetricFamily("projector_stored_tensor_bytes", "Bytes of the float32 tensors stored", value=tensor_bytes)


class Metrics:
    """One app's metrics, in a registry of its own (several apps may live in one process, as in the tests)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "projector_http_requests", "HTTP requests answered, by method, route template and status", ["method", "route", "status"],
            registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "projector_http_request_duration_seconds", "Time from request to the end of the response, by method and route template",
            ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.job_seconds = Histogram(
            "projector_job_duration_seconds", "Projection jobs by method and final state: seconds from start (or queueing) to the end",
            ["method", "state"], buckets=JOB_BUCKETS, registry=self.registry,
        )  # fmt: skip

    def collect_from(self, state: Any) -> None:
        """Read the catalog gauges from the app's state (`store`, `jobs`) at each scrape."""
        self.registry.register(CatalogCollector(state))

    def job_finished(self, projection: dict[str, Any], seconds: float) -> None:
        self.job_seconds.labels(projection["method"], projection["status"]).observe(seconds)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """The metrics in the format `accept` asks for (Prometheus text 0.0.4 by default, or OpenMetrics): (body, media type)."""
        encode, media_type = choose_encoder(accept)
        return encode(self.registry), media_type


def route_template(scope: Scope) -> str:
    """The path template of the route that answered (or would have), e.g. `/api/datasets/{id}`; "static" or "unmatched"."""
    route = scope.get("route")
    if route is None and "app" in scope:  # answered before routing (access checks, limits): match it now
        for candidate in scope["app"].router.routes:
            if candidate.matches(scope)[0] != Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    if path is None:
        return "unmatched"
    return path or "static"


class RequestMetrics:
    """ASGI middleware: counts and times every HTTP request, and logs the ones that fail (4xx, 5xx)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # unless a response starts: an exception escaping here becomes a 500 outside

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            if status >= 400:
                level = logging.WARNING if status >= 500 else logging.INFO
                log.log(level, "%s %s (%s) -> %d in %.1f ms", scope["method"], route, scope["path"][:200], status, seconds * 1000)


async def metrics(request: Request) -> Response:
    """Prometheus' text exposition format (or OpenMetrics, when the scraper's Accept asks for it)."""
    body, media_type = await run_in_threadpool(request.app.state.metrics.render, request.headers.get("accept", ""))
    return Response(body, headers={"Content-Type": media_type})
