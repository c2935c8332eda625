from __future__ import annotations

import tracemalloc

import pytest

from projector.data.metadata import column_types, parse_metadata_tsv
from projector.errors import InvalidInput


def test_one_column_has_no_header() -> None:
    table = parse_metadata_tsv(b"cat\ndog\n", 2)
    assert table.columns == ["label"] and table.rows == [["cat"], ["dog"]]


def test_several_columns_have_a_header() -> None:
    table = parse_metadata_tsv(b"word\tcount\ncat\t3.5\ndog\t\n", 2)
    assert table.columns == ["word", "count"]
    assert table.rows == [["cat", "3.5"], ["dog", ""]]
    assert column_types(table) == {"word": "categorical", "count": "numeric"}


def test_one_column_with_a_header_line_is_refused_as_tensorboard_does() -> None:
    # what torch's add_embedding(metadata_header=["word"]) writes (pytorch/pytorch#38564): TensorBoard's page
    # reads "word" as the first label and refuses the file; so do we, saying why
    with pytest.raises(InvalidInput) as info:
        parse_metadata_tsv(b"word\ncat\ndog\n", 2)
    assert info.value.code == "metadata_mismatch"
    assert "3 lines but the tensor has 2 rows: a one-column metadata file has no header line" in info.value.detail
    with pytest.raises(InvalidInput, match="more than 3 rows"):
        parse_metadata_tsv(b"word\ncat\ndog\nbird\n", 2)


def test_crlf_and_bom_are_accepted() -> None:
    table = parse_metadata_tsv("\ufeffa\tb\r\n1\t2\r\n3\t4\r\n".encode(), 2)
    assert table.columns == ["a", "b"] and table.rows == [["1", "2"], ["3", "4"]]


def test_quotes_are_kept_as_text() -> None:
    table = parse_metadata_tsv(b'"quoted"\nplain\n', 2)
    assert table.rows == [['"quoted"'], ["plain"]]


def test_duplicate_and_blank_column_names_are_made_unique() -> None:
    assert parse_metadata_tsv(b"a\ta\t\n1\t2\t3\n", 1).columns == ["a", "a_2", "column_3"]


@pytest.mark.parametrize(
    ("data", "n", "code", "message"),
    [
        (b"a\tb\n1\t2\t3\n", 1, "invalid_metadata", "line 2 has 3 cells"),
        (b"a\n\xff\n", 2, "invalid_metadata", "not UTF-8"),
        (b"", 2, "invalid_metadata", "empty"),
        (b"a\nb\nc\n", 5, "metadata_mismatch", "3 rows but the tensor has 5"),
        (b"x\ty\n1\t2\n", 3, "metadata_mismatch", "1 row but the tensor has 3"),
    ],
)
def test_bad_metadata(data: bytes, n: int, code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        parse_metadata_tsv(data, n)
    assert info.value.code == code


def test_few_integer_values_are_classes() -> None:
    digits = parse_metadata_tsv("".join(f"{i % 10}\n" for i in range(50)).encode(), 50)
    counts = parse_metadata_tsv("".join(f"{i}\n" for i in range(50)).encode(), 50)
    assert column_types(digits) == {"label": "categorical"} and column_types(counts) == {"label": "numeric"}


def test_a_line_of_carriage_returns_is_split_lazily() -> None:
    # "\r" ends a line too: 16 MiB of them were a list of 16 million strings (168 MiB) before the row check
    data = b"a\n" + b"\r" * (16 * 1024 * 1024 - 2) + b"\n"
    tracemalloc.start()
    try:
        with pytest.raises(InvalidInput, match="more than 11 rows"):
            parse_metadata_tsv(data, n_rows=10)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 1024 * 1024, peak
    assert parse_metadata_tsv(b"a\rb\r\nc\n", n_rows=3).rows == [["a"], ["b"], ["c"]]
