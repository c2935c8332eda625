"""The one error type for unreadable projector logs and checkpoints."""

from __future__ import annotations


class LogdirError(ValueError):
    """A log file or checkpoint that cannot be read; the message names the file and the problem."""


def plural(count: int, noun: str) -> str:
    """`count` and `noun`, in the plural unless the count is one ("1 value", "3 values"): for every error message."""
    return f"{count} {noun if count == 1 else noun + 's'}"
