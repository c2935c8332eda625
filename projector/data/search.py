"""Regular-expression search over metadata cells, with a time budget.

Uses the `regex` package (re-compatible syntax) because, unlike `re`, it can stop a search
after a timeout: a catastrophic pattern costs the server at most SEARCH_SECONDS.
"""

from __future__ import annotations

import time
from typing import Any

import regex

from projector.data.metadata import Metadata
from projector.errors import InvalidParameter

MAX_PATTERN = 1000
SEARCH_SECONDS = 2.0


def compile_pattern(pattern: str, ignore_case: bool = False) -> Any:
    if len(pattern) > MAX_PATTERN:
        raise InvalidParameter(f"the search pattern is longer than {MAX_PATTERN} characters", code="invalid_regex", status=400)
    try:
        return regex.compile(pattern, regex.IGNORECASE if ignore_case else 0)
    except (regex.error, ValueError, OverflowError) as exc:
        raise InvalidParameter(f"invalid regular expression {pattern!r}: {exc}", code="invalid_regex", status=400) from None


def search(
    metadata: Metadata, pattern: str, column: str | None = None, limit: int = 1000, ignore_case: bool = False,
    budget: float = SEARCH_SECONDS,
) -> tuple[int, list[int]]:  # fmt: skip
    """Rows with a cell matching `pattern` (`re.search` semantics) in `column`, or in any column.

    Returns the total count and the first `limit` row indices in row order.
    """
    compiled = compile_pattern(pattern, ignore_case)
    if column is not None and column not in metadata.columns:
        raise InvalidParameter(f"no metadata column {column!r}; columns: {metadata.columns}")
    positions = [metadata.columns.index(column)] if column is not None else range(len(metadata.columns))
    deadline = time.monotonic() + budget
    hits = []
    try:
        for i, row in enumerate(metadata.rows):
            for position in positions:
                if compiled.search(row[position], timeout=max(deadline - time.monotonic(), 1e-3)):
                    hits.append(i)
                    break
            if i & 1023 == 0 and time.monotonic() > deadline:
                raise TimeoutError
    except TimeoutError:
        raise InvalidParameter(
            f"the search took longer than {budget:g} s; simplify the pattern", code="regex_timeout", status=400
        ) from None
    return len(hits), hits[:limit]


def find_row(metadata: Metadata, column: str, value: str) -> tuple[int, int]:
    """The first row whose `column` equals `value` exactly, and how many rows do."""
    if column not in metadata.columns:
        raise InvalidParameter(f"no metadata column {column!r}; columns: {metadata.columns}")
    position = metadata.columns.index(column)
    first, count = -1, 0
    for i, row in enumerate(metadata.rows):
        if row[position] == value:
            count += 1
            if first < 0:
                first = i
    if not count:
        raise InvalidParameter(f"no row has {column} = {value!r}", code="no_match", status=404)
    return first, count
