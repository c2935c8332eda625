"""Hostile logdir files: each one sits next to a good run, which must still list and load,
and nothing outside the logdir is ever read."""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from projector.logdir import Discovery, LogdirError, _paths, discover, keras_embeddings, keras_h5, pbtxt, read_keras_weight
from projector.logdir.pbtxt import parse_text_message
from tests.logdir_fixtures import LOGDIRS, write_index, write_keras_weights

SECRET = b"secret\tdata\n"


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    root = tmp_path / "logs"
    shutil.copytree(LOGDIRS / "tensorboardx", root / "good")
    (tmp_path / "secret.tsv").write_bytes(SECRET)
    return root


def _good_still_there(found: Discovery) -> None:
    good = {e.name: e for e in found.entries if e.run == "good"}
    assert {"good/points", "good/plain/vec"} <= set(good)
    assert all(e.error is None for e in good.values())
    assert good["good/plain/vec"].load_tensor().shape == (7, 3)


def _keras_run(root: Path, name: str) -> Path:
    run = root / name
    run.mkdir(parents=True)
    (run / "projector_config.pbtxt").write_text('embeddings { tensor_name: "tokens" }\n')
    return run


# --- HDF5 ----------------------------------------------------------------------------------------


def test_good_keras_run_beside_hostile_ones(logdir: Path) -> None:
    array = np.arange(12, dtype=np.float32).reshape(4, 3)
    write_keras_weights(_keras_run(logdir, "keras") / "model-0.weights.h5", array)
    found = discover(logdir)
    (entry,) = [e for e in found.entries if e.run == "keras"]
    assert entry.kind == "keras_h5" and entry.name == "keras/tokens"
    assert np.array_equal(entry.load_tensor(), array)


