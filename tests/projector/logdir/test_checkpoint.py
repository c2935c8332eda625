"""TensorFlow checkpoint reading: real fixtures bit-exact, CRC32C, Snappy, corrupt files."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from projector.logdir import (
    Checkpoint,
    LogdirError,
    checkpoint_prefixes,
    latest_checkpoint,
)
from projector.logdir._crc32c import crc32c, mask, unmask
from projector.logdir._snappy import snappy_decompress
from projector.logdir._table import read_table
from projector.logdir.checkpoint import slice_key
from projector.logdir.checkpoint_files import checkpoint_step
from tests.logdir_fixtures import FIXTURES, LOGDIRS, bits_equal, expected_tensors, table_block, write_bundle


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("tf2_checkpoint", "tf2_checkpoint"),
        ("tf2_dtypes", "tf2_dtypes"),
        ("tf1_saver", "tf1_saver"),
        ("multishard", "multishard"),
        ("snappy_index", "tf2_checkpoint"),
    ],
)
def test_fixture_tensors_read_bit_exact(fixture: str, expected: str) -> None:
    checked = 0
    for key, value in expected_tensors(expected).items():
        prefix, name = key.split("|")
        if not Path(LOGDIRS / fixture / f"{prefix}.index").exists():
            continue
        array = Checkpoint(LOGDIRS / fixture / prefix).read(name)
        assert bits_equal(array, value.astype(np.float32)), (fixture, key)
        checked += 1
    assert checked


def test_variables_lists_dtypes_and_shapes_without_slices() -> None:
    ckpt = Checkpoint(LOGDIRS / "tf2_dtypes" / "dtypes.index")  # a path ending in .index works too
    variables = ckpt.variables()
    assert variables["half/.ATTRIBUTES/VARIABLE_VALUE"] == ("float16", (6, 4))
    assert variables["bf16/.ATTRIBUTES/VARIABLE_VALUE"] == ("bfloat16", (6, 4))
    assert variables["double/.ATTRIBUTES/VARIABLE_VALUE"] == ("float64", (6, 4))
    assert variables["ints/.ATTRIBUTES/VARIABLE_VALUE"] == ("int32", (6, 4))
    assert variables["_CHECKPOINTABLE_OBJECT_GRAPH"] == ("string", ())
    sliced = Checkpoint(LOGDIRS / "multishard" / "sharded")
    assert sliced.num_shards == 5
    assert all(not k.startswith("\x00") for k in sliced.variables())
    assert sliced.variables()["alpha/.ATTRIBUTES/VARIABLE_VALUE"] == ("float32", (40, 8))


def test_tf1_partitioned_variable_is_assembled() -> None:
    ckpt = Checkpoint(LOGDIRS / "tf1_saver" / "model.ckpt-10")
    assert ckpt.entry("big_embedding").slices  # stored as 3 pieces
    assert ckpt.variables()["big_embedding"] == ("float32", (30, 4))


def test_slice_key_matches_the_documented_example() -> None:
    key = slice_key("big_embedding", [(100, 100), (0, 16)])
    assert key == b"\x00big_embedding\x00\x01\x01\x02\xc0\x64\xc0\x64\x80\x90"
    assert slice_key("a", [(0, None)]) == b"\x00a\x00\x01\x01\x01\x80\x7f"


def test_non_float_dtypes_are_a_clear_error() -> None:
    ckpt = Checkpoint(LOGDIRS / "tf2_dtypes" / "dtypes")
    for name, dtype in (("ints", "int32"), ("cplx", "complex64")):
        with pytest.raises(LogdirError, match=f"dtype {dtype}.*float16, bfloat16, float32 and float64"):
            ckpt.read(f"{name}/.ATTRIBUTES/VARIABLE_VALUE")
    with pytest.raises(LogdirError, match="no tensor named 'nope'"):
        ckpt.read("nope")


def test_reading_one_tensor_reads_only_its_bytes(tmp_path: Path) -> None:
    # other shards missing does not matter for a tensor stored elsewhere
    shutil.copytree(LOGDIRS / "multishard", tmp_path / "m")
    ckpt = Checkpoint(tmp_path / "m" / "sharded")
    name = "beta/.ATTRIBUTES/VARIABLE_VALUE"
    keep = set(ckpt.shards_of(name))
    for shard in range(ckpt.num_shards):
        if shard not in keep:
            ckpt.data_path(shard).unlink()
    expected = expected_tensors("multishard")[f"sharded|{name}"]
    assert bits_equal(ckpt.read(name), expected)
    other = next(n for n in ckpt.variables() if n.startswith("alpha"))
    with pytest.raises(LogdirError, match=r"missing data file \(shard"):
        ckpt.read(other)


# --- finding checkpoints ------------------------------------------------------------


def test_latest_and_all_prefixes() -> None:
    directory = LOGDIRS / "tf2_checkpoint"
    assert latest_checkpoint(directory) == directory / "embedding.ckpt-2"
    assert checkpoint_prefixes(directory) == [directory / "embedding.ckpt-1", directory / "embedding.ckpt-2"]
    assert checkpoint_step("x/model.ckpt-10.index") == 10
    assert checkpoint_step("dtypes") is None


def test_absolute_path_from_another_machine_falls_back_to_basename(tmp_path: Path) -> None:
    for path in (LOGDIRS / "tf1_saver").glob("model.ckpt-10.*"):
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "checkpoint").write_text(
        'model_checkpoint_path: "/home/someone/train/model.ckpt-10"\nall_model_checkpoint_paths: "/home/someone/train/model.ckpt-10"\n'
    )
    assert latest_checkpoint(tmp_path) == tmp_path / "model.ckpt-10"


def test_without_state_file_the_highest_step_wins(tmp_path: Path) -> None:
    for path in (LOGDIRS / "tf2_checkpoint").glob("embedding.ckpt-*"):
        shutil.copy(path, tmp_path / path.name)
    assert latest_checkpoint(tmp_path) == tmp_path / "embedding.ckpt-2"
    assert [p.name for p in checkpoint_prefixes(tmp_path)] == ["embedding.ckpt-1", "embedding.ckpt-2"]
    assert latest_checkpoint(tmp_path / "missing") is None


# --- corrupt files ------------------------------------------------------------------


@pytest.fixture
def tf2_copy(tmp_path: Path) -> Path:
    shutil.copytree(LOGDIRS / "tf2_checkpoint", tmp_path / "run")
    return tmp_path / "run"


@pytest.mark.parametrize(
    ("keep", "fragment"),
    [
        (0, "shorter than the 48-byte footer"),
        (30, "shorter than the 48-byte footer"),
        (300, "bad magic number"),
        (-3, "bad magic number"),
    ],
)
def test_truncated_index(tf2_copy: Path, keep: int, fragment: str) -> None:
    index = tf2_copy / "embedding.ckpt-2.index"
    data = index.read_bytes()
    index.write_bytes(data[:keep])
    with pytest.raises(LogdirError, match=fragment) as info:
        Checkpoint(tf2_copy / "embedding.ckpt-2")
    assert "embedding.ckpt-2.index" in str(info.value)


def test_index_with_bytes_missing_before_the_footer(tf2_copy: Path) -> None:
    index = tf2_copy / "embedding.ckpt-2.index"
    data = index.read_bytes()
    index.write_bytes(data[:100] + data[-48:])  # footer intact, blocks gone
    with pytest.raises(LogdirError, match="truncated or corrupt index"):
        Checkpoint(tf2_copy / "embedding.ckpt-2")


def test_index_block_checksum(tf2_copy: Path) -> None:
    index = tf2_copy / "embedding.ckpt-2.index"
    data = bytearray(index.read_bytes())
    data[20] ^= 0x01  # inside the data block
    index.write_bytes(bytes(data))
    with pytest.raises(LogdirError, match="checksum mismatch in the index block"):
        Checkpoint(tf2_copy / "embedding.ckpt-2")


def test_tensor_checksum(tf2_copy: Path) -> None:
    ckpt = Checkpoint(tf2_copy / "embedding.ckpt-2")
    name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
    entry = ckpt.entry(name)
    data_file = ckpt.data_path(0)
    data = bytearray(data_file.read_bytes())
    data[entry.offset + 17] ^= 0x40
    data_file.write_bytes(bytes(data))
    with pytest.raises(LogdirError, match=r"checksum mismatch for tensor 'embedding/\.ATTRIBUTES/VARIABLE_VALUE'"):
        ckpt.read(name)
    assert Checkpoint(tf2_copy / "embedding.ckpt-2", verify=False).read(name).shape == (30, 8)


def test_truncated_data_file(tf2_copy: Path) -> None:
    ckpt = Checkpoint(tf2_copy / "embedding.ckpt-2")
    data_file = ckpt.data_path(0)
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.raises(LogdirError, match="data file is truncated"):
        ckpt.read("embedding/.ATTRIBUTES/VARIABLE_VALUE")


def test_missing_index(tmp_path: Path) -> None:
    with pytest.raises(LogdirError, match="checkpoint index not found"):
        Checkpoint(tmp_path / "nothing")


# --- hand-built tables ----------------------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_hand_built_multi_block_table(tmp_path: Path, compress: bool) -> None:
    rng = np.random.default_rng(0)
    tensors = {f"layer{i:02d}/kernel": (1, rng.standard_normal((3, i + 1)).astype(np.float32)) for i in range(10)}
    prefix = write_bundle(tmp_path / "hand", tensors, compress)
    ckpt = Checkpoint(prefix)
    assert set(ckpt.variables()) == set(tensors)
    for name, (_, array) in tensors.items():
        assert bits_equal(ckpt.read(name), array)


def test_unknown_dtype_code(tmp_path: Path) -> None:
    prefix = write_bundle(tmp_path / "hand", {"mystery": (99, np.zeros((2, 2), np.float32))}, compress=False)
    ckpt = Checkpoint(prefix)
    assert ckpt.variables()["mystery"] == ("unknown dtype 99", (2, 2))
    with pytest.raises(LogdirError, match="unknown dtype 99"):
        ckpt.read("mystery")


def test_unknown_block_compression(tmp_path: Path) -> None:
    prefix = write_bundle(tmp_path / "hand", {"a": (1, np.zeros((2, 2), np.float32))}, compress=False)
    index = Path(f"{prefix}.index")
    data = bytearray(index.read_bytes())
    # block 0 holds the header and "a"; give its trailer compression type 7 and a matching checksum
    contents = table_block(read_table(index), restart_interval=2)
    data[len(contents)] = 7
    data[len(contents) + 1 : len(contents) + 5] = struct.pack("<I", mask(crc32c(contents + b"\x07")))
    index.write_bytes(bytes(data))
    with pytest.raises(LogdirError, match="unknown compression type 7"):
        Checkpoint(prefix)


# --- CRC32C ---------------------------------------------------------------------------


def _crc32c_reference(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_known_values() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    assert mask(crc32c(b"")) == 0xA282EAD8
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros
    assert crc32c(b"\xff" * 32) == 0x62A8AB43


def test_crc32c_against_bitwise_reference() -> None:
    rng = np.random.default_rng(1)
    for n in [1, 7, 8, 9, 15, 16, 17, 63, 100, 1001]:
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        assert crc32c(data) == _crc32c_reference(data), n
        assert crc32c(data[n // 2 :], crc32c(data[: n // 2])) == crc32c(data)  # continuation
    array = rng.standard_normal((20, 9)).astype(np.float32)
    assert crc32c(array[:, ::2]) == _crc32c_reference(np.ascontiguousarray(array[:, ::2]).tobytes())


def test_mask_round_trip() -> None:
    for value in (0, 1, 0xFFFFFFFF, 0xE3069283, 0x80000000):
        assert unmask(mask(value)) == value


# --- Snappy ---------------------------------------------------------------------------


def test_snappy_vectors_from_python_snappy() -> None:
    vectors = json.loads((FIXTURES / "snappy_vectors.json").read_text())
    assert len(vectors) >= 5
    for vector in vectors:
        assert snappy_decompress(bytes.fromhex(vector["snappy"])) == bytes.fromhex(vector["raw"])


@pytest.mark.parametrize(
    ("compressed", "raw"),
    [
        (b"\x00", b""),
        (b"\x03\x08abc", b"abc"),
        # literal "ab", then a 1-byte-offset copy of length 4 at offset 2 (overlapping)
        (b"\x06\x04ab\x01\x02", b"abababab"[:6]),
        # literal "xyz", then a 2-byte-offset copy of length 6 at offset 3
        (b"\x09\x08xyz\x16\x03\x00", b"xyzxyzxyz"),
        # same with a 4-byte offset
        (b"\x09\x08xyz\x17\x03\x00\x00\x00", b"xyzxyzxyz"),
        # literal length in one extra byte (tag 60 << 2)
        (b"\x46\xf0\x45" + b"q" * 70, b"q" * 70),
        # literal length in two extra bytes (tag 61 << 2)
        (b"\x46\xf4\x45\x00" + b"r" * 70, b"r" * 70),
    ],
)
def test_snappy_hand_made_vectors(compressed: bytes, raw: bytes) -> None:
    assert snappy_decompress(compressed) == raw


@pytest.mark.parametrize(
    "bad",
    [b"", b"\x05\x08abc", b"\x03\x08ab", b"\x04\x01\x05", b"\x02\x04ab\x01\x05", b"\x80\x80\x80\x80\x80\x80"],
)
def test_snappy_malformed_input(bad: bytes) -> None:
    with pytest.raises(LogdirError, match="Snappy"):
        snappy_decompress(bad)
