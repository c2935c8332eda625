"""The server's token and the browser session it signs in: `Authorization: Bearer` or a session cookie."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
import urllib.parse
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import cookie_parser

SESSION_SALT = b"projector session cookie v1"
_TOKEN = re.compile(r"[\x21-\x7e]+")  # visible ASCII: it must travel in a header and in a URL


def token_problem(token: str) -> str | None:
    """Why `token` cannot be this server's token (None when it can)."""
    if not _TOKEN.fullmatch(token):
        return "the token may hold visible ASCII characters only (no spaces or other characters)"
    return None


def token_file_warning(path: Path) -> str | None:
    """A warning when a --token-file can be read by other users of the machine (as ssh warns of keys)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return f"--token-file {path} can be read by other users (mode {stat.S_IMODE(mode):o}); `chmod 600` it"
    return None


def sign_in_query(token: str) -> str:
    """`?token=...` with the token percent-encoded (`+`, `&`, `#`, `%` survive the trip through the URL)."""
    return "?token=" + urllib.parse.quote(token, safe="")


def cookie_name(port: int) -> str:
    """Cookies ignore ports: naming ours by port keeps two servers on one host from signing each other out."""
    return f"projector-session-{port}"


class Credentials:
    """What proves a request comes from someone who holds the token."""

    def __init__(self, token: str) -> None:
        self._token = token.encode()
        # The cookie holds a MAC of the token, never the token itself.
        self.session = hmac.new(self._token, SESSION_SALT, hashlib.sha256).hexdigest()

    def token_matches(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self._token)

    def bearer_matches(self, authorization: str) -> bool:
        """`Bearer <token>`, the scheme in any case (RFC 9110 schemes are case-insensitive)."""
        scheme, _, value = authorization.strip().partition(" ")
        return scheme.lower() == "bearer" and self.token_matches(value.strip())

    def cookie_matches(self, cookie_header: str, name: str) -> bool:
        value = cookie_parser(cookie_header).get(name)
        return value is not None and hmac.compare_digest(value.encode(), self.session.encode())

    def authorized(self, headers: Headers, name: str) -> bool:
        authorization = headers.get("authorization")
        if authorization is not None and self.bearer_matches(authorization):
            return True
        return self.cookie_matches(headers.get("cookie", ""), name)

    def set_cookie(self, name: str, secure: bool) -> str:
        """The `Set-Cookie` value that signs a browser in for this session (not readable by scripts)."""
        return f"{name}={self.session}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")
