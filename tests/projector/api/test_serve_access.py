"""`projector serve` access end to end: open bind, the printed sign-in URL, token sources, cookie sign-in over HTTP."""

from __future__ import annotations

import http.client
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from projector import Client, notebook
from projector.api.auth import token_file_warning
from projector.cli import main
from projector.errors import ProjectorError
from projector.serve_process import ServeProcess
from tests.conftest import npy_bytes


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    started: list[ServeProcess] = []

    def start(*args: str) -> ServeProcess:
        server = ServeProcess("--no-warm-up", "--no-demo", *args, data_dir=tmp_path / f"data{len(started)}")
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def request(
    server: ServeProcess, method: str, path: str, headers: dict[str, str] | None = None, body: bytes | None = None, host: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection(host or "127.0.0.1", server.port, timeout=60)
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    answer = (response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    connection.close()
    return answer


def outward_address() -> str | None:
    """This machine's address on its first non-loopback interface, if it has one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


@pytest.mark.slow
def test_open_bind_makes_up_a_token_prints_it_and_requires_it(serve: Any) -> None:
    server = serve("--host", "0.0.0.0")
    line = next(line for line in server.output().splitlines() if "serving at" in line)
    assert re.fullmatch(rf"projector serving at http://0\.0\.0\.0:{server.port}/\?token=[0-9a-f]{{48}}", line), line
    assert server.token and "a token was made up" in server.output()
    address = outward_address() or "127.0.0.1"
    assert request(server, "GET", "/api/health", host=address)[0] == 200
    status, headers, body = request(server, "GET", "/api/datasets", host=address)
    assert status == 401 and json.loads(body)["error"] == "unauthorized" and headers["www-authenticate"] == "Bearer"
    # reached through the network by any name: with the token, it answers
    bearer = {"Authorization": f"Bearer {server.token}", "Host": f"projector.team.example:{server.port}"}
    assert request(server, "GET", "/api/datasets", bearer, host=address)[0] == 200
    with pytest.raises(ProjectorError) as refused:
        Client(f"http://{address}:{server.port}", token="wrong").datasets()
    assert refused.value.status == 401
    client = Client(f"http://{address}:{server.port}", token=server.token)
    dataset = client.upload(np.eye(3, dtype=np.float32), metadata=["a", "b", "c"])
    assert client.search(dataset, "b")["count"] == 1 and client.project(dataset, "pca").shape == (3, 2)


@pytest.mark.slow
def test_the_page_signs_in_with_a_cookie_and_follows_a_job(serve: Any) -> None:
    server = serve("--token", "team-token")
    assert server.token == "team-token" and server.sign_in_url.endswith("/?token=team-token")
    status, headers, _ = request(server, "GET", "/?token=team-token&dataset=x")
    assert status == 302 and headers["location"] == "/?dataset=x"
    cookie = headers["set-cookie"].split(";")[0]
    assert "team-token" not in headers["set-cookie"] and "HttpOnly" in headers["set-cookie"] and "SameSite=Strict" in headers["set-cookie"]
    page = {"Cookie": cookie, "Origin": f"http://127.0.0.1:{server.port}", "Sec-Fetch-Site": "same-origin"}
    npy = npy_bytes(np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32))
    status, _, body = request(server, "POST", "/api/datasets", {**page, "Content-Type": "application/x-npy"}, npy)
    assert status == 201, body
    dataset = json.loads(body)["id"]
    status, _, body = request(
        server, "POST", f"/api/datasets/{dataset}/projections", {**page, "Content-Type": "application/json"}, b'{"method":"pca"}'
    )
    assert status in (200, 202), body
    status, headers, body = request(
        server, "GET", f"/api/projections/{json.loads(body)['id']}/events", {"Cookie": cookie, "Accept": "text/event-stream"}
    )
    assert status == 200 and headers["content-type"].startswith("text/event-stream") and b'"status":"done"' in body
    # the cookie never passes the Origin check, and is nothing without its server
    evil = {"Cookie": cookie, "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert request(server, "DELETE", f"/api/datasets/{dataset}", evil)[0] == 403
    assert request(server, "GET", "/api/datasets", {"Cookie": cookie.replace(str(server.port), "1")})[0] == 401


@pytest.mark.slow
def test_dns_rebinding_is_refused_on_a_loopback_server(serve: Any) -> None:
    server = serve()
    assert server.token is None and "?token=" not in server.output()
    rebound = {"Host": f"attacker.example:{server.port}"}
    for method, path in (("GET", "/api/datasets"), ("GET", "/"), ("POST", "/api/datasets"), ("DELETE", "/api/datasets/abc")):
        status, headers, body = request(server, method, path, rebound)
        assert status == 403 and json.loads(body)["error"] == "untrusted_host" and headers["x-content-type-options"] == "nosniff"
    assert request(server, "GET", "/api/datasets", {"Host": f"localhost:{server.port}"})[0] == 200


@pytest.mark.slow
def test_token_from_the_environment_or_a_file(serve: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROJECTOR_TOKEN", "from-env")
    from_env = serve("--protect-reads")
    assert from_env.token == "from-env" and "--protect-reads is deprecated" in from_env.output()
    assert Client(from_env.url).datasets() == []  # the client reads $PROJECTOR_TOKEN too
    monkeypatch.delenv("PROJECTOR_TOKEN")
    token = "from+file&x=%2F#"  # characters a URL changes unless the printed sign-in URL encodes them
    (tmp_path / "token").write_text(token + "\n")
    (tmp_path / "token").chmod(0o644)
    from_file = serve("--token-file", str(tmp_path / "token"))
    assert from_file.token == token and "can be read by other users (mode 644)" in from_file.output()
    assert request(from_file, "GET", "/api/datasets", {"Authorization": f"BEARER {token}"})[0] == 200
    assert request(from_file, "GET", "/api/datasets", {"Authorization": "Bearer from-env"})[0] == 401
    status, headers, _ = request(from_file, "GET", from_file.sign_in_url.split(str(from_file.port), 1)[1])
    assert status == 302 and headers["location"] == "/" and "set-cookie" in headers


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token", "a", "--token-file", "f"], "not both"),
        (["--token-file", "/nonexistent/token"], "cannot read --token-file"),
        (["--token", ""], "must not be empty"),
        (["--token", "two words"], "visible ASCII characters only"),
        (["--token", "caf\u00e9"], "visible ASCII characters only"),
        (["--cors-origin", "http://x.example/path"], "--cors-origin takes an origin"),
        (["--frame-ancestors", "http://x.example; script-src *"], "--frame-ancestors takes an origin"),
        (["--max-queued-jobs", "0"], "--max-queued-jobs must be at least 1"),
        (["--upload-deadline", "0"], "--upload-deadline must be a positive"),
    ],
)
def test_bad_access_flags_are_one_line_errors(args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_a_private_token_file_gets_no_warning(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t\n")
    (tmp_path / "token").chmod(0o600)
    assert token_file_warning(tmp_path / "token") is None
    (tmp_path / "token").chmod(0o640)
    assert "mode 640" in (token_file_warning(tmp_path / "token") or "")


def test_empty_token_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").write_text("\n")
    assert main(["serve", "--port", "0", "--data-dir", str(tmp_path), "--token-file", str(tmp_path / "empty")]) == 2
    assert "is empty" in capsys.readouterr().err


def test_notebook_passes_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    assert notebook.view_url("http://h:1/", "d", None, "t k") == "http://h:1/?dataset=d&token=t+k"
    pytest.importorskip("IPython")
    frame = notebook.show(dataset="abc", url="http://127.0.0.1:9/", token="s3cret")
    assert frame.src == "http://127.0.0.1:9/?dataset=abc&token=s3cret"
    monkeypatch.setenv("PROJECTOR_TOKEN", "env-token")
    assert notebook.show(url="http://127.0.0.1:9/").src == "http://127.0.0.1:9/?token=env-token"
