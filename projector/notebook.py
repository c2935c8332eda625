"""Show the projector inside a Jupyter notebook.

    >>> from projector.notebook import show
    >>> show()                                   # starts a server on the default data dir
    >>> show(dataset=ds_id, projection=pid)      # opens that view directly
    >>> show(url="http://127.0.0.1:6006/")       # a server that is already running

IPython is optional: it is imported only when `show` is called.
"""

from __future__ import annotations

import atexit
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from typing import Any

_START_TIMEOUT = 120.0
_server: subprocess.Popen[str] | None = None
_server_url: str | None = None
_lock = threading.Lock()


def _start_server(data_dir: str | None = None) -> str:
    """Start `projector serve --port 0` in a subprocess (once) and return its URL."""
    global _server, _server_url
    with _lock:
        if _server is not None and _server.poll() is None and _server_url:
            return _server_url
        cmd = [sys.executable, "-m", "projector", "serve", "--port", "0"]
        if data_dir:
            cmd += ["--data-dir", data_dir]
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        found: list[str] = []
        lines: list[str] = []
        ready = threading.Event()

        def read() -> None:
            # Keep draining the pipe for the server's whole life so it never blocks on a full pipe.
            assert proc.stdout is not None
            for line in proc.stdout:
                if len(lines) < 200:
                    lines.append(line)
                match = re.search(r"projector serving at (http://\S+)", line)
                if match and not found:
                    found.append(match.group(1))
                    ready.set()
            ready.set()

        threading.Thread(target=read, name="projector-server-output", daemon=True).start()
        if not ready.wait(_START_TIMEOUT) or not found:
            proc.kill()
            raise RuntimeError("projector serve did not start:\n" + "".join(lines[-20:]))
        _server, _server_url = proc, found[0].rstrip("/") + "/"
        atexit.register(stop)
        return _server_url


def stop() -> None:
    """Stop the server that `show` started, if any."""
    global _server, _server_url
    with _lock:
        if _server is not None and _server.poll() is None:
            _server.terminate()
            try:
                _server.wait(10)
            except subprocess.TimeoutExpired:
                _server.kill()
        _server, _server_url = None, None


def view_url(url: str, dataset: str | None = None, projection: str | None = None) -> str:
    """The page URL that opens `dataset` (and `projection`) directly."""
    query = {k: v for k, v in (("dataset", dataset), ("projection", projection)) if v}
    base = url if url.endswith("/") else url + "/"
    return base + ("?" + urllib.parse.urlencode(query) if query else "")


def show(dataset: str | None = None, projection: str | None = None, url: str | None = None, height: int = 600) -> Any:
    """Embed the projector in the notebook as an IFrame.

    Parameters:
        dataset: dataset id to open (default: the first one).
        projection: projection id of that dataset to open.
        url: a running server (``http://host:port/``); when None, a server is started in a
            subprocess on the default data dir and reused by later calls.
        height: IFrame height in pixels.
    """
    try:
        from IPython.display import IFrame
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("projector.notebook.show needs IPython (pip install ipython)") from err
    if projection and not dataset:
        raise ValueError("`projection` needs its `dataset` as well")
    base = url or _start_server()
    return IFrame(view_url(base, dataset, projection), width="100%", height=height)
