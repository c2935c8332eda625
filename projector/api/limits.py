"""How many uploads and event streams the server holds at once; one more gets 429 JSON with Retry-After."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from projector.api.access import send_error
from projector.errors import TooManyRequests
from projector.settings import Settings

RETRY_AFTER_SECONDS = 5


@dataclass
class Gate:
    """At most `capacity` requests matching `method` and `path` in flight (their whole response included)."""

    what: str
    code: str
    method: str
    path: re.Pattern[str]
    capacity: int
    active: int = 0


def gates(settings: Settings) -> list[Gate]:
    return [
        Gate("uploads", "too_many_uploads", "POST", re.compile(r"^/api/datasets/?$"), settings.max_uploads),
        Gate("event streams", "too_many_streams", "GET", re.compile(r"^/api/.+/events/?$"), settings.max_streams),
    ]


class ConcurrencyLimits:
    """ASGI middleware: counts each gate's requests in flight (one event loop, so plain counters)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.gates = gates(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gate = self._gate(scope) if scope["type"] == "http" else None
        if gate is None:
            await self.app(scope, receive, send)
            return
        if gate.active >= gate.capacity:
            error = TooManyRequests(
                f"the server is already handling {gate.capacity} {gate.what}; try again shortly",
                code=gate.code, retry_after=RETRY_AFTER_SECONDS,
            )  # fmt: skip
            await send_error(send, error)
            return
        gate.active += 1
        try:
            await self.app(scope, receive, send)
        finally:
            gate.active -= 1

    def _gate(self, scope: Scope) -> Gate | None:
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        for gate in self.gates:
            if method == gate.method and gate.path.match(scope["path"]):
                return gate
        return None
