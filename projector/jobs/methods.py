"""The projection methods the service offers: their parameters and validation (how they run: projector.jobs.runners).

Parameters are normalised (defaults filled in, types coerced) before anything is cached, so
`{}` and `{"perplexity": 30}` name the same projection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from projector.data.search import compile_pattern
from projector.errors import InvalidParameter
from reducers.knn import METRICS

MAX_TEXT_PARAM = 1000


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # "int", "float", "choice", "int_list", "float_or_auto", "projection_id", "text", "regex"
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    doc: str = ""

    def coerce(self, value: Any) -> Any:
        def fail(rule: str) -> InvalidParameter:
            return InvalidParameter(f"parameter `{self.name}` {rule}, got {value!r}")

        if self.kind == "choice":
            if value not in self.choices:
                raise fail(f"must be one of {list(self.choices)}")
            return value
        if self.kind == "float_or_auto" and value == "auto":
            return value
        if self.kind in ("text", "regex"):
            if not isinstance(value, str) or len(value) > MAX_TEXT_PARAM:
                raise fail(f"must be text of at most {MAX_TEXT_PARAM} characters")
            if self.kind == "regex" and value:
                try:
                    compile_pattern(value)
                except InvalidParameter as exc:
                    raise fail(f"must be a valid regular expression ({exc.detail})") from None
            return value
        if self.kind == "projection_id":
            if value is None or value == "":
                return ""
            if not isinstance(value, str) or not value.isalnum() or len(value) > 64:
                raise fail("must be the id of a finished projection")
            return value
        if self.kind == "int_list":
            if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise fail("must be a list of integers")
            for item in value:
                self._check_range(item, fail)
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail("must be a number")
        if self.kind == "int":
            if float(value) != int(value):
                raise fail("must be an integer")
            value = int(value)
        else:
            value = float(value)
            if not np.isfinite(value):
                raise fail("must be finite")
        self._check_range(value, fail)
        return value

    def _check_range(self, value: float, fail: Callable[[str], InvalidParameter]) -> None:
        if self.minimum is not None and value < self.minimum:
            raise fail(f"must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise fail(f"must be at most {self.maximum}")

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "type": self.kind,
            "default": self.default,
            "doc": self.doc,
        }
        if self.minimum is not None:
            info["minimum"] = self.minimum
        if self.maximum is not None:
            info["maximum"] = self.maximum
        if self.choices:
            info["choices"] = list(self.choices)
        return info


@dataclass(frozen=True)
class Method:
    name: str
    title: str
    params: tuple[Param, ...]
    dims: tuple[int, ...] = (2, 3)

    def normalize(self, dims: int, params: dict[str, Any], n: int, dim: int) -> dict[str, Any]:
        known = {p.name: p for p in self.params}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InvalidParameter(f"unknown parameter(s) {unknown} for {self.name}; known: {sorted(known)}")
        values = {name: p.coerce(params[name]) if name in params else p.default for name, p in known.items()}
        return CHECKS[self.name](values, dims, n, dim)


# -- PCA ------------------------------------------------------------------------------------------


def _check_pca(values: dict[str, Any], dims: int, n: int, dim: int) -> dict[str, Any]:
    limit = min(n, dim)
    components = values["components"] if values["components"] is not None else list(range(dims))
    if len(components) != dims:
        raise InvalidParameter(f"parameter `components` needs {dims} entries (one per axis), got {components!r}")
    if max(components) >= limit:
        raise InvalidParameter(f"parameter `components` entries must be below {limit} for a {n} × {dim} tensor")
    values["components"] = components
    return values


# -- t-SNE ----------------------------------------------------------------------------------------


def _check_tsne(values: dict[str, Any], dims: int, n: int, dim: int) -> dict[str, Any]:
    if 3 * values["perplexity"] >= n - 1:
        raise InvalidParameter(
            f"parameter `perplexity` must be below (n - 1) / 3 = {(n - 1) / 3:g} for {n} points, got {values['perplexity']:g}"
        )
    if values["exaggeration_iter"] >= values["n_iter"]:
        raise InvalidParameter("parameter `exaggeration_iter` must be smaller than `n_iter`")
    return values


# -- custom axes (TensorBoard's custom projection) ---------------------------------------------------

CUSTOM_QUERIES = ("x_left", "x_right", "y_down", "y_up")


def _check_custom(values: dict[str, Any], dims: int, n: int, dim: int) -> dict[str, Any]:
    if dims != 2:
        raise InvalidParameter(f"the custom projection has two axes (x and y): ask for dims 2, got {dims}")
    missing = [name for name in CUSTOM_QUERIES if not values[name]]
    if missing:
        raise InvalidParameter(f"the custom projection needs a regular expression for each of {list(CUSTOM_QUERIES)}; missing {missing}")
    return values


# -- UMAP -----------------------------------------------------------------------------------------


def _check_umap(values: dict[str, Any], dims: int, n: int, dim: int) -> dict[str, Any]:
    if values["n_neighbors"] >= n:
        raise InvalidParameter(f"parameter `n_neighbors` must be below the number of points ({n})")
    return values


METRIC = Param("metric", "choice", "euclidean", choices=METRICS, doc="distance in the input space")
INIT_FROM = Param(
    "init_from", "projection_id", "",
    doc="start from this finished projection's layout (same n and dims), e.g. the previous training step",
)  # fmt: skip
SEED = Param(
    "random_state",
    "int",
    0,
    minimum=0,
    maximum=2**32 - 1,
    doc="seed; the same seed gives the same layout",
)

METHODS: dict[str, Method] = {
    "pca": Method(
        "pca",
        "PCA",
        (
            Param(
                "components",
                "int_list",
                None,
                minimum=0,
                maximum=99,
                doc="principal component (0-based) per axis",
            ),
        ),
    ),
    "tsne": Method(
        "tsne",
        "t-SNE",
        (
            Param(
                "perplexity",
                "float",
                30.0,
                minimum=2.0,
                maximum=500.0,
                doc="effective number of neighbours",
            ),
            Param(
                "learning_rate",
                "float_or_auto",
                "auto",
                minimum=1e-3,
                doc="'auto' scales with n",
            ),
            Param(
                "n_iter",
                "int",
                750,
                minimum=50,
                maximum=10000,
                doc="iterations, exaggeration phase included",
            ),
            Param("early_exaggeration", "float", 12.0, minimum=1.0, maximum=100.0),
            Param("exaggeration_iter", "int", 250, minimum=0, maximum=5000),
            METRIC,
            Param("init", "choice", "pca", choices=("pca", "random")),
            INIT_FROM,
            SEED,
        ),
    ),
    "umap": Method(
        "umap",
        "UMAP",
        (
            Param(
                "n_neighbors",
                "int",
                15,
                minimum=2,
                maximum=200,
                doc="size of the local neighbourhood",
            ),
            Param(
                "min_dist",
                "float",
                0.1,
                minimum=0.0,
                maximum=1.0,
                doc="how tightly points pack",
            ),
            Param("n_epochs", "int", 0, minimum=0, maximum=5000, doc="0 lets UMAP choose"),
            METRIC,
            INIT_FROM,
            SEED,
        ),
    ),
    "custom": Method(
        "custom",
        "Custom axes",
        (
            Param("column", "text", "", doc="metadata column the queries search (default: every column)"),
            Param("x_left", "regex", "", doc="rows matching this are the x axis's left end (their centroid)"),
            Param("x_right", "regex", "", doc="... and these its right end"),
            Param("y_down", "regex", "", doc="rows matching this are the y axis's bottom end"),
            Param("y_up", "regex", "", doc="... and these its top end"),
        ),
        dims=(2,),
    ),
}
CHECKS: dict[str, Callable[[dict[str, Any], int, int, int], dict[str, Any]]] = {
    "pca": _check_pca,
    "tsne": _check_tsne,
    "umap": _check_umap,
    "custom": _check_custom,
}


def get_method(name: Any) -> Method:
    method = METHODS.get(name) if isinstance(name, str) else None
    if method is None:
        raise InvalidParameter(
            f"unknown method {name!r}; choose one of {sorted(METHODS)}",
            code="unknown_method",
        )
    return method


def check_dims(dims: Any) -> int:
    if isinstance(dims, bool) or dims not in (2, 3):
        raise InvalidParameter(f"`dims` must be 2 or 3, got {dims!r}")
    return int(dims)


def describe_methods() -> dict[str, Any]:
    return {
        name: {
            "title": m.title,
            "available": True,
            "dims": list(m.dims),
            "params": {p.name: p.describe() for p in m.params},
        }
        for name, m in METHODS.items()
    }
