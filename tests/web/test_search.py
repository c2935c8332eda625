"""Search as TensorBoard users expect it: a list of results to click, Enter to walk through the
matches, and matches drawn large enough to find."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

# Light theme colour of a match's ring (web/gl/renderer.js, Renderer.setTheme).
MATCH_RING = [230, 97, 0]


def _search(probe, text, column="label", regex=True):
    if regex:
        probe.page.check("#search-regex")
    probe.page.select_option("#search-column", column)
    probe.page.fill("#search", text)


def test_results_are_listed_and_enter_walks_through_them(probe, server):
    probe.open()
    demo = server.demo()
    expected = server.get(f"api/datasets/{demo['id']}/search?q=%5E7%24&column=label")["indices"]
    _search(probe, "^7$")
    probe.page.press("#search", "Enter")
    # Enter runs the search and opens the first match, with its neighbours.
    probe.wait(f"__projector.selected === {expected[0]} && __projector.neighbors.length === 10")
    items = [int(x) for x in probe.page.eval_on_selector_all("#search-results .search-hit", "els => els.map(e => e.dataset.index)")]
    assert items == expected[: len(items)] and len(items) == min(100, len(expected))
    assert probe.page.get_attribute("#search-results .search-hit.active", "data-index") == str(expected[0])
    probe.page.press("#search", "Enter")
    probe.wait(f"__projector.selected === {expected[1]}")
    probe.page.press("#search", "Shift+Enter")
    probe.wait(f"__projector.selected === {expected[0]}")
    # Clicking a result selects it and lists its neighbours.
    probe.page.click(f"#search-results .search-hit[data-index='{expected[5]}']")
    probe.wait(f"__projector.selected === {expected[5]} && __projector.neighbors.length === 10")
    probe.page.wait_for_selector("#neighbors button[data-index]")
    assert "Point #" in probe.page.inner_text("#selected-point")
    probe.screenshot("search-list")
    probe.assert_clean_console()


def test_matches_are_drawn_large_and_ringed(probe, server):
    probe.open()
    before = probe.count_colour(probe.canvas_png("search-before"), MATCH_RING)
    _search(probe, "^4$")
    probe.page.press("#search", "Enter")
    probe.wait("__projector.matchCount > 100 && __projector.selected >= 0")
    probe.page.wait_for_timeout(300)
    count = probe.hook("matchCount")
    after = probe.count_colour(probe.canvas_png("search-rings"), MATCH_RING)
    # A ring of a 10-pixel point covers well over 8 pixels; a 2-pixel dot would not.
    assert after - before > 8 * count, (before, after, count)


def test_a_regex_that_matches_nothing_says_so(probe):
    probe.open()
    _search(probe, "^nothing here$")
    probe.page.press("#search", "Enter")
    probe.page.wait_for_function("() => document.querySelector('#search-count').textContent.startsWith('0 matches')")
    assert probe.page.eval_on_selector_all("#search-results .search-hit", "els => els.length") == 0
    assert probe.hook("selected") == -1
