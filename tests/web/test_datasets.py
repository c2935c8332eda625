"""Opening and switching datasets as a new user does: no stale banners, a PCA without pressing
Run, a categorical default colouring, defaults that fit small data, layouts framed on their mass."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tiny(server):
    """Ten points whose only text column is unique per row, plus a two-valued one."""
    X = np.random.default_rng(1).normal(size=(10, 16)).astype(np.float32)
    return server.upload(X, metadata={"word": [f"w{i}" for i in range(10)], "kind": ["a", "b"] * 5}, name="tiny10")


@pytest.fixture(scope="module")
def packages(server):
    """120 rows shaped like the PyPI summaries: a unique name, a month with many values, a
    3-valued bucket and a 4-valued topic (the one to colour by)."""
    rng = np.random.default_rng(2)
    n = 120
    X = rng.normal(size=(n, 12)).astype(np.float32)
    metadata = {
        "name": [f"pkg{i}" for i in range(n)],
        "month": [f"20{10 + i % 40}-01" for i in range(n)],
        "rank_bucket": [("top", "mid", "low")[i % 3] for i in range(n)],
        "topic": [("web", "ml", "data", "other")[i % 4] for i in range(n)],
    }
    return server.upload(X, metadata=metadata, name="packages120")


@pytest.fixture(scope="module")
def outliers(server):
    """400 points around the origin and 3 far away, which must not frame the picture."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(403, 8)).astype(np.float32)
    X[400:] = 300.0 * rng.normal(size=(3, 8))
    return server.upload(X, name="outliers")


def _wait_shown(probe, dataset):
    probe.wait(
        f"__projector.datasetId === {dataset['id']!r} && __projector.n === {dataset['n']}"
        " && __projector.projectionStatus === 'done' && __projector.colorOf(0) !== null",
        timeout=90_000,
    )


def test_switching_datasets_leaves_no_stale_banner(probe, server, tiny):
    probe.open()
    demo = server.demo()

    # Coordinates arrive late, so each dataset's metadata is ready before its points.
    def slow(route):
        time.sleep(0.8)
        route.continue_()

    probe.page.route("**/coords", slow)
    probe.page.select_option("#dataset-select", tiny["id"])
    _wait_shown(probe, tiny)
    assert probe.hook("errors") == [], probe.hook("errors")
    assert probe.hook("color") == "kind"
    probe.page.wait_for_selector("#legend .legend-item")
    probe.screenshot("switch-to-tiny")

    probe.page.select_option("#dataset-select", demo["id"])
    _wait_shown(probe, demo)
    assert probe.hook("errors") == [], probe.hook("errors")
    assert probe.hook("color") == "label"
    stats = probe.pixel_stats(probe.canvas_png("switch-back-to-demo"))
    assert stats["distinct"] >= 10, stats  # every digit in its own colour, not all one
    probe.assert_clean_console()


def test_a_banner_about_the_old_dataset_goes_when_another_opens(probe, server, tiny):
    probe.open("?dataset=doesnotexist", ready=False)
    probe.page.wait_for_selector("#errors .error")
    probe.page.select_option("#dataset-select", tiny["id"])
    _wait_shown(probe, tiny)
    assert probe.hook("visibleErrors") == []


def test_a_dataset_without_projections_gets_a_pca(probe, server, packages):
    assert server.get(f"api/datasets/{packages['id']}/projections") == []
    probe.open(f"?dataset={packages['id']}")
    assert probe.hook("projectionMethod") == "pca"
    assert [p["method"] for p in server.get(f"api/datasets/{packages['id']}/projections")] == ["pca"]


def test_switching_dims_shows_a_pca_without_run(probe, server):
    probe.open()
    probe.page.check("#dims-2")
    probe.wait("__projector.dims === 2 && __projector.projectionMethod === 'pca' && __projector.projectionStatus === 'done'")
    assert probe.page.input_value("#method") == "pca"
    probe.page.check("#dims-3")
    probe.wait("__projector.dims === 3 && __projector.projectionStatus === 'done'")
    # With t-SNE chosen but not run in 2D, a PCA stands in and the form keeps t-SNE.
    probe.page.select_option("#method", "tsne")
    probe.page.fill("#param-perplexity", "29")
    probe.page.check("#dims-2")
    probe.wait("__projector.dims === 2 && __projector.projectionMethod === 'pca' && __projector.projectionStatus === 'done'")
    assert probe.page.input_value("#method") == "tsne"
    assert probe.page.input_value("#param-perplexity") == "29"
    assert "press Run" in probe.page.inner_text("#status")


def test_colour_defaults_to_a_column_with_few_categories(probe, packages):
    probe.open(f"?dataset={packages['id']}")
    probe.wait("__projector.color !== ''")
    assert probe.hook("color") == "topic"
    assert probe.page.input_value("#color-by") == "topic"
    assert probe.hook("label") == "name"


def test_defaults_are_clamped_to_a_small_dataset(probe, server, tiny):
    probe.open(f"?dataset={tiny['id']}")
    probe.page.select_option("#method", "tsne")
    # 3 * perplexity must stay below n - 1 = 9.
    assert probe.page.input_value("#param-perplexity") == "2"
    probe.page.select_option("#method", "umap")
    assert probe.page.input_value("#param-n_neighbors") == "9"
    probe.page.select_option("#method", "tsne")
    probe.page.fill("#param-n_iter", "300")
    probe.page.click("#run")
    probe.wait("__projector.projectionMethod === 'tsne'", timeout=30_000)
    [tsne] = [p for p in server.get(f"api/datasets/{tiny['id']}/projections") if p["method"] == "tsne"]
    assert tsne["params"]["perplexity"] == 2
    assert probe.hook("errors") == []


def test_parameters_come_from_the_methods_route(probe, server):
    methods = server.get("api/methods")
    methods["tsne"]["params"]["perplexity"]["default"] = 42
    methods["tsne"]["title"] = "t-SNE (server)"
    probe.page.route("**/api/methods", lambda route: route.fulfill(status=200, content_type="application/json", body=json.dumps(methods)))
    probe.open()
    probe.page.select_option("#method", "tsne")
    assert probe.page.input_value("#param-perplexity") == "42"
    assert "t-SNE (server)" in probe.page.inner_text("#method")


def test_without_the_methods_route_nothing_is_invented(probe):
    probe.page.route(
        "**/api/methods",
        lambda route: route.fulfill(status=404, content_type="application/json", body='{"error":"not_found","detail":"x"}'),
    )
    probe.open()
    assert probe.page.eval_on_selector_all("#method option", "els => els.length") == 0
    assert probe.page.is_disabled("#run")


def test_far_outliers_do_not_shrink_the_picture(probe, server, outliers):
    p = server.project(outliers["id"], "pca", 2)
    probe.open(f"?dataset={outliers['id']}&projection={p['id']}")
    box = probe.page.locator("#scatter").bounding_box()
    xs = probe.page.evaluate("() => Array.from({length: 400}, (_, i) => __projector.screenOf(i).x)")
    ys = probe.page.evaluate("() => Array.from({length: 400}, (_, i) => __projector.screenOf(i).y)")
    # The mass spans a good part of the canvas (framed on the outliers it would be a dot).
    span = max(np.percentile(xs, 95) - np.percentile(xs, 5), np.percentile(ys, 95) - np.percentile(ys, 5))
    assert span > 0.3 * min(box["width"], box["height"]), (span, box)
    probe.screenshot("outliers-framed")
