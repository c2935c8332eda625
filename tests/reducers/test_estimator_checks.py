"""The reducers against scikit-learn's estimator contract: its own check suite, then the uses it implies."""

from __future__ import annotations

import inspect
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, clone
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils import estimator_checks
from sklearn.utils.estimator_checks import parametrize_with_checks

from reducers import PCA, TSNE, UMAP
from reducers import pca as pca_module
from reducers._validation import check_embedding, validate_input

# Small enough for the checks' 10- to 30-row inputs, and quick; one thread keeps the seeded runs that
# the tests below compare bit-identical.
SMALL_TSNE = {"perplexity": 3.0, "n_iter": 20, "exaggeration_iter": 10, "n_jobs": 1, "random_state": 0}
SMALL_UMAP = {"n_neighbors": 3, "n_epochs": 10, "n_jobs": 1, "random_state": 0}

# These checks set `n_components = 1` and then need `fit` to succeed (or to fail naming the
# single feature). t-SNE and UMAP here embed in 2-D or 3-D only, by design.
FORCE_ONE_COMPONENT = (
    "check_dont_overwrite_parameters",
    "check_fit2d_1feature",
    "check_fit2d_predict1d",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
)


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    if isinstance(estimator, PCA):
        return {}
    reason = f"sets n_components=1; {type(estimator).__name__} embeds in 2 or 3 dimensions only"
    return {name: reason for name in FORCE_ONE_COMPONENT}


# Strict xfail (pyproject's xfail_strict): a check listed as expected to fail that passes is an error.
@parametrize_with_checks([PCA(), TSNE(**SMALL_TSNE), UMAP(**SMALL_UMAP)], expected_failed_checks=expected_failed_checks)
def test_scikit_learn_estimator_checks(estimator: BaseEstimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)


@pytest.mark.parametrize("name", FORCE_ONE_COMPONENT)
def test_every_expected_failure_forces_one_component(name: str) -> None:
    # Guards the list above: no check may be excused for any other reason.
    assert "n_components = 1" in inspect.getsource(getattr(estimator_checks, name))


ESTIMATORS = [PCA(n_components=3), TSNE(**SMALL_TSNE), UMAP(**SMALL_UMAP)]


@pytest.fixture
def frame() -> pd.DataFrame:
    X = np.random.default_rng(0).normal(size=(40, 6)).astype(np.float32)
    return pd.DataFrame(X, columns=[f"f{i}" for i in range(6)], index=np.arange(100, 140))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_clone_params_and_repr(estimator: BaseEstimator) -> None:
    copy = clone(estimator)
    assert copy is not estimator and copy.get_params() == estimator.get_params()
    assert copy.set_params(n_components=2).n_components == 2
    with pytest.raises(ValueError, match="Invalid parameter"):
        copy.set_params(no_such_param=1)
    assert repr(type(estimator)(n_components=3)) == f"{type(estimator).__name__}(n_components=3)"


@pytest.mark.parametrize("cls", [PCA, TSNE, UMAP])
def test_init_only_stores_parameters(cls: type) -> None:
    model = cls(n_components="many")
    assert model.n_components == "many" and not hasattr(model, "n_features_in_")
    with pytest.raises(ValueError, match="`n_components`"):
        model.fit(np.random.default_rng(0).normal(size=(40, 4)))


def test_grid_search_over_a_pipeline() -> None:
    X, y = make_classification(n_samples=120, n_features=10, n_informative=5, random_state=0)
    pipeline = Pipeline([("pca", PCA()), ("clf", LogisticRegression())])
    search = GridSearchCV(pipeline, {"pca__n_components": [2, 5]}, cv=3, error_score="raise").fit(X, y)
    assert search.best_params_["pca__n_components"] in (2, 5)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.named_steps["pca"].components_.shape[0] == search.best_params_["pca__n_components"]


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_dataframes_in_and_out(estimator: BaseEstimator, frame: pd.DataFrame) -> None:
    plain = clone(estimator).fit_transform(frame.to_numpy())
    model = clone(estimator).set_output(transform="pandas")
    out = model.fit_transform(frame)
    prefix = type(estimator).__name__.lower()
    assert list(out.columns) == [f"{prefix}{i}" for i in range(plain.shape[1])]
    assert out.index.equals(frame.index)
    np.testing.assert_array_equal(out.to_numpy(), plain)
    assert model.n_features_in_ == 6 and list(model.feature_names_in_) == list(frame.columns)
    if hasattr(model, "transform"):
        np.testing.assert_array_equal(model.transform(frame).to_numpy(), plain)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_object_dtype_numbers_are_accepted(estimator: BaseEstimator, frame: pd.DataFrame) -> None:
    expected = clone(estimator).fit_transform(frame)
    np.testing.assert_array_equal(clone(estimator).fit_transform(frame.astype(object)), expected)
    assert clone(estimator).fit_transform(frame.astype(np.float64)).dtype == np.float32


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_complex_input_is_refused(estimator: BaseEstimator, frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="Complex data not supported"):
        clone(estimator).fit(frame.to_numpy() + 1j)


@pytest.mark.parametrize("estimator", ESTIMATORS[1:], ids=lambda e: type(e).__name__)
def test_sparse_input_is_refused_by_tsne_and_umap(estimator: BaseEstimator, frame: pd.DataFrame) -> None:
    with pytest.raises(TypeError, match=r"Sparse data was passed .* dense data is required"):
        clone(estimator).fit(sp.csr_matrix(frame.to_numpy()))


@pytest.mark.parametrize("solver", ["exact", "randomized"])
@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_pca_takes_sparse_input_in_dense_chunks(monkeypatch: pytest.MonkeyPatch, solver: str, fmt: str) -> None:
    dense = sp.random(300, 20, density=0.2, format="csr", random_state=0, dtype=np.float64).toarray()
    expected = PCA(3, svd_solver=solver, random_state=0).fit_transform(dense)
    monkeypatch.setattr(pca_module, "SPARSE_CHUNK_BYTES", 7 * 4 * 20)  # 7 rows a chunk
    model = PCA(3, svd_solver=solver, random_state=0)
    out = model.fit_transform(sp.coo_matrix(dense).asformat(fmt))
    np.testing.assert_allclose(out, expected, atol=1e-4)
    np.testing.assert_allclose(model.transform(sp.csr_matrix(dense[:5])), expected[:5], atol=1e-4)


def test_pca_streams_a_memory_map_without_copying_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pca_module, "CHUNK_ROWS", 4096)  # 1 MB chunks
    n, d = 200_000, 64
    X = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="w+", shape=(n, d))
    np.random.default_rng(0).standard_normal((n, d), dtype=np.float32, out=X)
    X.flush()
    X = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="r", shape=(n, d))
    assert np.shares_memory(validate_input(PCA(), X, reset=True), X)
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    try:
        out = PCA(3).fit_transform(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A chunk or two of shifted rows plus the 2.4 MB output; a copy of X would be 51 MB.
    assert out.shape == (n, 3) and peak < X.nbytes / 8


def test_check_embedding_for_the_plain_functions() -> None:
    X = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(check_embedding(X.astype(object)), X.astype(np.float32))
    same = X.astype(np.float32)
    assert check_embedding(same) is same
    with pytest.raises(ValueError, match="`X` must be real"):
        check_embedding(X + 1j)
    with pytest.raises(ValueError, match="`X` must be numeric"):
        check_embedding(np.array([["a", 1.0], [2.0, 3.0]], dtype=object))
    with pytest.raises(ValueError, match="`X` must be a dense array"):
        check_embedding(sp.csr_matrix(X))
