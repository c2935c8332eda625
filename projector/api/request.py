"""Small request helpers shared by the handlers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from projector.data.store import Store
from projector.errors import InvalidInput, InvalidParameter, PayloadTooLarge, TooManyRequests
from projector.jobs.lifecycle import Jobs
from projector.settings import Settings


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def jobs(request: Request) -> Jobs:
    return request.app.state.jobs  # type: ignore[no-any-return]


def settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def int_query(request: Request, name: str, default: int | None = None, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer query parameter, checked against [minimum, maximum] when given."""
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise InvalidParameter(f"query parameter `{name}` is required")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidParameter(f"query parameter `{name}` must be an integer, got {raw!r}") from None
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        if minimum is not None and maximum is not None:
            rule = f"between {minimum} and {maximum}"
        else:
            rule = f"at least {minimum}" if minimum is not None else f"at most {maximum}"
        raise InvalidParameter(f"query parameter `{name}` must be {rule}, got {raw}")
    return value


def bool_query(request: Request, name: str, default: bool = False) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise InvalidParameter(f"query parameter `{name}` must be true or false, got {raw!r}")


MAX_JSON_BYTES = 1024 * 1024
# Whatever a route allows (row lists, query vectors scale with the dataset), a body held in memory stays
# this small: 1,000 JSON query vectors of a 100,000-dimensional dataset were allowed 3.2 GB (1.5 GB took 3 GB).
MAX_BODY_IN_MEMORY = 64 * 1024 * 1024
# All bodies being read into memory at once (uploads stream to disk and have their own gate).
MAX_BODIES_IN_MEMORY = 256 * 1024 * 1024
_held = [0]  # bytes of bodies held now; one event loop per process, so a plain counter


async def body_chunks(request: Request, idle_timeout: float) -> AsyncIterator[bytes]:
    """The request body's chunks; dropped after `idle_timeout` s without data or past the upload deadline."""
    deadline_seconds = settings(request).upload_deadline
    deadline = time.monotonic() + deadline_seconds
    chunks = request.stream().__aiter__()
    while True:
        left = max(deadline - time.monotonic(), 0.0)
        try:
            chunk = await asyncio.wait_for(chunks.__anext__(), min(idle_timeout, left))
        except StopAsyncIteration:
            return
        except asyncio.TimeoutError:
            if left < idle_timeout:
                detail = f"the upload took longer than {deadline_seconds:g} s (--upload-deadline)"
            else:
                detail = f"the upload stalled: no data for {idle_timeout:g} s"
            raise InvalidInput(detail, code="upload_timeout", status=408) from None
        yield chunk


async def bounded_body(request: Request, limit: int, what: str = "the body") -> bytes:
    """The whole request body, refused (413) past `limit` bytes (and MAX_BODY_IN_MEMORY) by its Content-Length or as it streams in."""
    limit = min(limit, MAX_BODY_IN_MEMORY)
    too_large = PayloadTooLarge(f"{what} is larger than {limit // 1024:,} KiB")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    try:
        async for chunk in body_chunks(request, settings(request).body_timeout):
            body += chunk
            _held[0] += len(chunk)
            if len(body) > limit:
                raise too_large
            if _held[0] > MAX_BODIES_IN_MEMORY:
                raise TooManyRequests(
                    f"the server is already reading {MAX_BODIES_IN_MEMORY // (1024 * 1024)} MiB of request bodies; try again shortly",
                    code="too_many_bodies",
                )
        return bytes(body)
    finally:
        _held[0] -= len(body)


async def json_body(request: Request, limit: int = MAX_JSON_BYTES) -> Any:
    """The request's JSON body (`{}` when empty), refused past `limit` bytes (1 MiB unless a route needs more)."""
    body = await bounded_body(request, limit, "the JSON body")
    try:
        return orjson.loads(body or b"{}")
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}", code="invalid_json") from None


def array_response(data: bytes, shape: tuple[int, ...], iteration: int | None = None) -> Response:
    headers = {"X-Shape": ",".join(str(s) for s in shape), "Cache-Control": "no-store"}
    if iteration is not None:
        headers["X-Iteration"] = str(iteration)
    return Response(data, media_type="application/octet-stream", headers=headers)
