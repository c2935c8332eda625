"""The one writer of metadata TSV: what TensorBoard's projector page and our own reader read the same way.

TensorBoard's page splits the file on ``\\n``, drops every line that is blank after JavaScript's
``trim()``, takes the first line as a header only when it has a tab, and reads an empty cell as
a missing value. So an empty label in a one-column file would vanish and shift every row after
it ("Number of tensors (300) do not match the number of lines in metadata (299)"). Here:

- a one-column file has no header; an empty, whitespace-only or None label is written as
  :data:`EMPTY_LABEL`;
- with several columns, the header is written; None and "" stay empty cells (missing values to
  both readers), but a row whose every cell would be blank gets :data:`EMPTY_LABEL` in its first;
- tabs and line breaks inside a value become spaces, a byte-order mark at the very start
  (which both readers drop) is not written; blank or repeated column names get the
  names our reader would give them (``column_<i>``, ``name_2``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import plural

__all__ = ["EMPTY_LABEL", "metadata_tsv"]

EMPTY_LABEL = "<empty>"
# What JavaScript's String.prototype.trim() removes (WhiteSpace and LineTerminator).
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def _blank(text: str) -> bool:
    return not text.strip(_JS_SPACE)


def _column_names(names: Sequence[Any]) -> list[str]:
    seen: set[str] = set()
    out = []
    for position, name in enumerate(names, start=1):
        base = _cell(name).strip() or f"column_{position}"
        candidate, suffix = base, 2
        while candidate in seen:
            candidate, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def _table(metadata: Any, header: Sequence[Any] | None) -> tuple[list[str] | None, list[list[Any]]]:
    """(column names or None for one unnamed column, rows)."""
    if hasattr(metadata, "columns") and hasattr(metadata, "itertuples"):  # a pandas DataFrame
        return [str(c) for c in metadata.columns], [list(r) for r in metadata.itertuples(index=False)]
    if isinstance(metadata, Mapping):
        columns = [list(v) for v in metadata.values()]
        if len({len(c) for c in columns}) > 1:
            raise ValueError(f"metadata columns have different lengths: {[len(c) for c in columns]}")
        return [str(k) for k in metadata], [list(r) for r in zip(*columns)]
    items = list(metadata)
    if items and all(isinstance(r, (list, tuple)) for r in items):
        rows = [list(r) for r in items]
        if header is None and len(rows[0]) > 1:
            raise ValueError("multi-column metadata needs metadata_header (the column names)")
        return (list(header) if header is not None else None), rows
    return None, [[r] for r in items]


def metadata_tsv(metadata: Any, n: int | None = None, header: Sequence[Any] | None = None) -> bytes:
    """Metadata as TensorBoard's TSV (UTF-8 bytes), one line per point.

    ``metadata`` is a sequence of labels (one column), a mapping of column name to values, a
    pandas DataFrame, or a sequence of rows with ``header`` naming the columns. ``n`` is the
    number of points, when known. ValueError for mismatched lengths. One column is written
    without a header (TensorBoard's rule), so its name is not kept.
    """
    names, rows = _table(metadata, header)
    if n is not None and len(rows) != n:
        raise ValueError(f"metadata has {plural(len(rows), 'row')} but the tensor has {n}")
    width = len(names) if names is not None else (len(rows[0]) if rows else 1)
    for i, row in enumerate(rows):
        if len(row) != width:
            raise ValueError(f"metadata row {i} has {plural(len(row), 'value')}; every row needs {width}, one per column")
    lines = []
    if width > 1:
        lines.append("\t".join(_column_names(names or [])))
    for row in rows:
        cells = [_cell(v) for v in row]
        if all(_blank(c) for c in cells):
            cells[0] = EMPTY_LABEL
        lines.append("\t".join(cells))
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0].lstrip("\ufeff") or EMPTY_LABEL  # both readers drop a leading byte-order mark
    return "".join(line + "\n" for line in lines).encode("utf-8")
