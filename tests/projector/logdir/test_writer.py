"""log_embedding: the add_embedding layout, read back bit-exact by our own reader."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from projector.logdir import (
    LogdirError,
    discover,
    log_embedding,
    read_projector_config,
    read_tensor_file,
)
from projector.logdir.writer import encode_tag
from tests.logdir_fixtures import LOGDIRS, bits_equal


def _decode_png(data: bytes) -> np.ndarray:
    """Decoder for the filter-0, 8-bit PNGs the writer produces."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert header is not None
    width, height, _, color, *_ = header
    channels = {0: 1, 2: 3, 6: 4}[color]
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, 1 + width * channels)
    assert not rows[:, 0].any()
    return rows[:, 1:].reshape(height, width, channels)


def test_round_trip_bit_exact_with_awkward_values(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tensor = rng.standard_normal((40, 9)).astype(np.float32)
    tensor[0, :6] = [
        np.float32(1e-45),
        -0.0,
        np.finfo(np.float32).max,
        np.finfo(np.float32).tiny,
        np.float32(1 / 3),
        -np.finfo(np.float32).max,
    ]
    folder = log_embedding(tmp_path, tensor, tag="emb", step=7)
    assert folder == tmp_path / "00007" / "emb"
    (entry,) = discover(tmp_path).entries
    assert (entry.name, entry.step, entry.shape, entry.tensor_name) == ("emb", 7, (40, 9), "emb:00007")
    assert bits_equal(entry.load_tensor(), tensor)


def test_float64_input_is_stored_as_float32(tmp_path: Path) -> None:
    tensor = np.random.default_rng(1).standard_normal((5, 3))
    log_embedding(tmp_path, tensor)
    assert bits_equal(read_tensor_file(tmp_path / "00000" / "embedding" / "tensors.tsv"), tensor.astype(np.float32))


@pytest.mark.parametrize(
    ("metadata", "header", "expected"),
    [
        (["a", "b\tc", 3], None, "a\nb c\n3\n"),
        ({"label": ["x", "y", "z"]}, None, "x\ny\nz\n"),  # one column: no header row
        ({"word": ["x", "y", "z"], "n": [1, 2, None]}, None, "word\tn\nx\t1\ny\t2\nz\t\n"),
        ([["x", 1], ["y", 2], ["z", 3]], ["word", "n"], "word\tn\nx\t1\ny\t2\nz\t3\n"),
        ([["x"], ["y"], ["z"]], ["only"], "x\ny\nz\n"),  # PyTorch #38564: no header for one column
    ],
)
def test_metadata_forms(tmp_path: Path, metadata: object, header: list[str] | None, expected: str) -> None:
    log_embedding(tmp_path, np.zeros((3, 2)), metadata=metadata, metadata_header=header, tag="t")
    assert (tmp_path / "00000" / "t" / "metadata.tsv").read_text() == expected
    (entry,) = discover(tmp_path).entries
    assert entry.metadata_path == tmp_path / "00000" / "t" / "metadata.tsv"


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"tensor": np.zeros(3)}, "2-D"),
        ({"tensor": np.zeros((0, 2))}, "2-D"),
        ({"metadata": ["a"]}, "metadata has 1 row but the tensor has 3"),
        ({"metadata": {"a": [1, 2]}}, "metadata has 2 rows but the tensor has 3"),
        ({"metadata": {"a": [1, 2, 3], "b": [1, 2]}}, "different lengths"),
        ({"metadata": [["a", 1], ["b", 2], ["c", 3]]}, "needs metadata_header"),
        ({"metadata": [["a", 1], ["b", 2], ["c", 3]], "metadata_header": ["x"]}, "row 0 has 2 values; every row needs 1"),
        ({"step": -1}, "non-negative"),
        ({"tag": ""}, "tag"),
        ({"sprite": np.zeros((2, 4, 4))}, "2 images"),
        ({"sprite": b"\x89PNG...."}, "sprite_dim"),
        ({"sprite": b"GIF89a", "sprite_dim": (4, 4)}, "neither PNG nor JPEG"),
        ({"sprite": np.zeros((3, 5000, 5000), np.uint8)}, "at most 8192"),
        ({"tensor": np.array([[1, 2], [3, np.nan], [5, 6]])}, r"non-finite value \(nan\) at row 1, column 1"),
        ({"tensor": np.array([[1, 2], [3, 4], [-np.inf, 6]])}, r"non-finite value \(-inf\) at row 2, column 0"),
        ({"tensor": np.array([[1, 2], [3, 4], [1e39, 6]])}, r"\(inf\) at row 2, column 0"),  # overflows float32
    ],
)
def test_invalid_arguments_write_nothing(tmp_path: Path, kwargs: dict, fragment: str) -> None:
    args = {"tensor": np.zeros((3, 2)), **kwargs}
    with pytest.raises(ValueError, match=fragment):
        log_embedding(tmp_path, **args)
    assert not (tmp_path / "projector_config.pbtxt").exists()
    assert not list(tmp_path.iterdir())  # nothing written at all


