"""Reader for TensorFlow V2 checkpoints ("tensor bundles"): `<prefix>.index` + `<prefix>.data-*`."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._crc32c import crc32c, unmask
from ._paths import open_inside
from ._proto import as_int64, iter_fields
from ._table import read_table
from .errors import LogdirError
from .limits import MAX_TENSOR_VALUES

__all__ = ["FLOAT_DTYPES", "Checkpoint", "TensorEntry", "normalise_prefix"]

# DataType enum value -> (name, element width in bytes; 0 = variable width)
DTYPES: dict[int, tuple[str, int]] = {
    1: ("float32", 4),
    2: ("float64", 8),
    3: ("int32", 4),
    4: ("uint8", 1),
    5: ("int16", 2),
    6: ("int8", 1),
    7: ("string", 0),
    8: ("complex64", 8),
    9: ("int64", 8),
    10: ("bool", 1),
    11: ("qint8", 1),
    12: ("quint8", 1),
    13: ("qint32", 4),
    14: ("bfloat16", 2),
    15: ("qint16", 2),
    16: ("quint16", 2),
    17: ("uint16", 2),
    18: ("complex128", 16),
    19: ("float16", 2),
    20: ("resource", 0),
    21: ("variant", 0),
    22: ("uint32", 4),
    23: ("uint64", 8),
}
FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})
_NUMPY: dict[str, str] = {
    "float32": "f4",
    "float64": "f8",
    "float16": "f2",
    "bfloat16": "u2",
    "int32": "i4",
    "uint8": "u1",
    "int16": "i2",
    "int8": "i1",
    "int64": "i8",
    "bool": "u1",
    "uint16": "u2",
    "uint32": "u4",
    "uint64": "u8",
    "complex64": "c8",
    "complex128": "c16",
}


@dataclass
class TensorEntry:
    """One decoded BundleEntryProto: where a tensor's bytes are and what they are."""

    dtype: str
    shape: tuple[int, ...]
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    crc32c: int | None = None
    slices: list[list[tuple[int, int | None]]] = field(default_factory=list)

    @property
    def width(self) -> int:
        """Bytes per element, 0 for variable-width types."""
        return next((w for n, w in DTYPES.values() if n == self.dtype), 0)


def _parse_shape(buf: bytes, where: str) -> tuple[int, ...]:
    dims: list[int] = []
    for number, _, value in iter_fields(buf, where):
        if number == 2 and isinstance(value, bytes):
            size = 0
            for dnum, _, dval in iter_fields(value, where):
                if dnum == 1 and isinstance(dval, int):
                    size = as_int64(dval)
            dims.append(size)
        elif number == 3 and value:
            raise LogdirError(f"{where}: tensor has unknown rank")
    if any(d < 0 for d in dims):
        raise LogdirError(f"{where}: tensor has a dimension of unknown size {dims}")
    return tuple(dims)


def _parse_slice(buf: bytes, where: str) -> list[tuple[int, int | None]]:
    extents: list[tuple[int, int | None]] = []
    for number, _, value in iter_fields(buf, where):
        if number == 1 and isinstance(value, bytes):
            start, length = 0, None
            for enum, _, eval_ in iter_fields(value, where):
                if enum == 1 and isinstance(eval_, int):
                    start = as_int64(eval_)
                elif enum == 2 and isinstance(eval_, int):
                    length = as_int64(eval_)
            extents.append((start, length))
    return extents


def _parse_entry(buf: bytes, where: str) -> TensorEntry:
    dtype_code = 0
    shape: tuple[int, ...] = ()
    entry = TensorEntry(dtype="", shape=())
    for number, wire, value in iter_fields(buf, where):
        if number == 1 and isinstance(value, int):
            dtype_code = value
        elif number == 2 and isinstance(value, bytes):
            shape = _parse_shape(value, where)
        elif number == 3 and isinstance(value, int):
            entry.shard_id = as_int64(value)
        elif number == 4 and isinstance(value, int):
            entry.offset = as_int64(value)
        elif number == 5 and isinstance(value, int):
            entry.size = as_int64(value)
        elif number == 6 and wire == 5 and isinstance(value, int):
            entry.crc32c = value
        elif number == 7 and isinstance(value, bytes):
            entry.slices.append(_parse_slice(value, where))
    if dtype_code > 100:  # reference types (DT_FLOAT_REF = 101, ...) store like their base
        dtype_code -= 100
    entry.dtype = DTYPES.get(dtype_code, (f"unknown dtype {dtype_code}", 0))[0]
    entry.shape = shape
    return entry


# --- OrderedCode slice keys (partitioned tensors) --------------------------------------


