from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from projector.data.formats import read_tensor, sniff_format, write_float32_npy
from projector.errors import InvalidInput


def safetensors_bytes(tensors: dict[str, tuple[str, np.ndarray]]) -> bytes:
    header, blobs, offset = {}, [], 0
    for name, (dtype, array) in tensors.items():
        raw = array.tobytes()
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    encoded = json.dumps(header).encode()
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs)


@pytest.fixture
def matrix() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(7, 5)).astype(np.float32)


def test_npy_any_numeric_dtype(tmp_path: Path, matrix: np.ndarray) -> None:
    for dtype in (np.float16, np.float32, np.float64, np.int32, ">f4"):
        np.save(tmp_path / "t.npy", matrix.astype(dtype))
        got = read_tensor(tmp_path / "t.npy")
        np.testing.assert_array_equal(np.asarray(got, dtype=np.float32), matrix.astype(dtype).astype(np.float32))


def test_npy_fortran_order(tmp_path: Path, matrix: np.ndarray) -> None:
    np.save(tmp_path / "t.npy", np.asfortranarray(matrix))
    np.testing.assert_array_equal(read_tensor(tmp_path / "t.npy"), matrix)


def test_npz_picks_the_one_matrix_or_a_named_one(tmp_path: Path, matrix: np.ndarray) -> None:
    np.savez(tmp_path / "one.npz", vectors=matrix, labels=np.arange(7))
    np.testing.assert_array_equal(read_tensor(tmp_path / "one.npz"), matrix)
    np.savez(tmp_path / "two.npz", a=matrix, b=matrix * 2)
    with pytest.raises(InvalidInput, match="several 2-D arrays"):
        read_tensor(tmp_path / "two.npz")
    np.testing.assert_array_equal(read_tensor(tmp_path / "two.npz", member="b"), matrix * 2)
    with pytest.raises(InvalidInput, match="no array named"):
        read_tensor(tmp_path / "two.npz", member="c")


def test_npz_with_too_many_members(tmp_path: Path) -> None:
    np.savez(tmp_path / "many.npz", **{f"m{i}": np.zeros((2, 2)) for i in range(300)})
    with pytest.raises(InvalidInput, match="members"):
        read_tensor(tmp_path / "many.npz")


def test_safetensors_float_and_bfloat16(tmp_path: Path, matrix: np.ndarray) -> None:
    path = tmp_path / "t.safetensors"
    path.write_bytes(safetensors_bytes({"emb": ("F32", matrix)}))
    assert sniff_format(path) == "safetensors"
    np.testing.assert_array_equal(read_tensor(path), matrix)
    bf16 = (matrix.view(np.uint32) >> 16).astype(np.uint16)
    path.write_bytes(safetensors_bytes({"emb": ("BF16", bf16)}))
    np.testing.assert_array_equal(read_tensor(path), (bf16.astype(np.uint32) << 16).view(np.float32))


def test_safetensors_bad_offsets(tmp_path: Path, matrix: np.ndarray) -> None:
    data = bytearray(safetensors_bytes({"emb": ("F32", matrix)}))
    path = tmp_path / "t.safetensors"
    path.write_bytes(bytes(data[:-8]))
    with pytest.raises(InvalidInput, match="offsets"):
        read_tensor(path)


def test_tensor_tsv(tmp_path: Path, matrix: np.ndarray) -> None:
    path = tmp_path / "t.tsv"
    path.write_text("\n".join("\t".join(repr(float(v)) for v in row) for row in matrix) + "\n")
    assert sniff_format(path) == "tsv"
    np.testing.assert_array_equal(read_tensor(path), matrix)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("1\t2\t3\n4\t5\n", "line 2 has 2 values, earlier lines have 3"),
        ("1\t2\nx\t3\n", "line 2: 'x' is not a number"),
        ("", "empty"),
        ("1\t2\n", "at least 2 rows"),
        ("1\n2\n3\n", "at least 2 rows and 2 columns"),
    ],
)
def test_bad_tensor_tsv(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "t.tsv"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=message):
        read_tensor(path)


def test_non_utf8_tsv(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(b"1\t2\n\xff\xfe\t3\n")
    with pytest.raises(InvalidInput, match="UTF-8"):
        read_tensor(path)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(5), "2-D"),
        (np.zeros((2, 2, 2)), "2-D"),
        (np.zeros((0, 4)), "at least 2 rows"),
        (np.array([[1, "a"]], dtype=object), "numbers"),
        (np.array([[1 + 2j, 3j]]), "numbers"),
    ],
)
def test_bad_npy(tmp_path: Path, array: np.ndarray, message: str) -> None:
    np.save(tmp_path / "t.npy", array, allow_pickle=True)
    with pytest.raises(InvalidInput, match=message):
        read_tensor(tmp_path / "t.npy")


def test_npy_header_larger_than_body(tmp_path: Path) -> None:
    path = tmp_path / "t.npy"
    np.save(path, np.zeros((4, 4), dtype=np.float32))
    data = path.read_bytes().replace(b"(4, 4)", b"(999999999, 4)")
    path.write_bytes(data)
    with pytest.raises(InvalidInput, match="declares shape"):
        read_tensor(path)


def test_write_rejects_non_finite_and_leaves_nothing(tmp_path: Path, matrix: np.ndarray) -> None:
    matrix[3, 1] = np.inf
    with pytest.raises(InvalidInput, match="row 3"):
        write_float32_npy(matrix, tmp_path / "out.npy")
    assert list(tmp_path.iterdir()) == []


def test_write_converts_to_little_endian_float32(tmp_path: Path, matrix: np.ndarray) -> None:
    write_float32_npy(matrix.astype(">f8"), tmp_path / "out.npy")
    stored = np.load(tmp_path / "out.npy")
    assert stored.dtype == np.dtype("<f4") and stored.flags.c_contiguous
    np.testing.assert_array_equal(stored, matrix)
