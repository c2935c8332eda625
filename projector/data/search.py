"""Regular-expression search over metadata cells, bounded in memory and in time.

Patterns are RE2's (Python `re` syntax without backreferences or lookaround): compiling one
costs at most COMPILE_MEMORY bytes (a pattern needing more is refused, not built), and matching
is linear in the text, with a time budget on the whole search besides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
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


def cell_matcher(pattern: str, ignore_case: bool = False) -> Callable[[str], bool]:
    """Whether a cell contains a match of `pattern` (checked as `compile_pattern` checks it).

    An RE2 set of this one pattern answers the same question as `.search` in a single call into
    RE2, without the wrapper's offset bookkeeping: 2 to 3 times faster per cell.
    """
    compiled = compile_pattern(pattern, ignore_case)
    matcher = re2.Set.SearchSet(compiled.options)
    try:
        matcher.Add(pattern)
        matcher.Compile()
    except re2.error:  # not expected once compile_pattern accepted it; keep the plain search
        return lambda cell: compiled.search(cell) is not None
    return lambda cell: matcher.Match(cell) is not None


def search(
    metadata: Metadata, pattern: str, column: str | None = None, limit: int = 1000, ignore_case: bool = False,
    budget: float = SEARCH_SECONDS,
) -> tuple[int, list[int]]:  # fmt: skip
    """Rows with a cell matching `pattern` (`re.search` semantics) in `column`, or in any column.

    Returns the total count and the first `limit` row indices in row order.
    """
    matches = cell_matcher(pattern, ignore_case)
    if column is not None and column not in metadata.columns:
        raise InvalidParameter(f"no metadata column {column!r}; columns: {metadata.columns}")
    positions = [metadata.columns.index(column)] if column is not None else range(len(metadata.columns))
    deadline = time.monotonic() + budget
    found = np.zeros(len(metadata.rows), dtype=bool)
    for position in positions:
        cells = [row[position] for row in metadata.rows]
        # Each distinct cell is matched once: most columns repeat a few values (topic, year, class).
        matching = set()
        for k, cell in enumerate(dict.fromkeys(cells)):
            if matches(cell):
                matching.add(cell)
            if k & 255 == 0 and time.monotonic() > deadline:
                raise InvalidParameter(f"the search took longer than {budget:g} s; simplify the pattern", code="regex_timeout", status=400)
        if matching:
            found |= np.fromiter(map(matching.__contains__, cells), dtype=bool, count=len(cells))
    hits = np.flatnonzero(found)
    return len(hits), hits[:limit].tolist()


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
