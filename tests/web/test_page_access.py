"""The page under the access rules, in Chromium: cookie sign-in, the CSP, and hostile pages of another site.

Chromium here resolves `evil.example` to 127.0.0.1 (--host-resolver-rules): a page on that name is
what a DNS-rebinding attacker serves, and a page on another port of it is a cross-site attacker.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from projector.serve_process import ServeProcess
from tests.web.conftest import SERVER_START_TIMEOUT, TESTING_HOOK

pytestmark = pytest.mark.browser
TOKEN = "browser-token"


@pytest.fixture(scope="module")
def chromium(browser: Any) -> Any:
    """The session's Chromium, which resolves `evil.example` to this machine (conftest)."""
    return browser


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess("--no-warm-up", "--token", TOKEN, data_dir=tmp_path_factory.mktemp("signin"), timeout=SERVER_START_TIMEOUT)
    yield server
    server.stop(timeout=10)


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    server = ServeProcess("--no-warm-up", data_dir=tmp_path_factory.mktemp("open"), timeout=SERVER_START_TIMEOUT)
    yield server
    server.stop(timeout=10)


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """A static server on another port: the notebook's page (as localhost) or an attacker's (as evil.example)."""
    root = tmp_path_factory.mktemp("other-site")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, httpd.server_address[1]
    httpd.shutdown()


@pytest.fixture()
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1024, "height": 700})
    context.add_init_script(TESTING_HOOK)
    page = context.new_page()
    page.console_errors = []  # type: ignore[attr-defined]
    page.on("console", lambda m: m.type == "error" and page.console_errors.append(m.text))  # type: ignore[attr-defined]
    yield page
    context.close()


def count_datasets(server: ServeProcess, token: str | None = None) -> int:
    request = urllib.request.Request(f"{server.url}/api/datasets")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return len(json.loads(response.read()))


def test_the_page_signs_in_with_the_token_url_and_works_on_the_cookie(page: Any, protected: ServeProcess) -> None:
    page.goto(protected.sign_in_url)
    assert page.url == protected.url + "/"  # the token left the address bar
    # the page reads, runs a projection and follows it over the event stream, its Workers fetch: all on the cookie
    page.wait_for_function("() => window.__projector && __projector.ready && __projector.projectionStatus === 'done'", timeout=90_000)
    assert page.evaluate("document.cookie") == ""  # HttpOnly: no script can read the session
    assert page.evaluate("fetch('/api/datasets').then(r => r.status)") == 200
    assert page.console_errors == []  # type: ignore[attr-defined]
    # the CSP: no inline script runs, even one the page's own code would add
    injected = page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';
                                       document.head.append(s); return window.__inline === undefined; }""")
    assert injected


def test_without_signing_in_the_api_is_closed_to_the_page(page: Any, protected: ServeProcess) -> None:
    page.goto(protected.url + "/")
    assert page.evaluate("fetch('/api/datasets').then(r => r.status)") == 401
    assert page.evaluate("fetch('/api/health').then(r => r.status)") == 200


def test_dns_rebinding_page_gets_nothing(page: Any, open_server: ServeProcess) -> None:
    before = count_datasets(open_server)
    response = page.goto(f"http://evil.example:{open_server.port}/api/datasets")
    assert response.status == 403 and json.loads(page.inner_text("body"))["error"] == "untrusted_host"
    status = page.evaluate(
        """() => fetch('/api/datasets', {method: 'POST', headers: {'Content-Type': 'text/tab-separated-values'}, body: '1\\t2\\n3\\t4\\n'})
                  .then(r => r.status)"""
    )
    assert status == 403 and count_datasets(open_server) == before


def test_cross_site_pages_cannot_write_or_frame(page: Any, open_server: ServeProcess, other_site: tuple[Path, int]) -> None:
    root, port = other_site
    target = f"http://127.0.0.1:{open_server.port}"
    demo = next(d for d in json.loads(urllib.request.urlopen(f"{target}/api/datasets", timeout=30).read()) if d["source"] == "demo")
    (root / "attack.html").write_text(
        f"""<!doctype html><body>
        <form id="f" method="POST" action="{target}/api/datasets" enctype="multipart/form-data" target="sink">
          <input type="hidden" name="tensor" value="1\t2\n3\t4\n"></form>
        <iframe name="sink"></iframe>
        <script>
          window.results = [];
          const opts = (method, body, type) => ({{method, mode: 'no-cors', body, headers: type ? {{'Content-Type': type}} : {{}}}});
          Promise.all([
            fetch('{target}/api/datasets', opts('POST', '1\\t2\\n3\\t4\\n', 'text/plain')),
            fetch('{target}/api/datasets/{demo["id"]}', opts('DELETE')),
          ]).then(() => {{ window.done = true; }}, () => {{ window.done = true; }});
          document.getElementById('f').submit();
        </script></body>"""
    )
    before = count_datasets(open_server)
    page.goto(f"http://evil.example:{port}/attack.html")
    page.wait_for_function("() => window.done === true", timeout=30_000)
    page.wait_for_timeout(500)  # the form's navigation in the iframe
    assert count_datasets(open_server) == before  # nothing stored, the demo not deleted
    # framing: a foreign site may not embed the page; a notebook on a loopback origin may
    frame_html = f'<!doctype html><iframe id="p" src="{target}/" width="800" height="500"></iframe>'
    (root / "frame.html").write_text(frame_html)
    page.goto(f"http://evil.example:{port}/frame.html", wait_until="load")  # the frame's load (or refusal) included
    assert page.frames[1].url.startswith("chrome-error"), page.frames[1].url  # refused by frame-ancestors
    assert any("frame-ancestors" in message for message in page.console_errors)  # type: ignore[attr-defined]
    page.goto(f"http://localhost:{port}/frame.html")
    notebook_frame = page.frame_locator("#p")
    notebook_frame.locator("#scatter").wait_for(timeout=60_000)
    page.frames[1].wait_for_function("() => window.__projector && __projector.ready", timeout=90_000)
