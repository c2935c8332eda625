"""`projector serve` in a child process: started on a free port, its URL read from its first line.

Used by the notebook helper, the tests and the benchmarks. The child's output is drained for its
whole life (so it never blocks on a full pipe) and its last lines are kept for error messages.
"""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path

URL_LINE = re.compile(r"projector serving at (http://[^/\s]+)/?(?:\?token=(\S+))?$")


class ServeProcess:
    """A running `projector serve --port 0 [ARGS]`; `url` has no trailing slash.

    `token` is the token the server printed in its sign-in URL (None when it needs none).
    """

    def __init__(self, *args: str, data_dir: str | Path | None = None, timeout: float = 120.0, own_session: bool = True) -> None:
        command = [sys.executable, "-m", "projector", "serve", "--port", "0", *args]
        if data_dir is not None:
            command += ["--data-dir", str(data_dir)]
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.own_session = own_session
        self.lines: collections.deque[str] = collections.deque(maxlen=200)
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, start_new_session=own_session,
        )  # fmt: skip
        found: list[tuple[str, str | None]] = []
        ready = threading.Event()

        def drain() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                self.lines.append(line)
                match = URL_LINE.search(line.strip())
                if match and not found:
                    found.append((match.group(1), match.group(2)))
                    ready.set()
            ready.set()

        threading.Thread(target=drain, name="projector-serve-output", daemon=True).start()
        if not ready.wait(timeout) or not found:
            self.kill()
            raise RuntimeError("projector serve did not start:\n" + self.output())
        self.url, quoted = found[0]
        self.token = urllib.parse.unquote(quoted) if quoted else None
        self.host, port = self.url.split("//", 1)[1].rsplit(":", 1)
        self.port = int(port)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def sign_in_url(self) -> str:
        """The page's URL that signs a browser in (the plain page URL when no token is needed)."""
        return f"{self.url}/?token={urllib.parse.quote(self.token, safe='')}" if self.token else f"{self.url}/"

    def output(self) -> str:
        return "".join(self.lines)

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the server and, in its own session, everything it started (workers, forkserver)."""
        if self.alive():
            if self.own_session:
                os.killpg(self.process.pid, signal.SIGKILL)
            else:
                self.process.kill()
        self.process.wait(10)

    def stop(self, timeout: float = 15.0) -> None:
        """Ask the server to shut down cleanly; kill it if it does not in time."""
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
