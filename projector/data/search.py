"""Regular-expression search over metadata cells, bounded in memory and in time.

Patterns are RE2's (Python `re` syntax without backreferences or lookaround): compiling one
costs at most COMPILE_MEMORY bytes (a pattern needing more is refused, not built), and matching
is linear in the text, with a time budget on the whole search besides.
"""

from __future__ import annotations

import time
from typing import Any

import re2

from projector.data.metadata import Metadata
from projector.errors import InvalidParameter

MAX_PATTERN = 1000
SEARCH_SECONDS = 2.0
COMPILE_MEMORY = 8 * 1024 * 1024  # RE2's budget for the compiled program and its DFA cache


def invalid_regex(detail: str) -> InvalidParameter:
    return InvalidParameter(detail, code="invalid_regex", status=400)


def compile_pattern(pattern: str, ignore_case: bool = False) -> Any:
    """A compiled pattern with `.search(text)` (`re.search` semantics), within the memory budget."""
    if len(pattern) > MAX_PATTERN:
        raise invalid_regex(f"the search pattern is longer than {MAX_PATTERN} characters")
    options = re2.Options()
    options.max_mem = COMPILE_MEMORY
    options.case_sensitive = not ignore_case
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except (re2.error, ValueError, TypeError) as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        if "too large" in reason:
            reason += f" (compiling it would take more than {COMPILE_MEMORY // (1024 * 1024)} MiB)"
        raise invalid_regex(f"invalid regular expression {pattern!r}: {reason}") from None


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
    for i, row in enumerate(metadata.rows):
        for position in positions:
            if compiled.search(row[position]):
                hits.append(i)
                break
        if i & 255 == 0 and time.monotonic() > deadline:
            raise InvalidParameter(f"the search took longer than {budget:g} s; simplify the pattern", code="regex_timeout", status=400)
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