def _ordered_unsigned(value: int) -> bytes:
    if value == 0:
        return b"\x00"
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(raw)]) + raw


def _ordered_signed(value: int) -> bytes:
    x = value if value >= 0 else ~value
    n = next(n for n in range(1, 11) if x < 1 << (7 * n - 1))
    bits = 8 * n
    encoded = (value % (1 << bits)) ^ (((1 << n) - 1) << (bits - n))
    return encoded.to_bytes(n, "big")


def slice_key(name: str, extents: list[tuple[int, int | None]]) -> bytes:
    """The table key TensorFlow stores one slice of a partitioned tensor under."""
    escaped = name.encode("utf-8")
    escaped = b"".join(b"\x00\xff" if b == 0 else b"\xff\x00" if b == 0xFF else bytes([b]) for b in escaped)
    key = b"\x00" + escaped + b"\x00\x01" + _ordered_unsigned(len(extents))
    for start, length in extents:
        key += _ordered_signed(start) + _ordered_signed(-1 if length is None else length)
    return key


# --- the reader ------------------------------------------------------------------------


def normalise_prefix(prefix: str | Path) -> Path:
    """A checkpoint prefix, given as the prefix itself or as its `.index` file."""
    text = os.fspath(prefix)
    text = text.removesuffix(".index")
    return Path(text)


