"""Who may talk to the server: the Host check, the Origin check on writes, the token and the page's sign-in.

Order of the checks, each answering with the JSON error shape and doing nothing else:
1. Without a token, a `Host` that is not a loopback name, `--host` or an `--allow-host` is refused
   (DNS rebinding: a foreign page that re-points its name at us still sends its own name).
2. A write (POST/PUT/PATCH/DELETE) sent by a browser from another origin is refused, token or not
   (blind cross-site writes need no readable response; only `--cors-origin` origins are allowed).
3. With a token, `GET /?token=T` on a page signs the browser in (session cookie, then a redirect to
   the clean URL), and every /api route but /api/health needs the bearer header or that cookie.
"""

from __future__ import annotations

import re
import urllib.parse

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from projector.api.auth import Credentials, cookie_name
from projector.errors import Forbidden, ProjectorError, Unauthorized
from projector.settings import Settings

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
OPEN_PATHS = frozenset({"/api/health"})
DEFAULT_PORTS = {"http": "80", "https": "443"}
_ORIGIN = re.compile(r"^(https?)://([a-z0-9.\-]+|\[[0-9a-f:.]+\])(?::(\d{1,5}))?$")


def host_name(value: str) -> str:
    """How a `--host`/`--allow-host` value or a `Host` header's name is compared: lower case, IPv6 in brackets."""
    value = value.strip().lower()
    if ":" in value and not value.startswith("["):
        return f"[{value}]"
    return value


def split_host_header(value: str) -> str | None:
    """The name of a `Host` header (`name[:port]`), or None when it is malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        name += bracket
    else:
        name, _, port = value.partition(":")
        rest = f":{port}" if ":" in value else ""
    if not name or name.startswith("[") != name.endswith("]") or (rest and not re.fullmatch(r":\d{1,5}", rest)):
        return None
    return name


def normalize_origin(value: str) -> str | None:
    """`scheme://host[:port]` in lower case without a default port, or None when `value` is not an origin."""
    match = _ORIGIN.match(value.strip().lower().rstrip("/"))
    if match is None:
        return None
    scheme, host, port = match.groups()
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def trusted_hosts(settings: Settings) -> frozenset[str]:
    return LOOPBACK_NAMES | {host_name(settings.host)} | {host_name(h) for h in settings.allow_hosts}


def is_protected(path: str) -> bool:
    """The API and the Prometheus metrics need the token; the page's static files do not."""
    return (path == "/api" or path.startswith("/api/") or path == "/metrics") and path not in OPEN_PATHS


