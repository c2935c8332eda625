"""Metadata tables: TensorBoard's metadata TSV in, the `{"columns", "rows"}` JSON out."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from projector.data.atomic import atomic_write
from projector.errors import InvalidInput

MAX_COLUMNS = 1000
MAX_CELLS = 25_000_000  # rows × columns held as Python strings (~60 bytes each at worst)


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


def parse_metadata_tsv(data: bytes, n_rows: int | None = None) -> Metadata:
    """Parse metadata the way TensorBoard does.

    A first line with a tab is a header of column names; otherwise the file is one column
    named `label` without a header. A single column whose line count is exactly one more than
    the tensor's rows is taken as having a header (what `metadata_header=["x"]` writes).
    CRLF line ends and a UTF-8 byte-order mark are accepted.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_number = data[: exc.start].count(b"\n") + 1
        raise invalid_metadata(f"metadata is not UTF-8 text (invalid byte at line {line_number})") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise invalid_metadata("the metadata file is empty")
    if "\t" in lines[0]:
        header = lines[0].split("\t")
        if len(header) > MAX_COLUMNS:
            raise invalid_metadata(f"metadata has {len(header)} columns; at most {MAX_COLUMNS} are supported")
        rows = []
        for number, line in enumerate(lines[1:], start=2):
            cells = line.split("\t")
            if len(cells) != len(header):
                raise invalid_metadata(f"metadata line {number} has {len(cells)} cells but the header has {len(header)}")
            rows.append(cells)
        metadata = Metadata(_unique_names(header), rows)
    elif n_rows is not None and len(lines) == n_rows + 1:
        metadata = Metadata(_unique_names([lines[0]]), [[line] for line in lines[1:]])
    else:
        metadata = Metadata(["label"], [[line] for line in lines])
    if n_rows is not None and len(metadata.rows) != n_rows:
        raise InvalidInput(f"metadata has {len(metadata.rows)} rows but the tensor has {n_rows}", code="metadata_mismatch")
    return metadata


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
