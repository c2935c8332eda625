"""Clusters from the page: the button on a finished projection, the names drawn at the centroids
(legible, never overlapping), the colouring by the new cluster column, and a cluster's points
highlighted from the list."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.browser

TOPICS = ["astronomy", "botany", "cooking", "geology", "music", "sailing"]


@pytest.fixture(scope="module")
def topics(server):
    """Six well separated blobs of 120 points, each with its own words in a text column."""
    rng = np.random.default_rng(21)
    centres = rng.normal(scale=12.0, size=(len(TOPICS), 16))
    kind = np.repeat(np.arange(len(TOPICS)), 120)
    X = (centres[kind] + rng.normal(size=(len(kind), 16))).astype(np.float32)
    text = [f"notes on {TOPICS[k]} and {TOPICS[k]} things, item {i}" for i, k in enumerate(kind)]
    return server.upload(X, metadata={"text": text, "topic": [TOPICS[k] for k in kind]}, name="topics")


def test_cluster_a_finished_projection_and_name_the_clusters(probe, server, topics):
    probe.open(f"?dataset={topics['id']}")
    page = probe.page
    page.click("#dims-2")
    probe.wait("__projector.dims === 2 && __projector.projectionStatus === 'done'", timeout=60_000)
    assert not page.is_disabled("#cluster-run")
    page.select_option("#cluster-label-column", "text")
    page.click("#cluster-run")
    page.wait_for_function("() => window.__projectorClusters.result !== null", timeout=120_000)
    result = page.evaluate("() => window.__projectorClusters.result")
    column = result["column"]
    found = [c for c in result["clusters"] if c["id"] >= 0]
    assert len(found) == len(TOPICS), found
    # Each cluster is named by its topic's word; the metadata gained the column and colours by it.
    assert sorted(next(t for t in TOPICS if t in c["label"]) for c in found) == sorted(TOPICS)
    probe.wait(f"__projector.color === {column!r} && __projector.colorVersion > 0", timeout=30_000)
    meta = server.get(f"api/datasets/{topics['id']}/metadata")
    k = meta["columns"].index(column)
    topic = meta["columns"].index("topic")
    # Clusters agree with the data's own groups: every cluster holds a single topic.
    for c in found:
        members = {row[topic] for row in meta["rows"] if row[k] == str(c["id"])}
        assert len(members) == 1, (c, members)
    page.wait_for_timeout(300)
    names = page.evaluate("() => window.__projectorClusters.placed")
    assert sorted(names) == sorted(c["label"][:40] if len(c["label"]) <= 40 else c["label"][:39] + "…" for c in found)
    # The points' sampled labels give way to the names (they covered each other on real data).
    assert probe.hook("labelsSampled") is False
    probe.screenshot("clusters-named")

    # The list highlights a cluster's points.
    page.click(f"#cluster-list [data-cluster='{found[0]['id']}']")
    probe.wait(f"__projector.matchCount === {found[0]['size']}")

    # Zoomed out far, the names would collide: only non-overlapping ones stay.
    box = page.locator("#scatter").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(6):
        page.mouse.wheel(0, 600)
    page.wait_for_timeout(400)
    crowded = page.evaluate("() => window.__projectorClusters.placed")
    assert 1 <= len(crowded) < len(found)
    probe.screenshot("clusters-zoomed-out")

    # Night mode: the names stay legible on the dark background.
    page.click("#reset-view")
    page.click("#theme-toggle")
    page.wait_for_timeout(400)
    assert len(page.evaluate("() => window.__projectorClusters.placed")) == len(found)
    probe.screenshot("clusters-night")
    page.uncheck("#cluster-names")
    probe.wait("__projector.labelsSampled === true")
    probe.assert_clean_console()



def test_clusters_finishing_before_the_first_metadata_still_colour_by_them(probe, server, topics):
    """The page's first metadata read is held back until the clusters (cached: at once) have made
    the page read the metadata again and colour by them: the late answer must not take the
    colouring back."""
    page = probe.page
    held = []

    def hold_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/api/datasets/*/metadata", hold_first)
    probe.open(f"?dataset={topics['id']}", ready=False)
    probe.wait("__projector.projectionStatus === 'done' && __projector.dims === 2", timeout=60_000)
    page.wait_for_function("() => !document.querySelector('#cluster-run').disabled")
    page.click("#cluster-run")
    page.wait_for_function("() => window.__projectorClusters.result !== null", timeout=60_000)
    column = page.evaluate("() => window.__projectorClusters.result.column")
    probe.wait(f"__projector.color === {column!r} && __projector.colorOf(0) !== null", timeout=30_000)
    assert len(held) == 1
    held[0].continue_()
    page.wait_for_timeout(1500)
    assert probe.hook("color") == column
    assert not probe.hook("visibleErrors")
