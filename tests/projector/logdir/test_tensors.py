"""tensor_path files (TSV and raw float32) and Keras 3 weights files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from projector.logdir import (
    LogdirError,
    keras_embeddings,
    parse_tensor_tsv,
    read_keras_weight,
    read_tensor_file,
    tensor_tsv,
)
from projector.logdir import tsv_shape as tsv_shape_of
from projector.logdir.keras_h5 import h5_step
from projector.logdir.tensors import file_tsv_shape as tsv_shape
from tests.logdir_fixtures import LOGDIRS, bits_equal, expected_tensors


@pytest.mark.parametrize(
    ("fixture", "key", "path"),
    [
        ("tensorboardx", "points:00000", "00000/points/tensors.tsv"),
        ("tensorboardx", "points:00001", "00001/points/tensors.tsv"),
        ("tensorboardx", "plain/vec:00000", "00000/plain%2fvec/tensors.tsv"),
        ("torch_tb", "default:00000", "00000/default/tensors.tsv"),
        ("torch_tb", "default:00005", "00005/default/tensors.tsv"),
    ],
)
def test_add_embedding_tsv_bit_exact(fixture: str, key: str, path: str) -> None:
    array = read_tensor_file(LOGDIRS / fixture / path)
    assert bits_equal(array, expected_tensors(fixture)[key])
    assert tsv_shape(LOGDIRS / fixture / path) == array.shape


def test_tsv_blank_lines_crlf_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(b"\n1.5\t2\r\n\n-3e-2\t inf\r\n\n\n")
    array = read_tensor_file(path)
    assert array.tolist() == [[1.5, 2.0], [np.float32(-3e-2), np.inf]]
    assert tsv_shape(path) == (2, 2)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"1\t2\n3\n", "line 2 has 1 value, earlier lines have 2"),
        (b"1\t2\n3\tx\n", "line 2: 'x' is not a number"),
        (b"\n\n", "empty"),
    ],
)
def test_bad_tsv(tmp_path: Path, content: bytes, fragment: str) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(content)
    with pytest.raises(LogdirError, match=fragment) as info:
        read_tensor_file(path)
    assert "t.tsv" in str(info.value)


def test_tsv_shape_mismatch_with_config(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("1\t2\n3\t4\n")
    assert read_tensor_file(path, [2, 2]).shape == (2, 2)
    with pytest.raises(LogdirError, match="tensor_shape says 3x2"):
        read_tensor_file(path, [3, 2])


def test_raw_float32(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    array = rng.standard_normal((9, 5)).astype(np.float32)
    array[0, 0] = np.float32(-2.5e38)  # makes the bytes invalid UTF-8 almost surely
    path = tmp_path / "t.bytes"
    path.write_bytes(array.astype("<f4").tobytes())
    assert bits_equal(read_tensor_file(path, [9, 5]), array)
    with pytest.raises(LogdirError, match="needs tensor_shape"):
        read_tensor_file(path)
    with pytest.raises(LogdirError, match="needs 200"):
        read_tensor_file(path, [10, 5])


def test_raw_zeros_are_not_mistaken_for_text(tmp_path: Path) -> None:
    path = tmp_path / "zeros.bytes"
    path.write_bytes(bytes(4 * 6))  # valid UTF-8, but NUL bytes
    assert read_tensor_file(path, [3, 2]).tolist() == [[0, 0]] * 3


def test_missing_tensor_file(tmp_path: Path) -> None:
    with pytest.raises(LogdirError, match="tensor file not found"):
        read_tensor_file(tmp_path / "nope.tsv")


# --- Keras 3 weights -------------------------------------------------------------------


def test_keras_weights_bit_exact() -> None:
    expected = expected_tensors("keras3_callback")
    for epoch in (0, 1):
        path = LOGDIRS / "keras3_callback" / "train" / f"keras_embedding.ckpt-{epoch}.weights.h5"
        assert h5_step(path) == epoch
        (layer,) = keras_embeddings(path)
        assert layer.layer_name == "tokens"
        assert layer.dataset == "layers/embedding/vars/0"
        assert layer.shape == (40, 8)
        assert bits_equal(read_keras_weight(path, layer.dataset), expected[f"keras_embedding.ckpt-{epoch}|tokens"])


def test_keras_weights_errors(tmp_path: Path) -> None:
    path = LOGDIRS / "keras3_callback" / "train" / "keras_embedding.ckpt-0.weights.h5"
    with pytest.raises(LogdirError, match="no weight 'layers/nope'"):
        read_keras_weight(path, "layers/nope")
    with pytest.raises(LogdirError, match="only floating point"):
        read_keras_weight(path, "optimizer/vars/0")  # the int64 iteration counter
    broken = tmp_path / "broken.weights.h5"
    broken.write_bytes(b"not hdf5 at all")
    with pytest.raises(LogdirError, match="not a readable HDF5"):
        keras_embeddings(broken)


# --- the shared tensor-TSV parser ----------------------------------------------------------------


def test_parser_streams_chunks_split_anywhere() -> None:
    text = b"\xef\xbb\xbf1.5\t-2\r\n\n3e1\t0.1\r\n4\t5"
    expected = np.array([[1.5, -2], [30, 0.1], [4, 5]], np.float32)
    for size in (1, 2, 3, 7, len(text)):
        chunks = [text[i : i + size] for i in range(0, len(text), size)]
        assert bits_equal(parse_tensor_tsv(chunks), expected)
        assert tsv_shape_of(chunks) == (3, 2)
    assert bits_equal(parse_tensor_tsv(io.BytesIO(text)), expected)
    assert bits_equal(parse_tensor_tsv(memoryview(text)), expected)


def test_parser_rounds_like_tensorboard() -> None:
    """TensorBoard parses each value as a Python float, then casts to float32: the same bits here."""
    values = [
        "0.1",
        "3.4028235e38",
        "3.4028236e38",
        "1e-46",
        "1.4e-45",
        "16777217",
        "0.30000001192092896",
        "-0",
        "nan",
        "-inf",
        "1.00000005960464477539062500001",
        "1.000000059604644775390625",
    ]
    data = "\t".join(values).encode() + b"\n"
    with np.errstate(over="ignore"):
        expected = np.array([[float(v) for v in values]]).astype(np.float32)
    got = parse_tensor_tsv(data)
    assert np.array_equal(got.view(np.uint32)[~np.isnan(got)], expected.view(np.uint32)[~np.isnan(expected)])


@pytest.mark.parametrize(
    ("chunks", "fragment"),
    [
        ([b"1\t2\n" * 3, b"1\t2\n3\t4\t5\n"], "line 5 has 3 values, earlier lines have 2"),
        ([b"1\t2\n\n", b"3\t4\n5\t\n"], "line 4: '' is not a number"),
        ([b"1\t2\n3\t", b"\xff\n"], "line 2 is not UTF-8 text"),
        ([b"\r\n\n"], "empty"),
        ([b"1\t2\n" * 4], "more than 6 values"),
    ],
)
def test_parser_errors_name_the_line(chunks: list[bytes], fragment: str) -> None:
    with pytest.raises(LogdirError, match=fragment):
        parse_tensor_tsv(chunks, max_values=6, where="t.tsv")


def test_parser_bounds_a_line_without_end(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tensor_tsv, "MAX_TSV_LINE_BYTES", 100)
    with pytest.raises(LogdirError, match="line 2 is longer than 100 bytes"):
        parse_tensor_tsv([b"1\t2\n", b"3" * 60, b"4" * 60])
