"""Exports: a dataset (tensor + metadata) or a projection (metadata + x, y, z) as Parquet, CSV or .npy.

Tables are built in row batches from the memory-mapped arrays and written batch by batch, each
batch leaving as bytes at once: memory stays at one batch plus the metadata the store already holds.
Metadata cells go back to the type they were uploaded with (`Metadata.dtypes`); columns without a
recorded type are integers, floats or strings by their `column_types`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from projector.data.metadata import Metadata

BATCH_BYTES = 8 * 1024 * 1024  # float32 payload per written batch (one Parquet row group)
MAX_BATCH_ROWS = 65536
COORDINATE_NAMES = ("x", "y", "z")
FORMATS = ("parquet", "csv", "npy")


def _arrow_type(dtype: str) -> pa.DataType:
    if dtype == "bool":
        return pa.bool_()
    return pa.from_numpy_dtype(np.dtype(dtype))


def typed_column(cells: list[str], dtype: str | None, column_type: str) -> pa.Array:
    """A metadata column as Arrow: back to its recorded type ("" is null), else numbers when numeric, else text."""
    text = pa.array(cells, pa.string())
    if dtype == "string" or (dtype is None and column_type != "numeric"):
        return text
    nullable = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    for target in [_arrow_type(dtype)] if dtype is not None else [pa.int64(), pa.float64()]:
        try:
            return pc.cast(nullable, target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, TypeError):
            continue  # an edited cell no longer fits the type: keep the column as text
    return text


def _free_name(name: str, taken: set[str]) -> str:
    candidate, suffix = name, 1
    while candidate in taken:
        candidate, suffix = f"{name}_{suffix}", suffix + 1
    return candidate


def metadata_columns(metadata: Metadata, column_types: dict[str, str], reserved: tuple[str, ...]) -> dict[str, pa.Array]:
    """Every metadata column as a typed Arrow array; a column named like a `reserved` one gets a suffix."""
    columns: dict[str, pa.Array] = {}
    taken = set(reserved)
    for index, name in enumerate(metadata.columns):
        cells = [row[index] for row in metadata.rows]
        out_name = _free_name(name, taken)
        taken.add(out_name)
        columns[out_name] = typed_column(cells, metadata.dtypes.get(name), column_types.get(name, "categorical"))
    return columns


def _batch_rows(width: int) -> int:
    return max(1, min(MAX_BATCH_ROWS, BATCH_BYTES // (4 * max(width, 1))))


def projection_batches(metadata: Metadata, column_types: dict[str, str], coords: np.ndarray) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The metadata columns followed by x, y (and z), in row order."""
    names = COORDINATE_NAMES[: coords.shape[1]]
    columns = metadata_columns(metadata, column_types, names)
    schema = pa.schema([pa.field(name, array.type) for name, array in columns.items()] + [pa.field(name, pa.float32()) for name in names])

    def batches() -> Iterator[pa.RecordBatch]:
        step = _batch_rows(coords.shape[1])
        for start in range(0, coords.shape[0], step):
            chunk = np.asarray(coords[start : start + step], dtype="<f4")
            arrays = [array.slice(start, len(chunk)) for array in columns.values()]
            arrays += [pa.array(np.ascontiguousarray(chunk[:, axis])) for axis in range(chunk.shape[1])]
            yield pa.record_batch(arrays, schema=schema)

    return schema, batches()


def dataset_batches(
    metadata: Metadata, column_types: dict[str, str], tensor: np.ndarray, embedding: str = "embedding"
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The tensor as a fixed-size-list float32 column named `embedding`, then the metadata columns."""
    n, dim = tensor.shape
    columns = metadata_columns(metadata, column_types, (embedding,))
    vector = pa.list_(pa.float32(), dim)
    schema = pa.schema([pa.field(embedding, vector)] + [pa.field(name, array.type) for name, array in columns.items()])

    def batches() -> Iterator[pa.RecordBatch]:
        step = _batch_rows(dim)
        for start in range(0, n, step):
            chunk = np.ascontiguousarray(tensor[start : start + step], dtype="<f4")
            arrays = [pa.FixedSizeListArray.from_arrays(pa.array(chunk.reshape(-1)), dim)]
            arrays += [array.slice(start, len(chunk)) for array in columns.values()]
            yield pa.record_batch(arrays, schema=schema)

    return schema, batches()


class _Sink(io.RawIOBase):
    """A write-only file that hands back what was written since the last `take`."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self._parts.append(bytes(data))
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def parquet_stream(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    """A Parquet file, one row group per batch, yielded as it is written."""
    sink = _Sink()
    writer = pq.ParquetWriter(sink, schema)
    try:
        for batch in batches:
            writer.write_batch(batch)
            yield sink.take()
    finally:
        writer.close()
    yield sink.take()


def csv_stream(schema: pa.Schema, batches: Iterator[pa.RecordBatch]) -> Iterator[bytes]:
    """CSV with a header line (RFC 4180 quoting), yielded batch by batch."""
    sink = _Sink()
    writer = pa_csv.CSVWriter(sink, schema)
    try:
        for batch in batches:
            writer.write_batch(batch)
            yield sink.take()
    finally:
        writer.close()
    yield sink.take()


def npy_stream(array: np.ndarray) -> Iterator[bytes]:
    """`array` as a little-endian float32 `.npy`, in row chunks."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": tuple(array.shape)})
    yield header.getvalue()
    step = _batch_rows(array.shape[1] if array.ndim == 2 else 1)
    for start in range(0, array.shape[0], step):
        yield np.ascontiguousarray(array[start : start + step], dtype="<f4").tobytes()
