"""Show the projector inside a Jupyter notebook.

    >>> from projector.notebook import show
    >>> show()                                   # starts a server on the default data dir
    >>> show(dataset=ds_id, projection=pid)      # opens that view directly
    >>> show(url="http://127.0.0.1:6006/")       # a server that is already running
    >>> show(url="http://127.0.0.1:6006/", token="...")   # ... that needs a token

The IFrame opens the page's sign-in URL (`/?token=...`) when the server needs a token: the
server sets its session cookie and redirects to the view. Browsers send that cookie only when the
notebook and the server share a host name (e.g. both `localhost`, any ports); the page allows
framing by loopback origins, and by others given to `projector serve --frame-ancestors`.

IPython is optional: it is imported only when `show` is called.
"""

from __future__ import annotations

import atexit
import os
import threading
import urllib.parse
from typing import Any

from projector.serve_process import ServeProcess

_server: ServeProcess | None = None
_lock = threading.Lock()


def _start_server(data_dir: str | None = None) -> tuple[str, str | None]:
    """Start `projector serve --port 0` in a subprocess (once); returns its URL and token."""
    global _server
    with _lock:
        if _server is None or not _server.alive():
            _server = ServeProcess(data_dir=data_dir, own_session=False)
            atexit.register(stop)
        return _server.url + "/", _server.token


def stop() -> None:
    """Stop the server that `show` started, if any."""
    global _server
    with _lock:
        if _server is not None:
            _server.stop(timeout=10)
        _server = None


def view_url(url: str, dataset: str | None = None, projection: str | None = None, token: str | None = None) -> str:
    """The page URL that opens `dataset` (and `projection`) directly, signing in with `token` if given."""
    query = {k: v for k, v in (("dataset", dataset), ("projection", projection), ("token", token)) if v}
    base = url if url.endswith("/") else url + "/"
    return base + ("?" + urllib.parse.urlencode(query) if query else "")


def show(
    dataset: str | None = None, projection: str | None = None, url: str | None = None, height: int = 600, token: str | None = None
) -> Any:
    """Embed the projector in the notebook as an IFrame.

    Parameters:
        dataset: dataset id to open (default: the first one).
        projection: projection id of that dataset to open.
        url: a running server (``http://host:port/``); when None, a server is started in a
            subprocess on the default data dir and reused by later calls.
        height: IFrame height in pixels.
        token: the server's token, if it needs one (default: the started server's, else $PROJECTOR_TOKEN).
    """
    try:
        from IPython.display import IFrame
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("projector.notebook.show needs IPython (pip install ipython)") from err
    if projection and not dataset:
        raise ValueError("`projection` needs its `dataset` as well")
    if url is None:
        url, started_token = _start_server()
        token = token or started_token
    token = token or os.environ.get("PROJECTOR_TOKEN") or None
    return IFrame(view_url(url, dataset, projection, token), width="100%", height=height)
