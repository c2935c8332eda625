"""metadata_tsv: what TensorBoard's projector page and our own reader read as the same table, one row per point."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projector.data.metadata import parse_metadata_tsv
from projector.logdir import EMPTY_LABEL, discover, log_embedding, metadata_tsv

# What JavaScript's String.prototype.trim() removes.
JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"


def tensorboard_page(data: bytes) -> tuple[list[str], list[list[str]]]:
    """What vz_projector's parseMetadata makes of a file (missing values as "")."""
    columns = ["label"]
    rows: list[list[str]] = []
    first = True
    for line in data.decode("utf-8-sig").split("\n"):  # TextDecoder drops a leading byte-order mark
        if not line.strip(JS_SPACE):
            continue  # the page drops blank lines
        if first:
            first = False
            if "\t" in line:
                columns = line.split("\t")
                continue
        values = line.split("\t")
        rows.append([values[i] if i < len(values) else "" for i in range(len(columns))])
    return columns, rows


def both_readers(data: bytes, n: int) -> tuple[list[str], list[list[str]]]:
    """The table as TensorBoard's page and our reader see it; they must agree."""
    page = tensorboard_page(data)
    ours = parse_metadata_tsv(data, n)
    assert len(page[1]) == n, f"TensorBoard's page reads {len(page[1])} rows for {n} points"
    assert (ours.columns, ours.rows) == page
    return page


@pytest.mark.parametrize("empty", ["", None, " ", "\t", "\n", "\r\n", "\u3000", "\ufeff", " \u2028 "])
def test_empty_labels_keep_one_line_per_point(empty: object) -> None:
    data = metadata_tsv(["a", empty, "c"], 3)
    assert data == f"a\n{EMPTY_LABEL}\nc\n".encode()
    assert both_readers(data, 3) == (["label"], [["a"], [EMPTY_LABEL], ["c"]])


def test_labels_with_tabs_and_line_breaks_stay_on_their_line() -> None:
    data = metadata_tsv(["a\tb", "c\nd", "e\rf", 4, 5.5], 5)
    assert both_readers(data, 5)[1] == [["a b"], ["c d"], ["e f"], ["4"], ["5.5"]]


def test_missing_cells_in_several_columns_stay_missing() -> None:
    data = metadata_tsv({"word": ["x", None, ""], "n": [1, None, 3]}, 3)
    assert data == b"word\tn\nx\t1\n\t\n\t3\n".replace(b"\n\t\n", f"\n{EMPTY_LABEL}\t\n".encode())
    assert both_readers(data, 3) == (["word", "n"], [["x", "1"], [EMPTY_LABEL, ""], ["", "3"]])


def test_column_names_are_the_ones_our_reader_gives() -> None:
    data = metadata_tsv([[1, 2, 3]], 1, header=[" a ", "a", ""])
    assert data.splitlines()[0] == b"a\ta_2\tcolumn_3"
    assert both_readers(data, 1)[0] == ["a", "a_2", "column_3"]


def test_dataframe_and_row_forms() -> None:
    class Frame:  # the two attributes metadata_tsv uses, as pandas has them
        columns = ("w", "n")

        def itertuples(self, index: bool = False) -> list[tuple[object, ...]]:
            return [("x", 1), ("y", None)]

    assert metadata_tsv(Frame()) == b"w\tn\nx\t1\ny\t\n"
    assert metadata_tsv([("x", 1), ("y", 2)], header=("w", "n")) == b"w\tn\nx\t1\ny\t2\n"
    assert metadata_tsv({"only": ["x", "y"]}) == b"x\ny\n"  # one column: no header (TensorBoard's rule)


cells = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.text(alphabet=st.sampled_from(["a", "é", " ", "\t", "\n", "\r", "\u3000", "\u2028", "\ufeff", "\x0b", "0"]), max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(cells, min_size=1, max_size=8))
def test_any_labels_read_back_as_one_row_each(labels: list[object]) -> None:
    both_readers(metadata_tsv(labels, len(labels)), len(labels))


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 4).flatmap(lambda w: st.lists(st.lists(cells, min_size=w, max_size=w), min_size=1, max_size=6)))
def test_any_rows_read_back_as_one_row_each(rows: list[list[object]]) -> None:
    header = [f"c{i}" for i in range(len(rows[0]))]
    both_readers(metadata_tsv(rows, len(rows), header=header), len(rows))


def test_log_embedding_uses_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log_embedding(tmp_path, np.eye(3, dtype=np.float32), metadata=["x", None, ""], tag="t")
    (entry,) = discover(tmp_path).entries
    assert entry.read_metadata() == f"x\n{EMPTY_LABEL}\n{EMPTY_LABEL}\n".encode()
