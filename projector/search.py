"""Regular-expression search over metadata cells."""

from __future__ import annotations

import re

from projector.errors import InvalidParameter
from projector.metadata import Metadata

MAX_PATTERN = 1000


def compile_pattern(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    if len(pattern) > MAX_PATTERN:
        raise InvalidParameter(f"the search pattern is longer than {MAX_PATTERN} characters", code="invalid_regex", status=400)
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise InvalidParameter(f"invalid regular expression {pattern!r}: {exc}", code="invalid_regex", status=400) from None


def search(metadata: Metadata, pattern: str, column: str | None = None, limit: int = 1000, ignore_case: bool = False) -> tuple[int, list[int]]:
    """Rows with a cell matching `pattern` (`re.search` semantics) in `column`, or in any column.

    Returns the total count and the first `limit` row indices in row order.
    """
    regex = compile_pattern(pattern, ignore_case)
    if column is not None:
        if column not in metadata.columns:
            raise InvalidParameter(f"no metadata column {column!r}; columns: {metadata.columns}")
        position = metadata.columns.index(column)
        hits = [i for i, row in enumerate(metadata.rows) if regex.search(row[position])]
    else:
        hits = [i for i, row in enumerate(metadata.rows) if any(regex.search(cell) for cell in row)]
    return len(hits), hits[:limit]


def find_row(metadata: Metadata, column: str, value: str) -> int:
    """The first row whose `column` equals `value` exactly."""
    if column not in metadata.columns:
        raise InvalidParameter(f"no metadata column {column!r}; columns: {metadata.columns}")
    position = metadata.columns.index(column)
    for i, row in enumerate(metadata.rows):
        if row[position] == value:
            return i
    raise InvalidParameter(f"no row has {column} = {value!r}", code="no_match", status=404)