def test_sprite_atlas(tmp_path: Path) -> None:
    images = np.arange(5 * 3 * 4 * 3, dtype=np.uint8).reshape(5, 3, 4, 3)  # 5 images, H=3, W=4, RGB
    log_embedding(tmp_path, np.ones((5, 2)), sprite=images, tag="img")
    (entry,) = discover(tmp_path).entries
    assert entry.sprite_dim == (4, 3)
    atlas = _decode_png(entry.sprite_path.read_bytes())  # type: ignore[union-attr]
    assert atlas.shape == (2 * 3, 3 * 4, 3)  # 3 per row, 2 rows, padding at the bottom
    for i in range(5):
        r, c = divmod(i, 3)
        assert np.array_equal(atlas[r * 3 : (r + 1) * 3, c * 4 : (c + 1) * 4], images[i])
    assert not atlas[3:, 8:].any()


def test_float_grey_sprite_and_ready_made_sprite(tmp_path: Path) -> None:
    grey = np.linspace(0, 1, 4 * 2 * 2).reshape(4, 2, 2)
    log_embedding(tmp_path, np.ones((4, 2)), sprite=grey, tag="grey")
    atlas = _decode_png((tmp_path / "00000" / "grey" / "sprite.png").read_bytes())
    assert atlas.shape == (4, 4, 1) and atlas.max() == 255 and atlas.min() == 0
    png = (LOGDIRS / "tensorboardx" / "00000" / "points" / "sprite.png").read_bytes()
    log_embedding(tmp_path, np.ones((12, 2)), sprite=png, sprite_dim=(8, 8), tag="ready")
    entries = {e.name: e for e in discover(tmp_path).entries}
    assert entries["ready"].sprite_dim == (8, 8)
    assert entries["ready"].sprite_path.read_bytes() == png  # type: ignore[union-attr]


def test_existing_config_entries_are_kept_and_same_step_replaced(tmp_path: Path) -> None:
    root = tmp_path / "tbx"
    shutil.copytree(LOGDIRS / "tensorboardx", root)
    before = read_projector_config(root / "projector_config.pbtxt").embeddings
    log_embedding(root, np.ones((3, 2)), tag="points", step=2)
    log_embedding(root, np.full((3, 2), 2.0), tag="extra")
    log_embedding(root, np.full((3, 2), 3.0), tag="extra")  # same tag and step: replaced
    after = read_projector_config(root / "projector_config.pbtxt").embeddings
    assert after[: len(before)] == before
    assert [e.tensor_name for e in after[len(before) :]] == ["points:00002", "extra:00000"]
    found = discover(root)
    assert [e.step for e in found.sequences()[next(e.sequence for e in found.entries if e.name == "points")]] == [0, 1, 2]
    extra = next(e for e in found.entries if e.name == "extra")
    assert extra.load_tensor().tolist() == [[3.0, 3.0]] * 3
    assert not list(root.rglob("*.tmp"))  # atomic writes leave no temp files


def test_malformed_existing_config_is_not_overwritten(tmp_path: Path) -> None:
    config = tmp_path / "projector_config.pbtxt"
    config.write_text("embeddings { oops")
    with pytest.raises(LogdirError, match="not overwriting"):
        log_embedding(tmp_path, np.ones((2, 2)))
    assert config.read_text() == "embeddings { oops"


def test_tag_encoding() -> None:
    assert encode_tag("a/b\\c%d") == "a%2fb%5cc%25d"
