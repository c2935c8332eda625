"""`projector serve --logdir` and `projector load DIR`: TensorBoard runs as read-only datasets."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from projector.cli import main
from projector.logdir import log_embedding
from tests.logdir_fixtures import LOGDIRS


def wait_for(api: TestClient, predicate: Callable[[list[dict[str, Any]]], bool], scans: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = api.get("/api/logdir").json()
        datasets = api.get("/api/datasets").json()
        if status["scans"] >= scans and predicate(datasets):
            return datasets  # type: ignore[no-any-return]
        time.sleep(0.1)
    raise AssertionError(f"logdir not in the expected state: {status}")


def test_logdir_runs_become_read_only_datasets(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    tensor = np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)
    log_embedding(logdir, tensor, metadata=[f"w{i}" for i in range(30)], tag="words", step=0)
    api = make_client(logdir=logdir, demo=True)
    (dataset,) = wait_for(api, lambda d: len(d) == 1)
    assert dataset["source"] == "logdir" and (dataset["n"], dataset["dim"]) == (30, 6)
    np.testing.assert_array_equal(np.frombuffer(api.get(f"/api/datasets/{dataset['id']}/tensor").content, "<f4").reshape(30, 6), tensor)
    assert api.get(f"/api/datasets/{dataset['id']}/metadata").json()["rows"][4] == ["w4"]
    refused = api.delete(f"/api/datasets/{dataset['id']}")
    assert refused.status_code == 409 and refused.json()["error"] == "read_only"
    # a new training step appears while serving, in the same sequence
    log_embedding(logdir, tensor * 2, metadata=[f"w{i}" for i in range(30)], tag="words", step=1)
    datasets = wait_for(api, lambda d: len(d) == 2, scans=2)
    assert {d["source"] for d in datasets} == {"logdir"}
    assert sorted(d["step"] for d in datasets) == [0, 1] and len({d["sequence"] for d in datasets}) == 1
    assert api.get(f"/api/datasets/{dataset['id']}/bookmarks").json()["error"] == "no_bookmarks"


def test_bookmarks_are_served_as_stored(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    log_embedding(logdir, np.eye(4, dtype=np.float32), tag="eye")
    bookmarks = b'[{"label": "first view", "selectedPoints": [1]}]'
    (logdir / "bookmarks.json").write_bytes(bookmarks)
    config = (logdir / "projector_config.pbtxt").read_text()
    (logdir / "projector_config.pbtxt").write_text(config.replace("embeddings {", 'embeddings {\n  bookmarks_path: "bookmarks.json"', 1))
    api = make_client(logdir=logdir)
    (dataset,) = wait_for(api, lambda d: len(d) == 1)
    assert dataset["has_bookmarks"] is True
    assert api.get(f"/api/datasets/{dataset['id']}/bookmarks").content == bookmarks


def test_bad_runs_are_reported_and_do_not_hide_good_ones(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    logdir = tmp_path / "logs"
    shutil.copytree(LOGDIRS / "tensorboardx", logdir / "good")
    (logdir / "bad").mkdir()
    (logdir / "bad" / "projector_config.pbtxt").write_text('embeddings { tensor_path: "../../../etc/passwd" }\n')
    api = make_client(logdir=logdir)
    datasets = wait_for(api, lambda d: len(d) >= 1)
    assert all(d["source"] == "logdir" for d in datasets)
    problems = api.get("/api/logdir").json()["problems"]
    assert any("bad" in p for p in problems)


@pytest.mark.parametrize("fixture", ["tf2_checkpoint", "tensorboardx", "torch_tb"])
def test_load_a_log_dir(fixture: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", str(LOGDIRS / fixture), "--data-dir", str(tmp_path / "d")]) == 0
    ids = capsys.readouterr().out.split()
    assert ids and all(len(i) == 12 for i in ids)
