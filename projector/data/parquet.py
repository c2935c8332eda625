"""Parquet in: one list column of numbers is the tensor, the other columns are metadata with their types.

The file is read batch by batch (`ParquetFile.iter_batches`): each batch's embedding values are
checked (no nulls, one length for every row, finite) and written into the float32 `.npy` at once,
so the tensor is never in memory whole; metadata cells become strings as the service keeps them,
with each column's type recorded (`Metadata.dtypes`) so exports give the same types back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from projector.data.formats import Progress, check_finite_rows, check_shape
from projector.data.ingest import ingest
from projector.data.metadata import MAX_CELLS, MAX_COLUMNS, Metadata, index_metadata
from projector.data.store import Store
from projector.errors import InvalidInput, PayloadTooLarge
from projector.logdir.errors import plural

MEDIA_TYPES = ("application/vnd.apache.parquet", "application/x-parquet", "application/parquet")
MAGIC = b"PAR1"
BATCH_BYTES = 16 * 1024 * 1024  # embedding values decoded at once
PANDAS_INDEX = "__index_level_"  # pandas writes a non-default index as such columns: not metadata
# Text the metadata columns may decode to (as --max-metadata-mb's default): a dictionary-encoded
# column of one long string repeated on every row is a few bytes in the file and gigabytes decoded.
MAX_METADATA_TEXT = 512 * 1024 * 1024


def invalid_parquet(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="invalid_parquet")


def is_parquet(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(4) == MAGIC


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind)
        or pa.types.is_list_view(kind) or pa.types.is_large_list_view(kind)
    )  # fmt: skip


def _is_number(kind: pa.DataType) -> bool:
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def _has_binary(kind: pa.DataType) -> bool:
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind) or pa.types.is_binary_view(kind):
        return True
    return any(_has_binary(kind.field(i).type) for i in range(kind.num_fields))


def embedding_column(schema: pa.Schema, name: str | None) -> str:
    """The column holding the embedding: `name`, or the only list-of-numbers column."""
    if name is not None:
        if name not in schema.names:
            raise invalid_parquet(f"the Parquet file has no column {name!r}; its columns: {schema.names[:50]}")
        kind = schema.field(name).type
        if not _is_list(kind):
            raise invalid_parquet(f"column {name!r} is {kind}, not a list of numbers; the embedding must be a list column")
        if not _is_number(kind.value_type):
            raise invalid_parquet(f"column {name!r} holds lists of {kind.value_type}, not numbers")
        return name
    lists = [f.name for f in schema if _is_list(f.type)]
    numeric = [f.name for f in schema if _is_list(f.type) and _is_number(f.type.value_type)]
    if len(numeric) == 1:
        return numeric[0]
    if len(numeric) > 1:
        raise invalid_parquet(
            f"the Parquet file has {len(numeric)} list columns {numeric[:20]}; name the embedding with embedding=COL (projector load --embedding COL)"
        )
    if lists:
        raise invalid_parquet(f"the Parquet file's list columns {lists[:20]} hold no numbers; the embedding must be a list of numbers")
    raise invalid_parquet(f"the Parquet file has no list column to take as the embedding; its columns: {schema.names[:50]}")


def _metadata_fields(schema: pa.Schema, embedding: str) -> list[pa.Field]:
    """Columns kept as metadata: all but the embedding, other embeddings, binary data and a pandas index."""
    kept = []
    for f in schema:
        if f.name == embedding or f.name.startswith(PANDAS_INDEX) or _has_binary(f.type):
            continue
        if _is_list(f.type) and _is_number(f.type.value_type):
            continue
        kept.append(f)
    return kept


def dtype_name(kind: pa.DataType) -> str:
    """The type a metadata column is kept as: a NumPy number type, "bool" or "string"."""
    if pa.types.is_dictionary(kind):
        return dtype_name(kind.value_type)
    if _is_number(kind):
        return np.dtype(kind.to_pandas_dtype()).name
    if pa.types.is_decimal(kind):
        return "float64"
    if pa.types.is_boolean(kind):
        return "bool"
    return "string"


def _json_default(value: Any) -> str:
    return f"<{len(value)} bytes>" if isinstance(value, bytes) else str(value)


def metadata_cells(column: pa.Array) -> list[str]:
    """A metadata column's cells as strings ("" for null); numbers in their shortest exact form."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    kind = column.type
    if pa.types.is_null(kind):
        return [""] * len(column)
    if kind.num_fields or pa.types.is_map(kind):  # lists of strings, structs: JSON text
        return ["" if v is None else orjson.dumps(v, default=_json_default).decode() for v in column.to_pylist()]
    try:
        text = pc.cast(column, pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        text = pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())
    return ["" if v is None else v for v in text.to_pylist()]


