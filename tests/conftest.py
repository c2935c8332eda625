"""Shared fixtures: an in-process app per test, and a real server process when a test needs one."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from projector.api.app import create_app
from projector.serve_process import ServeProcess
from projector.settings import Settings


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
        # A loopback Host, as a browser on this machine sends (the server refuses foreign names).
        client = TestClient(create_app(settings), base_url="http://127.0.0.1", raise_server_exceptions=False)
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
        self.served: ServeProcess | None = None
        self.url = ""

    def start(self) -> ServerProcess:
        self.served = ServeProcess("--no-warm-up", *self.args, data_dir=self.data_dir)
        self.url = self.served.url
        return self

    def kill(self) -> None:
        """SIGKILL the server and everything it started (job workers, forkserver)."""
        if self.served is not None:
            self.served.kill()

    def stop(self) -> None:
        if self.served is not None:
            self.served.stop()


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
