"""Clusters of a finished projection: started as a job, answered at once when cached."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from projector.api.request import JSONResponse, jobs, json_body
from projector.jobs.clusters import clusters_job, clusters_view, request_clusters


async def create(request: Request) -> Response:
    """`{"min_cluster_size"?, "label_column"?}` → 200 with the result when ready, else 202 `{"id", "status", ...}`."""
    body = await json_body(request)
    job = await run_in_threadpool(request_clusters, jobs(request), request.path_params["pid"], body)
    return JSONResponse(clusters_view(job), status_code=200 if job["status"] == "done" else 202)


async def get(request: Request) -> Response:
    job = clusters_job(jobs(request), request.path_params["pid"], request.path_params["id"])
    return JSONResponse(clusters_view(job))
