"""Metadata tables: TensorBoard's metadata TSV in, the `{"columns", "rows"}` JSON out."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson

from projector.data.atomic import atomic_write
from projector.errors import InvalidInput
from projector.logdir.errors import plural

MAX_COLUMNS = 1000
MAX_CELLS = 25_000_000  # rows × columns held as Python strings (~60 bytes each at worst)
MAX_LINE_BYTES = 16 * 1024 * 1024


@dataclass
class Metadata:
    columns: list[str]
    rows: list[list[str]]
    # Column → the type its cells were written from ("int64", "float32", "bool", "string", ...), when known
    # (Parquet and pandas uploads): exports convert the cells back to it, and it decides numeric vs categorical.
    dtypes: dict[str, str] = field(default_factory=dict)

    def column(self, name: str) -> list[str]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


def invalid_metadata(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="invalid_metadata")


def index_metadata(n: int) -> Metadata:
    """The metadata of a dataset uploaded without any: one column `index`."""
    return Metadata(["index"], [[str(i)] for i in range(n)])


def _unique_names(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for position, name in enumerate(names, start=1):
        name = name.strip() or f"column_{position}"
        candidate, suffix = name, 2
        while candidate in seen:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(candidate)
        out.append(candidate)
    return out


MetadataSource = bytes | Path | BinaryIO


def _logical_lines(f: BinaryIO) -> Iterator[str]:
    """Lines as TensorBoard splits them (`\\n`, `\\r\\n` or a lone `\\r`), decoded from UTF-8 (a BOM is dropped)."""
    number = 0
    while raw := f.readline(MAX_LINE_BYTES + 1):
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise invalid_metadata(f"metadata line {number} is longer than {MAX_LINE_BYTES // (1024 * 1024)} MiB")
        if raw.endswith(b"\r\n"):
            raw = raw[:-2]
        elif raw.endswith((b"\n", b"\r")):  # "\r" only on a last line without "\n"
            raw = raw[:-1]
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError:
            raise invalid_metadata(f"metadata is not UTF-8 text (invalid byte at line {number})") from None
        start = 0  # a lone "\r" ends a line too; split lazily (16 MiB of "\r" would be a list of 16 million)
        while (end := text.find("\r", start)) >= 0:
            yield text[start:end]
            start = end + 1
        yield text[start:]


def _cells(line: str, number: int, columns: int) -> list[str]:
    cells = line.count("\t") + 1  # counted before splitting: a hostile line cannot make millions of strings
    if cells != columns:
        raise invalid_metadata(f"metadata line {number} has {plural(cells, 'cell')} but the header has {columns}")
    return line.split("\t")


def parse_metadata_tsv(source: MetadataSource, n_rows: int | None = None) -> Metadata:
    """Parse metadata the way TensorBoard does, as a stream: reading stops one row past `n_rows`.

    A first line with a tab is a header of column names; otherwise the file is one column
    named `label` without a header. So a one-column file with one line more than the tensor
    has rows (a header line, as `add_embedding(metadata_header=["x"])` writes) is refused, as
    TensorBoard's page refuses it, with a detail that says why.
    CRLF line ends and a UTF-8 byte-order mark are accepted. `source` is the TSV's bytes, a
    file, or an open binary file.
    """
    if isinstance(source, Path):
        with open(source, "rb") as f:
            return parse_metadata_tsv(f, n_rows)
    if isinstance(source, bytes):
        return parse_metadata_tsv(io.BytesIO(source), n_rows)
    lines = _logical_lines(source)
    first = next(lines, None)
    if first is None:
        raise invalid_metadata("the metadata file is empty")
    width = first.count("\t") + 1
    if width > MAX_COLUMNS:
        raise invalid_metadata(f"metadata has {width} columns; at most {MAX_COLUMNS} are supported")
    if n_rows is not None and n_rows * width > MAX_CELLS:
        raise invalid_metadata(f"{n_rows:,} rows × {width} columns is more than {MAX_CELLS:,} metadata cells")
    most = None if n_rows is None else n_rows + (width == 1)  # one line more names a one-column header as such
    rows: list[list[str]] = []
    if width > 1:
        header = first.split("\t")
        for number, line in enumerate(lines, start=2):
            if most is not None and len(rows) >= most:
                raise _mismatch(f"more than {n_rows}", n_rows)
            rows.append(_cells(line, number, width))
        metadata = Metadata(_unique_names(header), rows)
    else:
        rows.append([first])
        for line in lines:
            if most is not None and len(rows) >= most:
                raise _mismatch(f"more than {most}", n_rows)
            rows.append([line])
        if n_rows is not None and len(rows) == n_rows + 1:
            raise InvalidInput(
                f"metadata has {n_rows + 1} lines but the tensor has {n_rows} rows: a one-column metadata file has no header line"
                " (a first line is a header only when it has a tab, as in TensorBoard); remove the first line or add a second column",
                code="metadata_mismatch",
            )
        metadata = Metadata(["label"], rows)
    if n_rows is not None and len(metadata.rows) != n_rows:
        raise _mismatch(str(len(metadata.rows)), n_rows)
    return metadata


def _mismatch(count: str, n_rows: int | None) -> InvalidInput:
    rows = "row" if count == "1" else "rows"
    return InvalidInput(f"metadata has {count} {rows} but the tensor has {n_rows}", code="metadata_mismatch")


MAX_CLASS_IDS = 12  # an integer column with at most this many values is a set of classes
NON_NUMERIC_DTYPES = ("string", "bool")


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def column_types(metadata: Metadata) -> dict[str, str]:
    """Each column is "numeric" when every non-empty cell is a finite number, else "categorical".

    Integer columns with only a few distinct values (class ids such as digit labels) are categorical.
    """
    types = {}
    for index, name in enumerate(metadata.columns):
        if name in metadata.dtypes:
            types[name] = "categorical" if metadata.dtypes[name] in NON_NUMERIC_DTYPES else "numeric"
            continue
        values = [_number(row[index]) for row in metadata.rows if row[index] != ""]
        numeric = bool(values) and all(v is not None for v in values)
        if numeric and all(float(v).is_integer() for v in values) and len(set(values)) <= MAX_CLASS_IDS:  # type: ignore[arg-type]
            numeric = False
        types[name] = "numeric" if numeric else "categorical"
    return types


def write_metadata_json(metadata: Metadata, dest: Path) -> None:
    """Write the API's `{"columns", "rows"}` form, so the metadata route can send the file as is."""
    doc: dict[str, object] = {"columns": metadata.columns, "rows": metadata.rows}
    if metadata.dtypes:
        doc["dtypes"] = metadata.dtypes
    atomic_write(dest, orjson.dumps(doc))


def read_metadata_json(path: Path) -> Metadata:
    doc = orjson.loads(path.read_bytes())
    return Metadata(doc["columns"], doc["rows"], doc.get("dtypes") or {})
