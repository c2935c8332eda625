"""Query vectors sent by clients: raw little-endian float32 (with `X-Shape: m,dim`) or JSON lists, checked once."""

from __future__ import annotations

from typing import Any

import numpy as np

from projector.errors import InvalidInput, PayloadTooLarge

MAX_QUERY_VECTORS = 1000


def invalid_vectors(detail: str, code: str = "invalid_vectors") -> InvalidInput:
    return InvalidInput(detail, code=code)


def check_count(m: int) -> int:
    if m > MAX_QUERY_VECTORS:
        raise PayloadTooLarge(f"at most {MAX_QUERY_VECTORS} query vectors per request, got {m}", code="too_many_vectors")
    if m < 1:
        raise invalid_vectors("send at least one query vector")
    return m


def parse_shape(header: str | None, dim: int) -> tuple[int, int]:
    """`X-Shape: m,dim` of a raw float32 body, checked against the dataset's dimension."""
    try:
        m, d = (int(part) for part in (header or "").split(","))
    except ValueError:
        raise invalid_vectors(f"a raw float32 body needs the header `X-Shape: m,dim`, got {header!r}") from None
    if d != dim:
        raise invalid_vectors(f"the query vectors have dimension {d} but the dataset's vectors have {dim}", code="dimension_mismatch")
    return check_count(m), d


def vectors_from_bytes(body: bytes, shape: tuple[int, int]) -> np.ndarray:
    m, dim = shape
    if len(body) != m * dim * 4:
        raise invalid_vectors(f"`X-Shape: {m},{dim}` needs {m * dim * 4} bytes of float32, the body has {len(body)}")
    return np.frombuffer(body, dtype="<f4").reshape(m, dim)


def vectors_from_json(body: Any, dim: int) -> np.ndarray:
    """`{"vectors": [[...], ...]}` as an m × dim float32 array."""
    vectors = body.get("vectors") if isinstance(body, dict) else None
    if not isinstance(vectors, list) or not all(isinstance(v, list) for v in vectors):
        raise invalid_vectors('the body must be {"vectors": [[number, ...], ...]}, one list per query vector')
    check_count(len(vectors))
    for i, vector in enumerate(vectors):
        if len(vector) != dim:
            raise invalid_vectors(
                f"query vector {i} has dimension {len(vector)} but the dataset's vectors have {dim}", code="dimension_mismatch"
            )
        if not all(type(v) in (int, float) for v in vector):
            raise invalid_vectors(f"query vector {i} holds something other than numbers")
    values = np.asarray(vectors, dtype=np.float64)
    outside = ~(np.abs(values) <= np.finfo(np.float32).max).all(axis=1)
    if outside.any():
        raise invalid_vectors(f"query vector {int(np.argmax(outside))} holds infinity or a value beyond float32's range")
    return values.astype(np.float32)


def check_queries(queries: np.ndarray, metric: str) -> np.ndarray:
    """Refuse non-finite values (naming the first bad vector) and, for cosine, all-zero vectors."""
    finite = np.isfinite(queries).all(axis=1)
    if not finite.all():
        raise invalid_vectors(f"query vector {int(np.argmin(finite))} holds NaN or infinity")
    if metric == "cosine":
        zero = ~np.any(queries != 0, axis=1)
        if zero.any():
            raise invalid_vectors(f"query vector {int(np.argmax(zero))} is all zeros: its cosine distance is undefined")
    return queries
