"""Who may talk to the server (README "Access"): Host check, Origin check on writes, token, cookie sign-in, headers."""

from __future__ import annotations

import asyncio
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from projector.api.access import AccessGuard
from projector.api.routes import ENDPOINTS
from projector.settings import Settings
from tests.conftest import npy_bytes

TSV = {"content": b"1\t2\n3\t4\n", "headers": {"Content-Type": "text/tab-separated-values"}}
TOKEN = "s3cret-token"


def concrete(path: str) -> str:
    return re.sub(r"{\w+}", "doesnotexist", path)


def assert_refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "detail"} and body["error"] == code and body["detail"]


def dataset_count(api: TestClient, **headers: str) -> int:
    return len(api.get("/api/datasets", headers=headers).json())


# -- Host (DNS rebinding) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["attacker.example", "attacker.example:6006", "localhost.attacker.example", "127.0.0.1.nip.io", "evil.localhost",
     "127.0.0.2", "0.0.0.0:6006", "localhost:abc", "[::1", "::1", "localhost:80:80", ""],
)  # fmt: skip
def test_foreign_host_names_are_refused_and_nothing_happens(api: TestClient, host: str) -> None:
    created = api.post("/api/datasets", **TSV).json()  # type: ignore[arg-type]
    headers = {"Host": host}
    assert_refused(api.get("/api/datasets", headers=headers), 403, "untrusted_host")
    assert_refused(api.get("/", headers=headers), 403, "untrusted_host")
    assert_refused(api.get("/api/health", headers=headers), 403, "untrusted_host")
    assert_refused(api.get(f"/api/datasets/{created['id']}/tensor", headers=headers), 403, "untrusted_host")
    assert_refused(api.post("/api/datasets", headers={**headers, **TSV["headers"]}, content=TSV["content"]), 403, "untrusted_host")  # type: ignore[dict-item]
    assert_refused(api.delete(f"/api/datasets/{created['id']}", headers=headers), 403, "untrusted_host")
    assert dataset_count(api) == 1 and api.get(f"/api/datasets/{created['id']}").status_code == 200


