"""The page against a live server: painting, colour, search, neighbours, t-SNE, links."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest

pytestmark = pytest.mark.browser


def test_page_loads_without_console_errors(probe):
    probe.open()
    probe.screenshot("page-demo")
    probe.assert_clean_console()
    assert probe.hook("errors") == []
    # The demo opens on a projection without the user asking: PCA is cheap.
    assert probe.hook("projectionId")


def test_demo_paints_points(probe, server):
    probe.open()
    demo = server.demo()
    assert probe.hook("pointsDrawn") == demo["n"]
    stats = probe.pixel_stats(probe.canvas_png("scatter-demo"))
    # Thousands of points cover a visible share of the canvas, and not all of it.
    assert 0.005 < stats["nonBackground"] / stats["total"] < 0.6, stats


def test_colour_by_changes_colours(probe):
    probe.open()
    probe.wait("__projector.color !== ''")
    before = probe.pixel_stats(probe.canvas_png("colour-label"))
    version = probe.hook("colorVersion")
    probe.page.select_option("#color-by", "")
    probe.wait(f"__projector.colorVersion > {version}")
    probe.page.wait_for_timeout(200)
    after = probe.pixel_stats(probe.canvas_png("colour-none"))
    # Ten digit classes give many distinct colours; one colour (plus shading) gives few.
    assert before["distinct"] >= 10, before
    assert after["distinct"] < before["distinct"] / 2, (before, after)
    # The link says "no colouring" rather than falling back to the default.
    probe.page.wait_for_function("() => new URLSearchParams(location.search).get('color') === ''")


def test_search_highlights_the_api_count(probe, server):
    probe.open()
    demo = server.demo()
    expected = server.get(f"api/datasets/{demo['id']}/search?q=%5E3%24&column=label")
    probe.page.check("#search-regex")
    probe.page.select_option("#search-column", "label")
    probe.page.fill("#search", "^3$")
    probe.page.press("#search", "Enter")
    probe.wait(f"__projector.matchCount === {expected['count']}")
    assert probe.hook("highlighted") == expected["count"]
    assert f"{expected['count']} matches" in probe.page.inner_text("#search-count")
    probe.screenshot("search-3")
    # Isolate shows only the matches; Show all brings everything back.
    probe.page.click("#isolate")
    probe.page.wait_for_timeout(300)
    probe.canvas_png("search-3-isolated")
    assert probe.page.inner_text("#isolate") == "Show all"
    probe.page.click("#isolate")
    assert probe.page.inner_text("#isolate") == "Isolate"
    # An invalid regex is reported, not swallowed.
    probe.page.fill("#search", "([")
    probe.page.press("#search", "Enter")
    probe.page.wait_for_function("() => document.querySelector('#search-count').classList.contains('bad')")
    assert "regex" in probe.page.inner_text("#search-count").lower()


def _visible_point(probe, start=0):
    """A point index whose screen position is inside the canvas and picks back to itself."""
    box = probe.page.locator("#scatter").bounding_box()
    for i in range(start, start + 400):
        p = probe.hook(f"screenOf({i})")
        if not p or not p["visible"]:
            continue
        if not (box["x"] + 5 < p["x"] < box["x"] + box["width"] - 5 and box["y"] + 5 < p["y"] < box["y"] + box["height"] - 5):
            continue
        picked, _ = probe.hook(f"pickAt({p['x']}, {p['y']})")
        if picked == i:
            return i, p
    raise AssertionError("no pickable point found")


def test_click_lists_the_api_neighbours(probe, server):
    probe.open()
    demo = server.demo()
    index, p = _visible_point(probe, start=17)
    probe.page.mouse.move(p["x"], p["y"])
    probe.page.wait_for_selector("#tooltip:not([hidden])")
    probe.page.mouse.click(p["x"], p["y"])
    probe.wait(f"__projector.selected === {index} && __projector.neighbors.length === 10")
    probe.page.wait_for_selector("#neighbors button[data-index]")
    shown = [int(x) for x in probe.page.eval_on_selector_all("#neighbors button[data-index]", "els => els.map(e => e.dataset.index)")]
    expected = server.get(f"api/datasets/{demo['id']}/neighbors?index={index}&k=10&metric=cosine")
    assert shown == [n["index"] for n in expected["neighbors"]]
    assert f"point={index}" in probe.page.url
    probe.screenshot("neighbours-cosine")
    # Switching the metric and k asks the API again.
    probe.page.select_option("#metric", "euclidean")
    probe.page.fill("#k", "5")
    probe.page.press("#k", "Enter")
    probe.page.locator("#k").dispatch_event("change")
    expected = server.get(f"api/datasets/{demo['id']}/neighbors?index={index}&k=5&metric=euclidean")
    want = [n["index"] for n in expected["neighbors"]]
    probe.wait(f"JSON.stringify(__projector.neighbors) === '{json.dumps(want, separators=(',', ':'))}'")


def test_running_tsne_changes_the_picture(probe, server):
    probe.open()
    probe.page.select_option("#method", "tsne")
    probe.page.check("#dims-2")
    # Parameters unlikely to be cached by another test, so the job really runs.
    probe.page.fill("#param-perplexity", "27")
    probe.page.fill("#param-n_iter", "600")
    probe.page.click("#run")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        errors = probe.hook("errors")
        if errors:
            if any(e["code"] in ("method_unavailable", "unknown_method") for e in errors):
                pytest.skip(f"server says t-SNE is unavailable: {errors}")
            raise AssertionError(errors)
        if probe.hook("projectionStatus") == "running" and (probe.hook("iteration") or 0) > 0:
            break
        time.sleep(0.1)
    else:
        raise AssertionError(f"t-SNE never started: {probe.hook('projectionStatus')}")
    first_iteration = probe.hook("iteration")
    first = probe.canvas_png("tsne-early")
    probe.wait(f"__projector.iteration >= {first_iteration + 60} || __projector.projectionStatus === 'done'", timeout=60_000)
    probe.page.wait_for_timeout(300)
    later = probe.canvas_png("tsne-later")
    assert probe.hook("iteration") > first_iteration
    assert first != later
    probe.wait("__projector.projectionStatus === 'done'", timeout=90_000)
    probe.page.wait_for_timeout(300)
    probe.screenshot("tsne-done")


def test_link_reopens_the_view(probe, server):
    demo = server.demo()
    p = server.project(demo["id"], "pca", 2)
    query = "?" + urllib.parse.urlencode({"dataset": demo["id"], "projection": p["id"], "point": 42, "color": "label"})
    probe.open(query)
    assert probe.hook("datasetId") == demo["id"]
    assert probe.hook("projectionId") == p["id"]
    probe.wait("__projector.selected === 42 && __projector.neighbors.length > 0")
    assert probe.hook("color") == "label"
    assert probe.page.is_checked("#dims-2")
    probe.screenshot("link-pca2d")
    probe.assert_clean_console()


def test_unknown_dataset_shows_the_api_error(probe):
    probe.open("?dataset=doesnotexist", ready=False)
    probe.page.wait_for_selector("#errors .error")
    text = probe.page.inner_text("#errors")
    assert "not_found" in text or "404" in text, text
    assert probe.page.is_visible("#empty")
    probe.screenshot("error-unknown-dataset")


def test_thumbnails_draw_from_the_sprite(probe):
    probe.open()
    plain = probe.pixel_stats(probe.canvas_png("points"))
    assert not probe.page.is_disabled("#sprites")
    frames = probe.hook("frames")
    probe.page.check("#sprites")
    probe.wait(f"__projector.frames > {frames}")
    probe.page.wait_for_timeout(200)
    sprites = probe.pixel_stats(probe.canvas_png("thumbnails"))
    # Thumbnails are larger than points: they cover more of the canvas.
    assert sprites["nonBackground"] > plain["nonBackground"] * 1.5, (plain, sprites)
    probe.screenshot("page-thumbnails")
    probe.assert_clean_console()