class AccessGuard:
    """ASGI middleware applying the three checks above to every HTTP request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.credentials = Credentials(settings.token) if settings.token else None
        self.hosts = trusted_hosts(settings)
        self.cors_origins = frozenset(o for o in map(normalize_origin, settings.cors_origins) if o)
        self.default_port = settings.port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # no route speaks it; one that does must pass these checks first
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            self._check_host(headers)
            self._check_origin(scope, headers)
            if self.credentials is not None:
                if self._is_sign_in(scope):
                    await self._sign_in(scope, send, self.credentials)
                    return
                self._check_token(scope, headers, self.credentials)
        except ProjectorError as error:
            await send_error(send, error, scope["method"] == "HEAD")
            return
        await self.app(scope, receive, send)

    # -- 1. Host ------------------------------------------------------------------------------

    def _check_host(self, headers: Headers) -> None:
        if self.credentials is not None:
            return  # a token guards everything a rebinding page could reach
        given = headers.getlist("host")
        raw = given[0] if len(given) == 1 else ", ".join(given)  # RFC 9112: exactly one Host
        name = split_host_header(raw) if len(given) == 1 else None
        if name is None or name not in self.hosts:
            shown = (name or raw)[:100]
            raise Forbidden(
                f"this server does not answer to the host name {shown!r} (DNS rebinding guard); open it as"
                f" http://127.0.0.1:PORT/, or start it with --allow-host {shown} or --token",
                code="untrusted_host",
            )

    # -- 2. Origin ----------------------------------------------------------------------------

    def _check_origin(self, scope: Scope, headers: Headers) -> None:
        if scope["method"] not in WRITE_METHODS:
            return
        origins = headers.getlist("origin")
        origin = origins[0] if len(origins) == 1 else (", ".join(origins) or None)  # two Origins: never ours
        fetch_site = headers.get("sec-fetch-site", "").lower()
        if origin is None and fetch_site not in ("cross-site", "same-site"):
            return  # not sent by a browser page (curl, the Python client) or same-origin
        normalized = normalize_origin(origin) if origin is not None else None
        if normalized is not None and normalized in self.cors_origins:
            return
        if origin is not None and fetch_site not in ("cross-site", "same-site") and self._is_own(scope, headers, origin):
            return
        raise Forbidden(
            f"a {scope['method']} from another site (Origin: {(origin or 'none')[:100]}) is refused; start the"
            " server with --cors-origin ORIGIN to let that page make changes",
            code="cross_origin",
        )

    @staticmethod
    def _is_own(scope: Scope, headers: Headers, origin: str) -> bool:
        """Whether `origin` names this server as the request reached it (its `Host`)."""
        normalized = normalize_origin(origin)
        if normalized is None:
            return False  # "null" (sandboxed frames, file: pages) and garbage
        origin_scheme, _, origin_host = normalized.partition("://")
        host = headers.get("host", "").strip().lower()
        for scheme in {origin_scheme, scope.get("scheme", "http")}:  # a TLS proxy in front changes the scheme
            port = DEFAULT_PORTS.get(scheme)
            if host == origin_host or (port and host == f"{origin_host}:{port}"):
                return True
        return False

    # -- 3. Token and sign-in -----------------------------------------------------------------

    @staticmethod
    def _is_sign_in(scope: Scope) -> bool:
        path = scope["path"]
        if scope["method"] not in ("GET", "HEAD") or path == "/api" or path.startswith("/api/"):
            return False
        query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        return "token" in query

    def _cookie(self, scope: Scope) -> str:
        server = scope.get("server")
        return cookie_name(int(server[1]) if server and server[1] else self.default_port)

    async def _sign_in(self, scope: Scope, send: Send, credentials: Credentials) -> None:
        """`/page?token=T&x=1` → cookie + redirect to `/page?x=1`, so the token leaves the address bar."""
        pairs = urllib.parse.parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        given = [value for key, value in pairs if key == "token"]
        if len(given) != 1 or not credentials.token_matches(given[0]):
            raise Unauthorized("the token in this sign-in URL is not this server's; use the URL `projector serve` printed")
        rest = urllib.parse.urlencode([(key, value) for key, value in pairs if key != "token"])
        location = "/" + urllib.parse.quote(scope["path"].lstrip("/")) + (f"?{rest}" if rest else "")
        cookie = credentials.set_cookie(self._cookie(scope), secure=scope.get("scheme") == "https")
        headers = [
            (b"location", location.encode("latin-1")),
            (b"set-cookie", cookie.encode("latin-1")),
            (b"cache-control", b"no-store"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def _check_token(self, scope: Scope, headers: Headers, credentials: Credentials) -> None:
        if not is_protected(scope["path"]) or _is_preflight(scope, headers):
            return
        if not credentials.authorized(headers, self._cookie(scope)):
            raise Unauthorized(
                "this server needs its token: send `Authorization: Bearer <token>`, or open the sign-in URL"
                " `projector serve` printed (http://HOST:PORT/?token=...) in this browser"
            )


def _is_preflight(scope: Scope, headers: Headers) -> bool:
    """A CORS preflight never carries credentials; --cors-origin's middleware answers it."""
    return scope["method"] == "OPTIONS" and "origin" in headers and "access-control-request-method" in headers


async def send_error(send: Send, error: ProjectorError, head: bool = False) -> None:
    """Answer with the JSON error shape from ASGI middleware (outside the route's exception handlers)."""
    body = orjson.dumps(error.body())
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if isinstance(error, Unauthorized):
        headers.append((b"www-authenticate", b"Bearer"))
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    start: Message = {"type": "http.response.start", "status": error.status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": b"" if head else body})
