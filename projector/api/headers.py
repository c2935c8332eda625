"""Security headers on every response: no MIME sniffing, no Referer (a sign-in URL holds the token), a CSP."""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from projector.settings import Settings

# The notebook helper embeds the page from Jupyter, which usually runs on a loopback origin.
# (CSP source expressions cannot name IPv6 literals, so [::1] is not listed.)
LOOPBACK_FRAME_ANCESTORS = ("http://localhost:*", "http://127.0.0.1:*", "https://localhost:*", "https://127.0.0.1:*")
_SOURCE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://[A-Za-z0-9.\-*]+(:(\d{1,5}|\*))?$")


def content_security_policy(settings: Settings) -> str:
    """The page: scripts, styles and workers from itself only; images from itself, data: and blob:
    (sprites, icons); fetches and event streams to itself; framed only by itself, loopback origins
    (Jupyter), `--cors-origin` and `--frame-ancestors` origins."""
    extra = [o.rstrip("/") for o in (*settings.cors_origins, *settings.frame_ancestors) if _SOURCE.match(o.rstrip("/"))]
    ancestors = " ".join(dict.fromkeys(("'self'", *LOOPBACK_FRAME_ANCESTORS, *extra)))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "worker-src 'self' blob:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {ancestors}",
        )
    )


def is_frame_source(value: str) -> bool:
    """Whether `value` can go into frame-ancestors as is (`scheme://host[:port]`, `*` wildcards allowed)."""
    return bool(_SOURCE.match(value.rstrip("/")))


class SecurityHeaders:
    """Adds the headers to every HTTP response, errors and static files included."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = {
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": content_security_policy(settings),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
