"""The `projector` command line: load, project, serve, and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.decomposition import PCA as SklearnPCA

from projector.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "projector", *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def tensor_file(tmp_path: Path) -> Path:
    X = np.random.default_rng(0).normal(size=(120, 8)).astype(np.float32)
    np.save(tmp_path / "vectors.npy", X)
    (tmp_path / "labels.tsv").write_text("".join(f"item{i}\n" for i in range(120)))
    return tmp_path / "vectors.npy"


def test_load_then_project(tensor_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    assert main(["load", str(tensor_file), "--metadata", str(tmp_path / "labels.tsv"), "--name", "vecs", "--data-dir", data]) == 0
    dataset_id = capsys.readouterr().out.strip().splitlines()[-1]
    out = tmp_path / "coords.npy"
    assert main(["project", "vecs", "--method", "pca", "--dims", "3", "--out", str(out), "--data-dir", data]) == 0
    pid = capsys.readouterr().out.strip().splitlines()[-1]
    coords = np.load(out)
    assert coords.shape == (120, 3) and coords.dtype == np.float32
    expected = SklearnPCA(3).fit_transform(np.load(tensor_file))
    np.testing.assert_allclose(np.abs(coords), np.abs(expected), atol=1e-4)
    # the same request again comes from the cache, by id as well as by name
    assert main(["project", dataset_id, "--method", "pca", "--dims", "3", "--data-dir", data]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == pid and "from the cache" in captured.err


def test_project_params(tensor_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = str(tmp_path / "data")
    main(["load", str(tensor_file), "--data-dir", data])
    dataset_id = capsys.readouterr().out.strip()
    out = tmp_path / "c.npy"
    assert main(["project", dataset_id, "--method", "pca", "--param", "components=[1,0]", "--out", str(out), "--data-dir", data]) == 0
    expected = SklearnPCA(2).fit_transform(np.load(tensor_file))[:, [1, 0]]
    np.testing.assert_allclose(np.abs(np.load(out)), np.abs(expected), atol=1e-4)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["load", "/nonexistent/file.npy"], "no such file"),
        (["project", "nothing", "--method", "pca"], "no dataset"),
    ],
)
def test_errors_are_one_line(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli(*args, "--data-dir", str(tmp_path / "d"))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_bad_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.tsv").write_text("1\t2\n3\n")
    result = run_cli("load", str(tmp_path / "bad.tsv"), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2 and result.stderr.strip().count("\n") == 0 and "line 2 has 1 value, earlier lines have 2" in result.stderr
    assert not any((tmp_path / "d" / "datasets").iterdir())


def test_bad_param_is_one_line(tensor_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["load", str(tensor_file), "--data-dir", str(tmp_path / "d")])
    dataset_id = capsys.readouterr().out.strip()
    result = run_cli("project", dataset_id, "--method", "pca", "--param", "components=[0,500]", "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 2 and "components" in result.stderr and "Traceback" not in result.stderr


def test_serve_prints_its_url_and_refuses_a_busy_port(server_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = server_factory("--no-demo")
    assert server.url.startswith("http://127.0.0.1:")
    port = server.url.rsplit(":", 1)[1]
    busy = run_cli("serve", "--port", port, "--data-dir", str(tmp_path / "other"))
    assert busy.returncode != 0 and "cannot listen" in busy.stderr and "Traceback" not in busy.stderr