class Checkpoint:
    """A TensorFlow V2 checkpoint, opened by prefix (e.g. ``logs/embedding.ckpt-1``).

    The .index is read on construction; tensor bytes are read only by :meth:`read`. Every
    file must lie inside ``root`` (default: the checkpoint's folder) when it is opened.
    """

    def __init__(self, prefix: str | Path, verify: bool = True, root: Path | None = None) -> None:
        self.prefix = normalise_prefix(prefix)
        self.index_path = Path(f"{self.prefix}.index")
        self.root = Path(os.path.realpath(root if root is not None else self.prefix.parent))
        self.verify = verify
        self.num_shards = 1
        self.big_endian = False
        self._entries: dict[str, TensorEntry] = {}
        self._slices: dict[bytes, TensorEntry] = {}
        self._load_index()

    def _load_index(self) -> None:
        source = str(self.index_path)
        if not self.index_path.exists():
            raise LogdirError(f"{source}: checkpoint index not found")
        table = read_table(self.index_path, verify=self.verify, root=self.root)
        if not table or table[0][0] != b"":
            raise LogdirError(f"{source}: not a tensor bundle (no header entry)")
        for number, _, value in iter_fields(table[0][1], f"{source}: header"):
            if number == 1 and isinstance(value, int):
                self.num_shards = as_int64(value)
            elif number == 2 and isinstance(value, int):
                self.big_endian = value == 1
        if self.num_shards < 1:
            raise LogdirError(f"{source}: header says {self.num_shards} data shards")
        for key, value in table[1:]:
            if key.startswith(b"\x00"):
                self._slices[key] = _parse_entry(value, f"{source}: slice entry")
                continue
            name = key.decode("utf-8", "replace")
            self._entries[name] = _parse_entry(value, f"{source}: entry {name!r}")

    def __repr__(self) -> str:
        return f"Checkpoint({str(self.prefix)!r})"

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def data_path(self, shard_id: int) -> Path:
        """Path of data shard ``shard_id``."""
        return Path(f"{self.prefix}.data-{shard_id:05d}-of-{self.num_shards:05d}")

    def variables(self) -> dict[str, tuple[str, tuple[int, ...]]]:
        """{tensor name: (dtype name, shape)} for every stored tensor (slice pieces hidden)."""
        return {name: (e.dtype, e.shape) for name, e in self._entries.items()}

    def entry(self, name: str) -> TensorEntry:
        """The index entry of ``name``; LogdirError if absent."""
        try:
            return self._entries[name]
        except KeyError:
            raise LogdirError(f"{self.index_path}: no tensor named {name!r} in the checkpoint") from None

    def shards_of(self, name: str) -> list[int]:
        """Data shard ids holding ``name``'s bytes."""
        entry = self.entry(name)
        return sorted({p.shard_id for p in self._pieces(name, entry)})

    def _pieces(self, name: str, entry: TensorEntry) -> list[TensorEntry]:
        if not entry.slices:
            return [entry]
        pieces = []
        for extents in entry.slices:
            if len(extents) != len(entry.shape):
                raise LogdirError(f"{self.index_path}: slice of {name!r} has the wrong rank")
            piece = self._slices.get(slice_key(name, extents))
            if piece is None:
                raise LogdirError(f"{self.index_path}: missing slice {extents} of tensor {name!r}")
            pieces.append(piece)
        return pieces

    def _check_piece(self, name: str, piece: TensorEntry, file_size: int | None) -> None:
        needed = math.prod(piece.shape) * piece.width
        if piece.size != needed:
            raise LogdirError(
                f"{self.index_path}: tensor {name!r} says {piece.size} bytes but shape {list(piece.shape)} of {piece.dtype} needs {needed}"
            )
        if not 0 <= piece.shard_id < self.num_shards:
            raise LogdirError(f"{self.index_path}: tensor {name!r} is in shard {piece.shard_id} of {self.num_shards}")
        if piece.offset < 0:
            raise LogdirError(f"{self.index_path}: tensor {name!r} has a negative offset")
        if file_size is not None and piece.offset + piece.size > file_size:
            raise LogdirError(
                f"{self.data_path(piece.shard_id)}: data file is truncated: tensor {name!r} needs bytes "
                f"{piece.offset}..{piece.offset + piece.size}, the file has {file_size}"
            )

    def check(self, name: str) -> None:
        """Check the declared shape and byte ranges of ``name`` against the limits and the
        data files' sizes, reading no tensor bytes. LogdirError names the first problem."""
        entry = self.entry(name)
        count = math.prod(entry.shape)
        if count > MAX_TENSOR_VALUES:
            raise LogdirError(
                f"{self.index_path}: tensor {name!r} declares shape {list(entry.shape)} "
                f"({count:,} values); at most {MAX_TENSOR_VALUES:,} are read"
            )
        for piece in self._pieces(name, entry):
            try:
                size = self.data_path(piece.shard_id).stat().st_size if 0 <= piece.shard_id < self.num_shards else None
            except OSError:
                size = None  # reported as missing by whoever opens it
            self._check_piece(name, piece, size)

    def read(self, name: str) -> np.ndarray:
        """The tensor ``name`` as float32 (float16/bfloat16/float64 are cast)."""
        entry = self.entry(name)
        if entry.dtype not in FLOAT_DTYPES:
            raise LogdirError(
                f"{self.index_path}: tensor {name!r} has dtype {entry.dtype}; "
                "only float16, bfloat16, float32 and float64 tensors can be shown"
            )
        self.check(name)  # before anything sized by the index is allocated
        raw = self._read_sliced(name, entry) if entry.slices else self._read_raw(name, entry)
        return _to_float32(raw, entry.dtype)

    def _read_sliced(self, name: str, entry: TensorEntry) -> np.ndarray:
        out = np.zeros(entry.shape, dtype=self._numpy_dtype(entry.dtype))
        for extents, piece_entry in zip(entry.slices, self._pieces(name, entry)):
            index = tuple(slice(start, dim if length is None else start + length) for (start, length), dim in zip(extents, entry.shape))
            if out[index].shape != piece_entry.shape:
                raise LogdirError(f"{self.index_path}: slice {extents} of {name!r} has shape {piece_entry.shape}")
            out[index] = self._read_raw(name, piece_entry)
        return out

    def _numpy_dtype(self, dtype: str) -> np.dtype:
        return np.dtype((">" if self.big_endian else "<") + _NUMPY[dtype])

    def _read_raw(self, name: str, entry: TensorEntry) -> np.ndarray:
        self._check_piece(name, entry, None)
        path = self.data_path(entry.shard_id)
        try:
            fh = open_inside(self.root, path, "checkpoint data file")
        except LogdirError as exc:
            if "not found" in str(exc):
                raise LogdirError(
                    f"{path}: missing data file (shard {entry.shard_id + 1} of {self.num_shards}) of checkpoint {self.prefix.name}"
                ) from None
            raise
        with fh:
            self._check_piece(name, entry, os.fstat(fh.fileno()).st_size)
            buf = np.empty(entry.size, dtype=np.uint8)
            try:
                fh.seek(entry.offset)
                got = fh.readinto(buf.data) if entry.size else 0
            except OSError as exc:
                raise LogdirError(f"{path}: cannot read ({exc.strerror})") from None
        if got != entry.size:
            raise LogdirError(f"{path}: data file is truncated: tensor {name!r} ends past the end of the file")
        if self.verify and entry.crc32c is not None and unmask(entry.crc32c) != crc32c(buf):
            raise LogdirError(f"{path}: checksum mismatch for tensor {name!r} (the file is corrupt)")
        return buf.view(self._numpy_dtype(entry.dtype)).reshape(entry.shape)


def _to_float32(raw: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "bfloat16":
        wide = raw.astype(np.uint32) << np.uint32(16)
        return wide.view(np.float32)
    if raw.dtype == np.float32 and raw.dtype.isnative:
        return raw
    return raw.astype(np.float32)
