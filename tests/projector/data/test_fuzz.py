"""Hostile input: property tests for every reader, and schemathesis against the OpenAPI document."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from projector.data.formats import read_tensor, write_float32_npy
from projector.data.metadata import parse_metadata_tsv
from projector.errors import InvalidInput
from tests.conftest import ServerProcess

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def read_any(tmp_path: Path, data: bytes, fmt: str | None) -> None:
    """Parse and store: either a valid float32 matrix comes out, or our error type is raised."""
    path = tmp_path / "input"
    path.write_bytes(data)
    out = tmp_path / "out.npy"
    try:
        array = read_tensor(path, fmt)
        write_float32_npy(array, out)
    except InvalidInput:
        assert not out.exists()
        return
    stored = np.load(out)
    assert stored.dtype == np.float32 and stored.ndim == 2 and stored.shape[0] >= 2 and stored.shape[1] >= 2
    assert np.isfinite(stored).all()


@FUZZ
@given(data=st.binary(max_size=400), fmt=st.sampled_from([None, "npy", "npz", "safetensors", "tsv"]))
def test_any_bytes_parse_or_raise_our_error(tmp_path: Path, data: bytes, fmt: str | None) -> None:
    read_any(tmp_path, data, fmt)


@FUZZ
@given(data=st.binary(max_size=200), magic=st.sampled_from([b"\x93NUMPY\x01\x00", b"PK\x03\x04", b"\x10\x00\x00\x00\x00\x00\x00\x00{"]))
def test_corrupt_headers_parse_or_raise_our_error(tmp_path: Path, data: bytes, magic: bytes) -> None:
    read_any(tmp_path, magic + data, None)


@FUZZ
@given(text=st.text(alphabet="0123456789.-+eE\tnaifNI \r\n", max_size=300))
def test_tsv_like_text_parses_or_raises_our_error(tmp_path: Path, text: str) -> None:
    read_any(tmp_path, text.encode(), "tsv")


@FUZZ
@given(matrix=arrays(np.float32, st.tuples(st.integers(2, 6), st.integers(2, 6)), elements=st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_npy_and_tsv_round_trips_are_exact(tmp_path: Path, matrix: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, matrix)
    (tmp_path / "a.npy").write_bytes(buffer.getvalue())
    np.testing.assert_array_equal(read_tensor(tmp_path / "a.npy"), matrix)
    (tmp_path / "a.tsv").write_text("\n".join("\t".join(repr(float(v)) for v in row) for row in matrix))
    np.testing.assert_array_equal(read_tensor(tmp_path / "a.tsv"), matrix)


@FUZZ
@given(data=st.binary(max_size=300), n=st.integers(1, 6))
def test_any_metadata_bytes_parse_or_raise_our_error(data: bytes, n: int) -> None:
    try:
        table = parse_metadata_tsv(data, n)
    except InvalidInput:
        return
    assert len(table.rows) == n and all(len(row) == len(table.columns) for row in table.rows)


# -- the HTTP API under schemathesis ------------------------------------------------------------

schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("fuzz")).start()
    yield server
    server.kill()


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(scope="module")
def api_schema(served: ServerProcess):  # type: ignore[no-untyped-def]
    return schemathesis.openapi.from_url(f"{served.url}/api/openapi.json")


@schema.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))  # the full schemathesis run is test_schemathesis.py
def test_no_server_errors(case) -> None:  # type: ignore[no-untyped-def]
    response = case.call(timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"
    content_type = response.headers.get("content-type", "")
    content_type = content_type[0] if isinstance(content_type, list) else content_type  # schemathesis keeps lists
    if response.status_code >= 400 and content_type.startswith("application/json"):
        body = response.json()
        assert set(body) == {"error", "detail"}