@pytest.mark.parametrize("host", ["localhost", "localhost:6006", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:65535", "[::1]", "[::1]:8080"])
def test_loopback_names_with_any_port_are_served(api: TestClient, host: str) -> None:
    assert api.get("/api/datasets", headers={"Host": host}).status_code == 200
    assert api.post("/api/datasets", headers={"Host": host, **TSV["headers"]}, content=TSV["content"]).status_code == 201  # type: ignore[dict-item]


def test_the_host_flag_and_allow_host_names_are_served(make_client: Callable[..., TestClient]) -> None:
    api = make_client(host="box.lan", allow_hosts=("Projector.Example", "10.0.0.7", "fd00::7"))
    for host in ("box.lan:6006", "projector.example", "PROJECTOR.EXAMPLE:443", "10.0.0.7:1", "[fd00::7]:6006", "localhost"):
        assert api.get("/api/datasets", headers={"Host": host}).status_code == 200, host
    for host in ("evil.box.lan", "example", "10.0.0.8", "[fd00::8]"):
        assert_refused(api.get("/api/datasets", headers={"Host": host}), 403, "untrusted_host")


def guarded(settings: Settings, method: str, headers: list[tuple[bytes, bytes]]) -> int:
    """The status AccessGuard answers with for a raw header list (repeated headers kept), 0 when it lets it through."""
    passed: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        passed.append(True)

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": method, "path": "/api/datasets", "query_string": b"", "headers": headers, "scheme": "http"}
    asyncio.run(AccessGuard(app, settings)(scope, None, send))  # type: ignore[arg-type]
    return 0 if passed else int(sent[0]["status"])


def test_a_repeated_host_or_origin_header_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    local, evil = (b"host", b"127.0.0.1:6006"), (b"host", b"evil.example")
    assert guarded(settings, "GET", [local]) == 0
    assert guarded(settings, "GET", [local, evil]) == 403 and guarded(settings, "GET", [evil, local]) == 403
    own, other = (b"origin", b"http://127.0.0.1:6006"), (b"origin", b"http://evil.example")
    assert guarded(settings, "POST", [local, own]) == 0
    assert guarded(settings, "POST", [local, own, other]) == 403 and guarded(settings, "POST", [local, own, own]) == 403


def test_websockets_are_refused(make_client: Callable[..., TestClient]) -> None:
    for api in (make_client(), make_client(token=TOKEN)):
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            api.websocket_connect("/api/datasets", headers={"Authorization": f"Bearer {TOKEN}"}),
        ):
            pass
        assert closed.value.code == 1008


def test_with_a_token_any_host_name_may_sign_in(make_client: Callable[..., TestClient]) -> None:
    api = make_client(token=TOKEN)
    headers = {"Host": "projector.team.example:6006", "Authorization": f"Bearer {TOKEN}"}
    assert api.get("/api/datasets", headers=headers).status_code == 200
    assert_refused(api.get("/api/datasets", headers={"Host": "projector.team.example"}), 401, "unauthorized")


# -- Origin on writes (blind cross-site requests) ----------------------------------------------------

CROSS_SITE = [
    {"Origin": "http://evil.example"},
    {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
    {"Origin": "null"},
    {"Origin": "http://127.0.0.1:9999"},  # another server on this machine is another origin
    {"Origin": "http://localhost"},  # same site, not the same origin as http://127.0.0.1
    {"Sec-Fetch-Site": "cross-site"},  # no Origin, but the browser says it is cross-site
    {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("origin", CROSS_SITE, ids=lambda h: ",".join(f"{k}={v}" for k, v in h.items()))
def test_cross_site_writes_are_refused_and_do_nothing(api: TestClient, vectors: Any, origin: dict[str, str]) -> None:
    created = api.post("/api/datasets", **TSV).json()  # type: ignore[arg-type]
    multipart = api.post("/api/datasets", headers=origin, files={"tensor": ("t.npy", npy_bytes(vectors))})
    assert_refused(multipart, 403, "cross_origin")
    text_plain = api.post("/api/datasets", headers={**origin, "Content-Type": "text/plain"}, content=b"1\t2\n3\t4\n")
    assert_refused(text_plain, 403, "cross_origin")
    no_type = api.post("/api/datasets", headers=origin, content=npy_bytes(vectors))
    assert_refused(no_type, 403, "cross_origin")
    form = api.post(
        f"/api/datasets/{created['id']}/projections", headers={**origin, "Content-Type": "text/plain"}, content=b'{"method":"pca"}'
    )
    assert_refused(form, 403, "cross_origin")
    assert_refused(api.delete(f"/api/datasets/{created['id']}", headers=origin), 403, "cross_origin")
    assert_refused(api.put("/api/datasets", headers=origin), 403, "cross_origin")
    assert_refused(api.patch(f"/api/datasets/{created['id']}", headers=origin), 403, "cross_origin")
    assert dataset_count(api) == 1 and api.get(f"/api/datasets/{created['id']}/projections").json() == []


def test_cross_site_writes_are_refused_with_a_token_or_cookie(make_client: Callable[..., TestClient]) -> None:
    api = make_client(token=TOKEN)
    assert api.get(f"/?token={TOKEN}").status_code == 200  # signed in: the cookie jar holds the session
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    created = api.post("/api/datasets", headers={**bearer, **TSV["headers"]}, content=TSV["content"]).json()  # type: ignore[dict-item]
    evil = {"Origin": "http://evil.example"}
    assert_refused(api.delete(f"/api/datasets/{created['id']}", headers={**evil, **bearer}), 403, "cross_origin")
    assert_refused(api.delete(f"/api/datasets/{created['id']}", headers=evil), 403, "cross_origin")  # cookie only
    assert api.get(f"/api/datasets/{created['id']}").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},  # curl, the Python client
        {"Origin": "http://127.0.0.1"},  # the page, as browsers send it
        {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"},
        {"Origin": "HTTP://127.0.0.1:80/"},
        {"Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
    ],
)
def test_same_origin_and_non_browser_writes_work(api: TestClient, headers: dict[str, str]) -> None:
    created = api.post("/api/datasets", headers={**headers, **TSV["headers"]}, content=TSV["content"])  # type: ignore[dict-item]
    assert created.status_code == 201, created.text
    assert api.post(f"/api/datasets/{created.json()['id']}/projections", headers=headers, json={"method": "pca"}).status_code in (200, 202)
    assert api.delete(f"/api/datasets/{created.json()['id']}", headers=headers).status_code == 204


def test_page_served_on_another_host_name_writes_as_its_own_origin(make_client: Callable[..., TestClient]) -> None:
    api = make_client(allow_hosts=("box.lan",))
    page = {"Host": "box.lan:6006", "Origin": "http://box.lan:6006", "Sec-Fetch-Site": "same-origin"}
    assert api.post("/api/datasets", headers={**page, **TSV["headers"]}, content=TSV["content"]).status_code == 201  # type: ignore[dict-item]


def test_cors_origins_may_write(make_client: Callable[..., TestClient]) -> None:
    api = make_client(cors_origins=("http://localhost:8888",))
    notebook = {"Origin": "http://localhost:8888", "Sec-Fetch-Site": "same-site"}
    created = api.post("/api/datasets", headers={**notebook, **TSV["headers"]}, content=TSV["content"])  # type: ignore[dict-item]
    assert created.status_code == 201 and created.headers["access-control-allow-origin"] == "http://localhost:8888"
    assert_refused(api.delete(f"/api/datasets/{created.json()['id']}", headers={"Origin": "http://localhost:8889"}), 403, "cross_origin")
    preflight = api.options("/api/datasets", headers={"Origin": "http://localhost:8888", "Access-Control-Request-Method": "DELETE"})
    assert preflight.status_code == 200


def test_reads_from_other_origins_are_not_blocked_by_the_origin_check(api: TestClient) -> None:
    response = api.get("/api/datasets", headers={"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200 and "access-control-allow-origin" not in response.headers


# -- Token ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.path != "/api/health"], ids=lambda e: f"{e.method} {e.path}")
def test_a_token_protects_every_api_route_but_health(make_client: Callable[..., TestClient], endpoint: Any) -> None:
    api = make_client(token=TOKEN)
    response = api.request(endpoint.method, concrete(endpoint.path), json={"method": "pca"} if endpoint.method == "POST" else None)
    assert_refused(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    allowed = api.request(endpoint.method, concrete(endpoint.path), headers={"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code != 401


def test_token_schemes_and_open_routes(make_client: Callable[..., TestClient]) -> None:
    api = make_client(token=TOKEN, protect_reads=False)  # --protect-reads is a no-op now: reads are protected anyway
    for scheme in ("Bearer", "bearer", "BEARER", "bEaReR"):
        assert api.get("/api/datasets", headers={"Authorization": f"{scheme} {TOKEN}"}).status_code == 200, scheme
    for value in (f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", TOKEN, f"Basic {TOKEN}", "Bearer", "", f"Token {TOKEN}"):
        assert_refused(api.get("/api/datasets", headers={"Authorization": value}), 401, "unauthorized")
    assert_refused(api.get("/api/datasets", headers={"Cookie": f"projector-session-80={TOKEN}"}), 401, "unauthorized")
    assert_refused(api.get("/api/nothing-here"), 401, "unauthorized")  # unknown routes do not reveal themselves
    assert api.get("/api/health").status_code == 200
    assert api.get("/").status_code == 200 and api.get("/main.js").status_code == 200  # the page itself is open
    created = api.post("/api/datasets", headers={"Authorization": f"bearer {TOKEN}", **TSV["headers"]}, content=TSV["content"])  # type: ignore[dict-item]
    assert created.status_code == 201
    assert_refused(api.delete(f"/api/datasets/{created.json()['id']}"), 401, "unauthorized")
    assert dataset_count(api, Authorization=f"Bearer {TOKEN}") == 1


# -- Sign-in with a cookie, as the page does ----------------------------------------------------


def test_sign_in_sets_a_strict_http_only_cookie_and_redirects_to_the_clean_url(make_client: Callable[..., TestClient]) -> None:
    api = make_client(token=TOKEN)
    assert_refused(api.get("/api/datasets"), 401, "unauthorized")
    response = api.get(f"/?dataset=abc&token={TOKEN}&projection=p%201", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/?dataset=abc&projection=p+1"
    cookie = response.headers["set-cookie"]
    name, value = cookie.split(";")[0].split("=", 1)
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert name == "projector-session-80" and {"httponly", "samesite=strict", "path=/"} <= attributes
    assert TOKEN not in cookie and len(value) >= 32
    assert response.headers["cache-control"] == "no-store" and response.headers["referrer-policy"] == "no-referrer"
    # the browser now reads and writes with the cookie alone (same origin)
    assert api.get("/api/datasets").status_code == 200
    page = {"Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin", **TSV["headers"]}
    created = api.post("/api/datasets", headers=page, content=TSV["content"])  # type: ignore[dict-item]
    assert created.status_code == 201
    projection = api.post(f"/api/datasets/{created.json()['id']}/projections", headers=page, json={"method": "pca"}).json()
    with api.stream("GET", f"/api/projections/{projection['id']}/events", headers={"Accept": "text/event-stream"}) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith("text/event-stream")  # as EventSource asks
    # a server on another port (another cookie name) does not accept this one
    other = make_client(token=TOKEN)
    assert_refused(other.get("/api/datasets", headers={"Cookie": f"projector-session-6006={value}"}), 401, "unauthorized")


def test_sign_in_redirect_keeps_the_path_and_refuses_a_wrong_token(make_client: Callable[..., TestClient]) -> None:
    api = make_client(token=TOKEN)
    deep = api.get(f"/index.html?token={TOKEN}", follow_redirects=False)
    assert deep.status_code == 302 and deep.headers["location"] == "/index.html"
    fresh = make_client(token=TOKEN)
    wrong = fresh.get("/?token=nope", follow_redirects=False)
    assert_refused(wrong, 401, "unauthorized")
    assert "set-cookie" not in wrong.headers
    assert_refused(fresh.get("/api/datasets"), 401, "unauthorized")
    # the token in a query string never authenticates an API request
    assert_refused(fresh.get(f"/api/datasets?token={TOKEN}"), 401, "unauthorized")


def test_sign_in_never_redirects_off_site(tmp_path: Path) -> None:
    guard = AccessGuard(lambda scope, receive, send: None, Settings(data_dir=tmp_path, token=TOKEN))  # type: ignore[arg-type,return-value]
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "//evil.example/x", "query_string": f"token={TOKEN}".encode(), "headers": []}
    asyncio.run(guard(scope, None, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 302 and dict(sent[0]["headers"])[b"location"] == b"/evil.example/x"


def test_without_a_token_a_token_query_is_ignored(api: TestClient) -> None:
    response = api.get("/?token=anything", follow_redirects=False)
    assert response.status_code == 200 and "set-cookie" not in response.headers


# -- Headers on every response -------------------------------------------------------------------


def assert_security_headers(response: Any) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.request.url
    assert headers["referrer-policy"] == "no-referrer"
    csp = dict(part.strip().split(" ", 1) for part in headers["content-security-policy"].split(";"))
    assert csp["default-src"] == "'self'" and csp["script-src"] == "'self'" and csp["object-src"] == "'none'"
    assert "data:" in csp["img-src"] and "blob:" in csp["worker-src"]
    assert csp["frame-ancestors"].startswith("'self' ") and "http://localhost:*" in csp["frame-ancestors"]


def test_security_headers_on_every_route_and_error(make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch) -> None:
    api = make_client()
    created = api.post("/api/datasets", **TSV).json()  # type: ignore[arg-type]
    for endpoint in ENDPOINTS:
        path = endpoint.path.replace("{id}", created["id"]).replace("{pid}", "doesnotexist")
        assert_security_headers(api.request(endpoint.method, path, headers={"Origin": "http://127.0.0.1"}))
    for response in (
        api.get("/"), api.get("/main.js"), api.get("/style.css"), api.get("/nope.png"), api.put("/api/datasets"),
        api.get("/api/datasets", headers={"Host": "evil.example"}),
        api.delete(f"/api/datasets/{created['id']}", headers={"Origin": "http://evil.example"}),
        api.post("/api/datasets", headers={"Content-Length": str(1 << 40), "Content-Type": "application/x-npy"}),
    ):  # fmt: skip
        assert_security_headers(response)
    monkeypatch.setattr(api.app.state.store, "list_datasets", lambda: 1 / 0)  # type: ignore[attr-defined]
    broken = api.get("/api/datasets")
    assert broken.status_code == 500 and "ZeroDivision" not in broken.text and "division" not in broken.text
    assert_security_headers(broken)
    protected = make_client(token=TOKEN)
    assert_security_headers(protected.get("/api/datasets"))
    assert_security_headers(protected.get(f"/?token={TOKEN}", follow_redirects=False))


def test_frame_ancestors_name_cors_and_configured_origins(make_client: Callable[..., TestClient]) -> None:
    api = make_client(cors_origins=("https://hub.example",), frame_ancestors=("https://lab.example:8443",))
    csp = api.get("/").headers["content-security-policy"]
    ancestors = next(p for p in csp.split(";") if p.strip().startswith("frame-ancestors")).split()[1:]
    assert ancestors[0] == "'self'" and {"https://hub.example", "https://lab.example:8443", "http://127.0.0.1:*"} <= set(ancestors)


# -- The data dir and the OpenAPI document -------------------------------------------------------


def test_the_data_dir_is_created_private(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    make_client(data_dir=tmp_path / "fresh" / "data")
    assert stat.S_IMODE((tmp_path / "fresh" / "data").stat().st_mode) == 0o700


def test_openapi_documents_the_access_rules(api: TestClient) -> None:
    document = api.get("/api/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert schemes["cookie"]["type"] == "apiKey" and schemes["cookie"]["in"] == "cookie"
    assert "Host" in document["info"]["description"] and "Origin" in document["info"]["description"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path == "/api/health":
                assert operation["security"] == []
                continue
            assert {"bearer": []} in operation["security"] and {"cookie": []} in operation["security"]
            assert "401" in operation["responses"] and "403" in operation["responses"]
            if method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
                assert "cross_origin" in operation["responses"]["403"]["description"]
