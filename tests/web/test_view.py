"""The view as a link (everything restored), night mode (remembered), and the test hook kept
out of the production page."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.web.conftest import new_page

pytestmark = pytest.mark.browser


def test_a_copied_link_restores_the_whole_view(probe, browser, server):
    probe.open()
    page = probe.page
    # Search with the regex flag in one column; Enter opens the first match.
    page.check("#search-regex")
    page.select_option("#search-column", "label")
    page.fill("#search", "^(3|5)$")
    page.press("#search", "Enter")
    probe.wait("__projector.selected >= 0 && __projector.neighbors.length > 0")
    page.select_option("#label-by", "")
    page.fill("#k", "5")
    page.locator("#k").dispatch_event("change")
    page.select_option("#metric", "euclidean")
    page.check("#sprites")
    # Orbit the camera with the mouse.
    box = page.locator("#scatter").bounding_box()
    x, y = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.5
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 60, y + 25, steps=6)
    page.mouse.up()
    page.click("#copy-link")
    page.wait_for_function("() => location.search.includes('cam=') && location.search.includes('thumbs=1')")
    url = page.url
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    for key in ("dataset", "projection", "point", "color", "q", "regex", "column", "k", "metric", "thumbs", "cam"):
        assert key in query, (key, url)
    want = {
        "selected": probe.hook("selected"), "matchCount": probe.hook("matchCount"), "color": probe.hook("color"),
        "camera": probe.hook("camera"), "projectionId": probe.hook("projectionId"),
    }  # fmt: skip

    context, other = new_page(browser)
    try:
        other.goto(url)
        other.wait_for_function(
            f"() => window.__projector && __projector.projectionId === {want['projectionId']!r} && __projector.ready"
            f" && __projector.matchCount === {want['matchCount']} && __projector.neighbors.length === 5 && __projector.sprites",
            timeout=90_000,
        )
        hook = lambda expr: other.evaluate(f"() => __projector.{expr}")  # noqa: E731
        assert hook("selected") == want["selected"]
        assert hook("color") == want["color"]
        assert hook("label") == ""
        assert other.is_checked("#search-regex")
        assert other.input_value("#search-column") == "label"
        assert other.input_value("#search") == "^(3|5)$"
        assert other.input_value("#k") == "5"
        assert other.input_value("#metric") == "euclidean"
        assert other.is_checked("#sprites")
        cam = hook("camera")
        for key in ("dims", "yaw", "pitch", "distance", "zoom"):
            assert cam[key] == pytest.approx(want["camera"][key], abs=1e-3), (key, cam, want["camera"])
        assert cam["target"] == pytest.approx(want["camera"]["target"], abs=1e-3)
        other.screenshot(path=str(probe.artifacts / "link-restored.png"))
    finally:
        context.close()


def test_night_mode_is_remembered(probe):
    probe.open()
    light = probe.background(probe.canvas_png("theme-light"))
    assert sum(light) > 3 * 200, light
    probe.page.click("#theme-toggle")
    probe.page.wait_for_function("() => document.documentElement.dataset.theme === 'dark'")
    probe.page.wait_for_timeout(200)
    dark = probe.background(probe.canvas_png("theme-dark"))
    assert sum(dark) < 3 * 60, dark
    panel = probe.page.eval_on_selector(".left", "el => getComputedStyle(el).backgroundColor")
    assert panel != "rgb(255, 255, 255)", panel
    probe.screenshot("page-night")
    # Reloading keeps it (localStorage); toggling back returns to the light theme.
    probe.open()
    assert probe.page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert probe.page.inner_text("#theme-toggle").endswith("Day")
    probe.page.click("#theme-toggle")
    probe.page.wait_for_function("() => document.documentElement.dataset.theme === 'light'")
    assert probe.page.evaluate("() => localStorage.getItem('projector.theme')") == "light"


def test_the_production_page_exposes_no_test_hook(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        page.goto(server.url)
        page.wait_for_function("() => document.querySelector('#view-info').textContent.includes('points')", timeout=90_000)
        assert page.evaluate("() => typeof window.__projector") == "undefined"
        loaded = page.evaluate("() => performance.getEntriesByType('resource').map((e) => e.name)")
        assert not any(name.endswith("/testing.js") for name in loaded), loaded
    finally:
        context.close()
