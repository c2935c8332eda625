"""A whole metadata column set in one pass (what a clusters job adds): appended or replaced,
the input table untouched, the collector left as it was."""

from __future__ import annotations

import gc

import pytest

from projector.data.edits import with_column
from projector.data.metadata import MAX_COLUMNS, Metadata
from projector.errors import InvalidInput


def table() -> Metadata:
    return Metadata(["word", "cat"], [[f"w{i}", f"c{i % 3}"] for i in range(5)], {"cat": "string", "word": "string"})


def test_appends_a_new_column():
    before = table()
    after = with_column(before, "cluster", ["0", "1", "-1", "1", "0"])
    assert after.columns == ["word", "cat", "cluster"]
    assert after.rows[2] == ["w2", "c2", "-1"]
    assert before.columns == ["word", "cat"] and before.rows[2] == ["w2", "c2"]


def test_replaces_an_existing_column_and_drops_its_dtype():
    after = with_column(table(), "cat", list("abcde"))
    assert after.columns == ["word", "cat"] and [r[1] for r in after.rows] == list("abcde")
    assert after.dtypes == {"word": "string"}


def test_collector_state_is_restored():
    assert gc.isenabled()
    with_column(table(), "x", list("abcde"))
    assert gc.isenabled()
    gc.disable()
    try:
        with_column(table(), "x", list("abcde"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_column_limit():
    wide = Metadata([f"c{i}" for i in range(MAX_COLUMNS)], [["" for _ in range(MAX_COLUMNS)]])
    with pytest.raises(InvalidInput):
        with_column(wide, "one more", ["x"])
    assert gc.isenabled()