def _batch_rows(parquet: pq.ParquetFile, column: str, fixed: int | None) -> int:
    """Rows per batch so that one batch's embedding values stay near BATCH_BYTES."""
    dim = fixed
    meta = parquet.metadata
    if dim is None and meta.num_row_groups and meta.row_group(0).num_rows:
        for i in range(meta.num_columns):
            leaf = meta.row_group(0).column(i)
            if leaf.path_in_schema.split(".")[0] == column:
                dim = max(1, leaf.num_values // meta.row_group(0).num_rows)
                break
    return max(1, BATCH_BYTES // (8 * (dim or 1024)))


def _embedding_chunk(values: pa.Array, first_row: int, dim: int, column: str) -> np.ndarray:
    """One batch of the embedding column as a float32 (rows, dim) array, after checking every row."""
    if values.null_count:
        row = first_row + int(np.argmax(values.is_null().to_numpy(zero_copy_only=False)))
        raise invalid_parquet(f"the embedding column {column!r} is null in row {row}")
    if not pa.types.is_fixed_size_list(values.type):
        lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
        ragged = np.flatnonzero(lengths != dim)
        if len(ragged):
            row = first_row + int(ragged[0])
            raise invalid_parquet(
                f"the embedding column {column!r} has {plural(int(lengths[ragged[0]]), 'value')} in row {row} but {dim} in row 0;"
                " every row needs the same length"
            )
    flat = values.flatten()
    if flat.null_count:
        row = first_row + int(np.argmax(flat.is_null().to_numpy(zero_copy_only=False))) // dim
        raise invalid_parquet(f"the embedding column {column!r} has a null value in row {row}")
    chunk = np.asarray(flat.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, dim)
    try:
        check_finite_rows(chunk, first_row)
    except InvalidInput as exc:
        raise invalid_parquet(exc.detail) from None
    return chunk


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind))


def _text_bytes(column: pa.Array) -> int:
    """The bytes of text a metadata column decodes to, counted before it is decoded."""
    if pa.types.is_dictionary(column.type):
        if not _is_text(column.dictionary.type):
            return 0
        return int(pc.sum(pc.take(pc.binary_length(column.dictionary), column.indices)).as_py() or 0)
    return int(pc.sum(pc.binary_length(column)).as_py() or 0) if _is_text(column.type) else 0


def _check_declared_text(parquet: pq.ParquetFile, names: set[str]) -> None:
    """The footer's uncompressed sizes of the metadata columns, before any page is read."""
    meta = parquet.metadata
    declared = sum(
        meta.row_group(g).column(c).total_uncompressed_size
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
        if meta.row_group(g).column(c).path_in_schema.split(".")[0] in names
    )
    if declared > MAX_METADATA_TEXT:
        raise PayloadTooLarge(f"the Parquet metadata columns hold {declared:,} bytes; at most {MAX_METADATA_TEXT:,} are read")