def test_hdf5_external_storage_is_refused(logdir: Path, tmp_path: Path) -> None:
    run = _keras_run(logdir, "external")
    size = len(SECRET) // 4 * 4
    write_keras_weights(
        run / "model-0.weights.h5", None, shape=(1, size // 4), dtype="<f4",
        external=[(os.fspath(tmp_path / "secret.tsv"), 0, size)],
    )  # fmt: skip
    found = discover(logdir)
    _good_still_there(found)
    assert not [e for e in found.entries if e.run == "external"]
    (error,) = [e for e in found.errors if e.run == "external"]
    assert "external files; refused" in error.message


def test_hdf5_virtual_dataset_is_refused(logdir: Path, tmp_path: Path) -> None:
    source = tmp_path / "outside.h5"
    with h5py.File(source, "w") as handle:
        handle["data"] = np.ones((4, 3), np.float32)
    run = _keras_run(logdir, "virtual")
    layout = h5py.VirtualLayout(shape=(4, 3), dtype="<f4")
    layout[:] = h5py.VirtualSource(os.fspath(source), "data", shape=(4, 3))
    with h5py.File(run / "model-0.weights.h5", "w") as handle:
        group = handle.create_group("layers/embedding/vars")
        group.attrs["name"] = "tokens"
        group.create_virtual_dataset("0", layout)
    found = discover(logdir)
    _good_still_there(found)
    (error,) = [e for e in found.errors if e.run == "virtual"]
    assert "virtual dataset" in error.message


@pytest.mark.parametrize("kind", ["soft", "external"])
def test_hdf5_links_are_refused(logdir: Path, tmp_path: Path, kind: str) -> None:
    outside = tmp_path / "outside.h5"
    with h5py.File(outside, "w") as handle:
        handle["data"] = np.ones((4, 3), np.float32)
    run = _keras_run(logdir, kind)
    with h5py.File(run / "model-0.weights.h5", "w") as handle:
        group = handle.create_group("layers/embedding/vars")
        group.attrs["name"] = "tokens"
        handle["elsewhere"] = np.zeros((4, 3), np.float32)
        group["0"] = h5py.SoftLink("/elsewhere") if kind == "soft" else h5py.ExternalLink(os.fspath(outside), "/data")
    found = discover(logdir)
    _good_still_there(found)
    assert not [e for e in found.entries if e.run == kind]
    (error,) = [e for e in found.errors if e.run == kind]
    assert f"HDF5 {kind} link" in error.message


def test_hdf5_huge_declared_shape_is_an_entry_error(logdir: Path) -> None:
    run = _keras_run(logdir, "huge")
    write_keras_weights(run / "model-0.weights.h5", None, shape=(10**7, 10**6), dtype="<f4", chunks=(16, 16))
    assert (run / "model-0.weights.h5").stat().st_size < 1 << 20
    found = discover(logdir)
    _good_still_there(found)
    (entry,) = [e for e in found.entries if e.run == "huge"]
    assert entry.shape == (10**7, 10**6) and "too large" in (entry.error or "")
    with pytest.raises(LogdirError, match="too large"):
        entry.load_tensor()
    with pytest.raises(LogdirError, match="at most"):
        read_keras_weight(run / "model-0.weights.h5", "layers/embedding/vars/0")


def test_a_crashing_hdf5_reader_is_a_reported_problem(logdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = _keras_run(logdir, "crash")
    path = write_keras_weights(run / "model-0.weights.h5", np.ones((4, 3), np.float32))
    crash = "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)"
    monkeypatch.setattr(keras_h5, "child_command", lambda: [sys.executable, "-c", crash])
    with pytest.raises(LogdirError, match="crashed on this file \\(SIGSEGV\\)"):
        keras_embeddings(path)
    found = discover(logdir)
    _good_still_there(found)
    (error,) = [e for e in found.errors if e.run == "crash"]
    assert "SIGSEGV" in error.message


def test_a_hanging_hdf5_reader_is_killed(logdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_keras_weights(_keras_run(logdir, "hang") / "model-0.weights.h5", np.ones((4, 3), np.float32))
    monkeypatch.setattr(keras_h5, "child_command", lambda: [sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.setattr(keras_h5, "H5_TIMEOUT_SECONDS", 0.5)
    with pytest.raises(LogdirError, match=r"took longer than 0\.5 s"):
        read_keras_weight(path, "layers/embedding/vars/0")


# --- pbtxt ---------------------------------------------------------------------------------------


def test_deeply_nested_pbtxt_is_a_problem_not_a_recursion_error(logdir: Path) -> None:
    deep = "a { " * 10_000 + "}" * 10_000
    with pytest.raises(LogdirError, match="nested more than"):
        parse_text_message(deep)
    (logdir / "nested").mkdir()
    (logdir / "nested" / "projector_config.pbtxt").write_text(f'embeddings {{ tensor_path: "x.tsv" }}\n{deep}\n')
    found = discover(logdir)
    _good_still_there(found)
    (error,) = [e for e in found.errors if e.run == "nested"]
    assert "nested more than" in error.message


def test_huge_pbtxt_strings_and_token_floods_are_problems(logdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a regex scanning quoted strings kept a backtracking record per character: 10 MB took 1.2 GB
    (logdir / "long").mkdir()
    (logdir / "long" / "projector_config.pbtxt").write_text('embeddings { tensor_path: "' + "a" * 2_000_000 + '" }\n')
    (logdir / "flood").mkdir()
    (logdir / "flood" / "projector_config.pbtxt").write_text("{" * 5_000)
    monkeypatch.setattr(pbtxt, "MAX_PBTXT_TOKENS", 1_000)  # 16 MiB of "{" would be 16 million tokens
    found = discover(logdir)
    _good_still_there(found)
    errors = {e.run: e.message for e in found.errors}
    assert "quoted string longer than 65,536 characters" in errors["long"] and len(errors["long"]) < 1_000
    assert "more than 1,000 tokens" in errors["flood"]
    escaped = parse_text_message('a: "' + "\\\\" * 30_000 + "\" b: 'it\\'s'")
    assert escaped == {"a": ["\\" * 30_000], "b": ["it's"]}
    for text, fragment in (('a: "abc\\', "unterminated"), ('a: "abc\nb: 1', "unterminated"), ('a: "' + "b" * 65_537 + '"', "longer")):
        with pytest.raises(LogdirError, match=fragment):
            parse_text_message(text)


def test_an_unforeseen_error_stays_with_its_run(logdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (logdir / "odd").mkdir()
    (logdir / "odd" / "projector_config.pbtxt").write_text('embeddings { tensor_path: "t.tsv" }\n')
    (logdir / "odd" / "t.tsv").write_text("1\t2\n")
    discover_module = importlib.import_module("projector.logdir.discover")  # the package's `discover` is the function
    real = discover_module._tensor_file_entry

    def explode(scan, run, *args):  # type: ignore[no-untyped-def]
        if run == "odd":
            raise RecursionError("maximum recursion depth exceeded")
        return real(scan, run, *args)

    monkeypatch.setattr(discover_module, "_tensor_file_entry", explode)
    found = discover(logdir)
    _good_still_there(found)
    (error,) = [e for e in found.errors if e.run == "odd"]
    assert "unexpected RecursionError" in error.message


# --- checkpoints ---------------------------------------------------------------------------------


def test_index_declaring_more_than_its_data_file(logdir: Path) -> None:
    run = logdir / "liar"
    run.mkdir()
    data = np.ones((10, 4), np.float32).tobytes()
    write_index(run / "emb", {"big": (1, (1000, 4), 0, 16000), "fine": (1, (10, 4), 0, 160)}, data)
    (run / "projector_config.pbtxt").write_text("")
    found = discover(logdir)
    _good_still_there(found)
    entries = {e.name: e for e in found.entries if e.run == "liar"}
    assert "data file is truncated" in (entries["liar/big"].error or "")
    assert "needs bytes 0..16000, the file has 160" in (entries["liar/big"].error or "")
    assert entries["liar/fine"].error is None


@pytest.mark.parametrize(
    ("shape", "size", "fragment"),
    [
        ((10**9, 10**9), 4 * 10**18, "at most"),  # a huge declared shape is refused before any allocation
        ((10**6, 10**3), 16, "says 16 bytes but shape"),  # size and shape disagree
        ((2**62, 4), 0, "at most"),  # overflows int64 when multiplied by the width
    ],
)
def test_huge_declared_checkpoint_shapes(logdir: Path, shape: tuple[int, int], size: int, fragment: str) -> None:
    run = logdir / "huge"
    run.mkdir()
    write_index(run / "emb", {"emb": (1, shape, 0, size)}, bytes(16))
    (run / "projector_config.pbtxt").write_text("")
    found = discover(logdir)
    _good_still_there(found)
    (entry,) = [e for e in found.entries if e.run == "huge"]
    assert fragment in (entry.error or "")
    from projector.logdir import Checkpoint

    with pytest.raises(LogdirError, match=fragment):
        Checkpoint(run / "emb").read("emb")


# --- tensor files --------------------------------------------------------------------------------


def test_huge_declared_raw_and_tsv_shapes(logdir: Path) -> None:
    run = logdir / "shapes"
    run.mkdir()
    (run / "raw.bytes").write_bytes(np.full(6, -2.5e38, np.float32).tobytes())
    (run / "t.tsv").write_text("1\t2\n" * 5)
    (run / "projector_config.pbtxt").write_text(
        'embeddings { tensor_name: "raw" tensor_path: "raw.bytes" tensor_shape: [1000000, 1000000] }\n'
        'embeddings { tensor_name: "tsv" tensor_path: "t.tsv" tensor_shape: [2, 2] }\n'
    )
    found = discover(logdir)
    _good_still_there(found)
    entries = {e.name: e for e in found.entries if e.run == "shapes"}
    with pytest.raises(LogdirError, match="at most"):
        entries["shapes/raw"].load_tensor()
    with pytest.raises(LogdirError, match="more values than the config's tensor_shape 2x2"):
        entries["shapes/tsv"].load_tensor()


# --- read-time containment -----------------------------------------------------------------------


def _swap_for_symlink(path: Path, target: Path) -> None:
    path.unlink()
    path.symlink_to(target)


def test_symlink_swapped_in_after_the_scan_is_refused(logdir: Path, tmp_path: Path) -> None:
    run = logdir / "swap"
    run.mkdir()
    (run / "t.tsv").write_text("1\t2\n3\t4\n")
    (run / "meta.tsv").write_text("a\nb\n")
    (run / "bm.json").write_text("[]")
    (run / "sprite.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (run / "projector_config.pbtxt").write_text(
        'embeddings { tensor_path: "t.tsv" metadata_path: "meta.tsv" bookmarks_path: "bm.json" '
        'sprite { image_path: "sprite.png" single_image_dim: [1, 1] } }\n'
    )
    ckpt = logdir / "ckpt"
    shutil.copytree(LOGDIRS / "tf2_checkpoint", ckpt)
    keras = _keras_run(logdir, "keras")
    write_keras_weights(keras / "model-0.weights.h5", np.ones((4, 3), np.float32))
    found = discover(logdir)
    entries = {e.run: e for e in found.entries}
    (tsv,) = [e for e in found.entries if e.run == "swap"]
    assert tsv.load_tensor().shape == (2, 2) and tsv.read_metadata() == b"a\nb\n"
    assert tsv.read_bookmarks() == b"[]" and tsv.read_sprite() is not None

    secret = tmp_path / "secret.tsv"
    for name in ("t.tsv", "meta.tsv", "bm.json", "sprite.png"):
        _swap_for_symlink(run / name, secret)
    for read in (tsv.load_tensor, tsv.read_metadata, tsv.read_bookmarks, tsv.read_sprite):
        with pytest.raises(LogdirError, match="outside the logdir") as refused:
            read()
        assert str(secret) not in str(refused.value)  # the server's own paths are not shown to clients
    data = ckpt / "embedding.ckpt-2.data-00000-of-00001"
    shutil.copy(data, tmp_path / "outside.data")
    _swap_for_symlink(data, tmp_path / "outside.data")
    with pytest.raises(LogdirError, match="outside the logdir"):
        next(e for e in found.entries if e.run == "ckpt" and e.step == 2).load_tensor()
    _swap_for_symlink(keras / "model-0.weights.h5", tmp_path / "secret.tsv")
    with pytest.raises(LogdirError, match="outside the logdir"):
        entries["keras"].load_tensor()
    _good_still_there(discover(logdir))


def test_final_symlink_is_not_followed_even_to_inside(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    (root / "real.tsv").write_text("1\t2\n")
    (root / "link.tsv").symlink_to(root / "real.tsv")
    with _paths.open_inside(root, root / "real.tsv") as fh:
        assert fh.read() == b"1\t2\n"
    with _paths.open_inside(root, root / "link.tsv") as fh:  # resolved first: a link inside is fine
        assert fh.read() == b"1\t2\n"


def test_parent_swapped_between_resolve_and_open_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = (tmp_path / "logs").resolve()
    (root / "run").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "t.tsv").write_bytes(SECRET)
    (root / "run").rmdir()
    (root / "run").symlink_to(outside, target_is_directory=True)
    # the race: the path resolved inside the logdir, then a parent became a symlink to outside
    monkeypatch.setattr(_paths.os.path, "realpath", lambda p: os.fspath(p))
    with pytest.raises(LogdirError, match="moved outside the logdir"):
        _paths.open_inside(root, root / "run" / "t.tsv")


def test_fifos_and_oversized_files_are_refused(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    os.mkfifo(root / "fifo")
    with pytest.raises(LogdirError, match="not a regular file"):
        _paths.open_inside(root, root / "fifo")  # returns at once: never blocks on the writer
    (root / "big").write_bytes(bytes(100))
    with pytest.raises(LogdirError, match="at most 99 are read"):
        _paths.read_inside(root, root / "big", 99)


def test_bookmarks_must_be_a_json_array(logdir: Path) -> None:
    from projector.logdir import log_embedding

    run = logdir / "bm"
    log_embedding(run, np.eye(3, dtype=np.float32), tag="eye")
    (run / "bm.json").write_text('{"not": "a list"}')
    config = (run / "projector_config.pbtxt").read_text()
    (run / "projector_config.pbtxt").write_text(config.replace("embeddings {", 'embeddings {\n  bookmarks_path: "bm.json"', 1))
    (entry,) = [e for e in discover(logdir).entries if e.run == "bm"]
    with pytest.raises(LogdirError, match="not a JSON array"):
        entry.read_bookmarks()


def test_the_hdf5_reader_runs_under_an_address_space_limit(logdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_keras_weights(_keras_run(logdir, "tight") / "model-0.weights.h5", np.ones((4, 3), np.float32))
    monkeypatch.setattr(keras_h5, "H5_BASE_MEMORY", 32 << 20)  # too little even to import h5py
    with pytest.raises(LogdirError, match="HDF5 reader"):
        keras_embeddings(path)


def test_fifos_in_a_logdir_never_block_a_scan(logdir: Path) -> None:
    (logdir / "fifo_config").mkdir()
    os.mkfifo(logdir / "fifo_config" / "projector_config.pbtxt")
    run = logdir / "fifo_tensor"
    run.mkdir()
    os.mkfifo(run / "t.tsv")
    (run / "projector_config.pbtxt").write_text('embeddings { tensor_path: "t.tsv" }\n')
    found = discover(logdir)  # returns: nothing waits for a writer on the other end
    _good_still_there(found)
    (error,) = [e for e in found.errors if e.run == "fifo_config"]
    assert "not a regular file" in error.message
    (entry,) = [e for e in found.entries if e.run == "fifo_tensor"]
    assert "not a regular file" in (entry.error or "")
