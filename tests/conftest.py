"""Shared fixtures: an in-process app per test, and a real server process when a test needs one."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pytest
from starlette.testclient import TestClient

from projector.app import create_app
from projector.settings import Settings

URL_LINE = re.compile(r"projector serving at (http://\S+?)/?$")


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build a TestClient over a fresh app; several may share a data dir to test restarts."""
    opened: list[TestClient] = []

    def make(data_dir: Path | None = None, **overrides: Any) -> TestClient:
        settings = Settings(data_dir=data_dir or tmp_path / "data", demo=overrides.pop("demo", False), **overrides)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in reversed(opened):
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def vectors() -> np.ndarray:
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(4, 12)) * 5
    return (centres[np.arange(200) % 4] + rng.normal(size=(200, 12))).astype(np.float32)


@pytest.fixture
def dataset(api: TestClient, vectors: np.ndarray) -> dict[str, Any]:
    labels = "group\tword\n" + "".join(f"g{i % 4}\tword{i}\n" for i in range(len(vectors)))
    response = api.post(
        "/api/datasets?name=clusters",
        files={"tensor": ("t.npy", npy_bytes(vectors)), "metadata": ("m.tsv", labels.encode())},
    )
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def wait_done(api: TestClient, pid: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        projection = api.get(f"/api/projections/{pid}").json()
        if projection["status"] in ("done", "failed", "cancelled"):
            return projection  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"projection {pid} did not finish in {timeout} s")


class ServerProcess:
    """`projector serve` in a subprocess, for tests that need real sockets or kill -9."""

    def __init__(self, data_dir: Path, *args: str) -> None:
        self.data_dir = data_dir
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, timeout: float = 60) -> "ServerProcess":
        command = [sys.executable, "-m", "projector", "serve", "--port", "0", "--no-warm-up", "--data-dir", str(self.data_dir), *self.args]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise AssertionError(f"server exited: {self.process.stderr.read() if self.process.stderr else ''}")
            match = URL_LINE.search(line.strip())
            if match:
                self.url = match.group(1)
                return self
        raise AssertionError("server did not print its URL in time")

    def kill(self) -> None:
        """SIGKILL the server and everything it started (job workers, forkserver)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    servers: list[ServerProcess] = []

    def make(*args: str, data_dir: Path | None = None) -> ServerProcess:
        server = ServerProcess(data_dir or tmp_path / "served", *args).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill()
