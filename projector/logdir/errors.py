"""The one error type for unreadable projector logs and checkpoints."""

from __future__ import annotations


class LogdirError(ValueError):
    """A log file or checkpoint that cannot be read; the message names the file and the problem."""
