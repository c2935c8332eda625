"""Row lists sent by clients (subsets, edits, selections): checked once, as sent, into an int64 array."""

from __future__ import annotations

from typing import Any

import numpy as np

from projector.errors import InvalidInput


def invalid_rows(detail: str) -> InvalidInput:
    return InvalidInput(detail, code="invalid_rows")


def check_rows(value: Any, n: int, *, minimum: int = 1, unique: bool = True, name: str = "rows") -> np.ndarray:
    """`value` as int64 row indices of a dataset of `n` rows, in the order given.

    Every entry must be an integer in [0, n) (booleans and floats are refused); with `unique`,
    no row may appear twice. Errors name the first offending entry as sent and its position.
    """
    if not isinstance(value, list):
        raise invalid_rows(f"`{name}` must be a list of row indices (integers from 0), got {type(value).__name__}")
    if len(value) < minimum:
        raise invalid_rows(f"`{name}` needs at least {minimum} row{'s' if minimum > 1 else ''}, got {len(value)}")
    if len(value) > n and unique:
        raise invalid_rows(f"`{name}` lists {len(value)} rows but the dataset has {n}")
    for position, item in enumerate(value):
        if type(item) is not int:
            raise invalid_rows(f"`{name}` must hold integers; entry {position} is {item!r}")
        if not 0 <= item < n:
            raise invalid_rows(f"row {item} (entry {position} of `{name}`) is out of range: the dataset has rows 0 to {n - 1}")
    rows = np.asarray(value, dtype=np.int64)
    if unique:
        values, first_seen = np.unique(rows, return_index=True)
        if len(values) != len(rows):
            repeat = np.ones(len(rows), dtype=bool)
            repeat[first_seen] = False
            second = int(np.flatnonzero(repeat)[0])
            first = int(first_seen[np.searchsorted(values, rows[second])])
            raise invalid_rows(f"row {int(rows[second])} appears twice in `{name}` (entries {first} and {second}); list each row once")
    return rows


def rows_body_limit(n: int) -> int:
    """The most bytes a JSON body listing up to `n` row indices needs (with room for the other fields)."""
    return (1 << 20) + 16 * n
