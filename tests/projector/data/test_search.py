"""Metadata search over every column or one: the same rows as matching cell by cell with the
compiled pattern, each distinct cell matched once."""

from __future__ import annotations

import pytest

from projector.data import search as search_module
from projector.data.metadata import Metadata
from projector.data.search import cell_matcher, compile_pattern, search
from projector.errors import InvalidParameter

TOPICS = ["web", "data", "ml", "other"]
TABLE = Metadata(
    ["name", "topic", "summary"],
    [[f"pkg{i}", TOPICS[i % 4], f"A {'Torch' if i % 7 == 0 else 'numpy'} helper number {i}"] for i in range(2000)],
)


def naive(metadata: Metadata, pattern: str, column: str | None = None, ignore_case: bool = False) -> list[int]:
    compiled = compile_pattern(pattern, ignore_case)
    positions = [metadata.columns.index(column)] if column else range(len(metadata.columns))
    return [i for i, row in enumerate(metadata.rows) if any(compiled.search(row[p]) for p in positions)]


@pytest.mark.parametrize("pattern", ["torch", "Torch", "^data$", "^pkg1", "9$", r"\bhelper\b", "", "zzz", "(?i)WEB|ml", "^$"])
@pytest.mark.parametrize("column", [None, "topic", "summary"])
def test_same_rows_as_cell_by_cell(pattern, column):
    expected = naive(TABLE, pattern, column)
    count, rows = search(TABLE, pattern, column, limit=50)
    assert count == len(expected) and rows == expected[:50]


def test_ignore_case_and_empty_cells():
    table = Metadata(["a", "b"], [["", "Torch"], ["x", ""], ["", ""]])
    assert search(table, "torch", ignore_case=True) == (1, [0])
    assert search(table, "torch") == (0, [])
    assert search(table, "^$", "a") == (2, [0, 2])
    assert cell_matcher("o.c", ignore_case=True)("TORCH") and not cell_matcher("o.c")("TORCH")


def test_each_distinct_cell_is_matched_once(monkeypatch):
    calls: list[str] = []
    real = search_module.cell_matcher

    def counting(pattern: str, ignore_case: bool = False):
        matches = real(pattern, ignore_case)
        return lambda cell: calls.append(cell) or matches(cell)

    monkeypatch.setattr(search_module, "cell_matcher", counting)
    search_module.search(TABLE, "data", "topic")
    assert sorted(calls) == sorted(TOPICS)


def test_over_budget_is_a_timeout():
    with pytest.raises(InvalidParameter) as err:
        search(TABLE, "x", budget=-1)
    assert err.value.code == "regex_timeout"


def test_unknown_column_and_bad_pattern():
    with pytest.raises(InvalidParameter):
        search(TABLE, "x", "nope")
    with pytest.raises(InvalidParameter) as err:
        search(TABLE, "(")
    assert err.value.code == "invalid_regex"