def read_parquet(path: Path, embedding: str | None, dest: Path, *, limit: int | None = None, progress: Progress | None = None) -> Metadata:
    """Write the embedding column of a Parquet file to `dest` as a float32 `.npy`; returns the other columns."""
    try:
        schema = pq.ParquetFile(path).schema_arrow
        column = embedding_column(schema, embedding)
        fields = _metadata_fields(schema, column)
        # Text columns are read as dictionaries, so their decoded size is known before they are decoded.
        parquet = pq.ParquetFile(path, read_dictionary=[f.name for f in fields if _is_text(f.type)])
        _check_declared_text(parquet, {f.name for f in fields})
    except (pa.ArrowException, OSError) as exc:
        raise invalid_parquet(f"not a valid Parquet file: {exc}") from None
    kind = schema.field(column).type
    fixed = kind.list_size if pa.types.is_fixed_size_list(kind) else None
    n = parquet.metadata.num_rows
    if len(fields) > MAX_COLUMNS:
        raise invalid_parquet(f"the Parquet file has {len(fields)} metadata columns; at most {MAX_COLUMNS} are read")
    if n * len(fields) > MAX_CELLS:
        raise invalid_parquet(f"{n:,} rows × {len(fields)} metadata columns is more than {MAX_CELLS:,} metadata cells")
    cells: list[list[str]] = [[] for _ in fields]
    text = 0
    out: np.memmap | None = None
    dim = fixed or 0
    start = 0
    try:
        batches = parquet.iter_batches(_batch_rows(parquet, column, fixed), columns=[column] + [f.name for f in fields])
        for batch in batches:
            values = batch.column(column)
            if out is None:
                if not dim:
                    dim = _first_length(values)
                check_shape((n, dim))
                if limit is not None and n * dim * 4 > limit:
                    raise PayloadTooLarge(f"the embedding is {n:,} × {dim} float32 ({n * dim * 4:,} bytes), more than the upload limit")
                out = np.lib.format.open_memmap(dest, mode="w+", dtype="<f4", shape=(n, dim))
            if start + len(batch) > n:
                raise invalid_parquet(f"the Parquet file holds more rows than its footer declares ({n})")
            out[start : start + len(batch)] = _embedding_chunk(values, start, dim, column)
            text += sum(_text_bytes(batch.column(f.name)) for f in fields)
            if text > MAX_METADATA_TEXT:
                raise PayloadTooLarge(f"the Parquet metadata columns decode to more than {MAX_METADATA_TEXT:,} bytes of text")
            for index, f in enumerate(fields):
                cells[index] += metadata_cells(batch.column(f.name))
            start += len(batch)
            if progress is not None:
                progress(len(batch))
    except (pa.ArrowException, OSError) as exc:
        raise invalid_parquet(f"cannot read the Parquet file: {exc}") from None
    finally:
        if out is not None:
            out.flush()
            out = None  # unmapped before the file is moved
    if start == 0:
        check_shape((n, dim))
    if start != n:
        raise invalid_parquet(f"the Parquet file holds {start} rows but its footer declares {n}")
    if not fields:
        return index_metadata(n)
    return Metadata([f.name for f in fields], [list(row) for row in zip(*cells)], {f.name: dtype_name(f.type) for f in fields})


def _first_length(values: pa.Array) -> int:
    if len(values) == 0 or not values.is_valid()[0].as_py():
        raise invalid_parquet("the embedding column is null in row 0")
    return int(pc.list_value_length(values)[0].as_py())


def ingest_parquet(
    store: Store, path: Path, *, name: str, embedding: str | None = None, source: str = "upload",
    max_bytes: int | None = None, progress: Progress | None = None, sprite_file: Path | None = None,
    sprite_dim: tuple[int, int] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Store a Parquet file as a dataset: its embedding column as the tensor, the other columns as metadata."""
    tensor = store.temp_path("parquet-tensor")
    try:
        metadata = read_parquet(path, embedding, tensor, limit=max_bytes, progress=progress)
        return ingest(
            store, name=name, source=source, tensor_file=tensor, fmt="npy", metadata=metadata, consume=True,
            sprite_file=sprite_file, sprite_dim=sprite_dim,
        )  # fmt: skip
    finally:
        tensor.unlink(missing_ok=True)
