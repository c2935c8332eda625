"""Bearer-token protection: state-changing requests need the token (reads too, if asked)."""

from __future__ import annotations

import hmac

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from projector.errors import Unauthorized

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class TokenAuth:
    def __init__(self, app: ASGIApp, token: str, protect_reads: bool = False) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()
        self.protect_reads = protect_reads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._needs_token(scope) and not self._authorized(scope):
            error = Unauthorized("this request needs the header `Authorization: Bearer <token>` given to --token")
            await send(
                {
                    "type": "http.response.start",
                    "status": error.status,
                    "headers": [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")],
                }
            )
            await send({"type": "http.response.body", "body": orjson.dumps(error.body())})
            return
        await self.app(scope, receive, send)

    def _needs_token(self, scope: Scope) -> bool:
        if scope["method"] in WRITE_METHODS:
            return True
        return self.protect_reads and scope["path"].startswith("/api/") and scope["path"] != "/api/health"

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization":
                return hmac.compare_digest(value, self.expected)
        return False
