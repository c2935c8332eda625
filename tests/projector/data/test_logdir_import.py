"""`projector load DIR`: every good embedding imported, each bad one reported, nothing imported twice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from projector import log_embedding
from projector.cli import main
from projector.data.ingest import ingest
from projector.data.store import Store


def make_logdir(root: Path) -> Path:
    rng = np.random.default_rng(0)
    for tag in ("good_a", "good_b", "short_metadata", "not_finite"):
        log_embedding(root, rng.normal(size=(6, 3)), metadata=[f"{tag}{i}" for i in range(6)], tag=tag, step=1)
    (root / "00001" / "short_metadata" / "metadata.tsv").write_text("a\nb\nc\n")  # 3 labels for 6 points
    tensors = root / "00001" / "not_finite" / "tensors.tsv"
    lines = tensors.read_text().splitlines()
    lines[1] = "\t".join(["nan"] * 3)
    tensors.write_text("\n".join(lines) + "\n")
    return root


def load(logdir: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str], list[str]]:
    status = main(["load", str(logdir), "--data-dir", str(data)])
    captured = capsys.readouterr()
    return status, captured.out.split(), captured.err.strip().splitlines()


def test_bad_embeddings_are_reported_and_good_ones_imported_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logdir = make_logdir(tmp_path / "logs")
    data = tmp_path / "data"
    status, ids, err = load(logdir, data, capsys)
    assert status == 0 and len(ids) == 2
    skipped = [line for line in err if line.startswith("projector: skipped")]
    assert len(skipped) == 2, err
    assert any("short_metadata" in line and "metadata has 3 rows but the tensor has 6" in line for line in skipped)
    assert any("not_finite" in line and "row 1" in line for line in skipped)
    store = Store(data)
    assert sorted(d["name"] for d in store.list_datasets()) == ["good_a", "good_b"]
    store.close()

    # again: nothing copied twice, the same ids printed, the same problems reported
    status, again, err = load(logdir, data, capsys)
    assert status == 0 and sorted(again) == sorted(ids)
    assert sum("already loaded" in line for line in err) == 2 and sum(line.startswith("projector: skipped") for line in err) == 2
    store = Store(data)
    assert store.dataset_count() == 2
    store.delete_dataset(ids[0])  # a deleted one is imported afresh
    store.close()
    status, third, _ = load(logdir, data, capsys)
    assert status == 0 and ids[0] not in third and ids[1] in third and len(third) == 2


def test_nothing_imported_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logdir = make_logdir(tmp_path / "logs")
    for tag in ("good_a", "good_b"):
        (logdir / "00001" / tag / "tensors.tsv").write_text("1\t2\n3\n")  # ragged
    status, ids, err = load(logdir, tmp_path / "data", capsys)
    assert status == 2 and ids == []
    assert sum(line.startswith("projector: skipped") for line in err) == 4
    assert err[-1] == f"projector: error: {logdir}: no embedding imported (4 skipped)"
    empty = tmp_path / "empty"
    empty.mkdir()
    status, _, err = load(empty, tmp_path / "data", capsys)
    assert status == 2 and err[-1] == f"projector: error: {empty}: no embedding found"


def test_source_claims(tmp_path: Path) -> None:
    store = Store(tmp_path / "data")
    assert store.claim_source("k", "aaaaaaaaaaaa") is None
    assert store.dataset_by_source("k") is None  # claimed but never committed
    assert store.claim_source("k", "bbbbbbbbbbbb") is None  # so the claim is taken over
    dataset = ingest(store, name="x", source="upload", array=np.eye(3, dtype=np.float32), dataset_id="bbbbbbbbbbbb")
    assert store.dataset_by_source("k") == dataset
    assert store.claim_source("k", "cccccccccccc") == "bbbbbbbbbbbb"
    store.delete_dataset("bbbbbbbbbbbb")
    assert store.dataset_by_source("k") is None and store.claim_source("k", "cccccccccccc") is None
    store.close()
