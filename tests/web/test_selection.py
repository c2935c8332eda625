"""Lasso and box selection driven with the mouse, and what the selection panel does with the rows:
Isolate (a new dataset), Label (a metadata column), save and reopen by link, export, and the
neighbours of the selection's centroid."""

from __future__ import annotations

import csv
import io
import json
import math
import urllib.parse
import urllib.request

import pytest

pytestmark = pytest.mark.browser

# Points whose screen position lies within this distance (CSS px) of the outline may fall on
# either side of it (float rounding); every other point must be classified exactly.
EDGE_PX = 1.0

INSIDE_JS = """([poly, edge]) => {
    const inside = [], near = [];
    const m = poly.length;
    for (let i = 0; i < __projector.n; i++) {
        const p = __projector.screenOf(i);
        if (!p || !p.visible) continue;
        let odd = false, dmin = Infinity;
        for (let k = 0; k < m; k++) {
            const [ax, ay] = poly[k], [bx, by] = poly[(k + 1) % m];
            if ((ay > p.y) !== (by > p.y) && p.x < ax + (p.y - ay) * (bx - ax) / (by - ay)) odd = !odd;
            const dx = bx - ax, dy = by - ay, len2 = dx * dx + dy * dy || 1;
            const t = Math.max(0, Math.min(1, ((p.x - ax) * dx + (p.y - ay) * dy) / len2));
            dmin = Math.min(dmin, Math.hypot(p.x - ax - t * dx, p.y - ay - t * dy));
        }
        if (dmin < edge) near.push(i);
        else if (odd) inside.push(i);
    }
    return {inside, near};
}"""


def _expected(probe, polygon):
    """Rows whose drawn position is inside the polygon (page px), and rows too near its edge to call."""
    res = probe.page.evaluate(INSIDE_JS, [[list(p) for p in polygon], EDGE_PX])
    return set(res["inside"]), set(res["near"])


def _selection(probe, expr):
    return probe.page.evaluate(f"() => window.__projectorSelection.{expr}")


def _drag(probe, points, modifier=None, shot=None):
    """Press at the first point, move through the others (a screenshot `shot` before letting go),
    release; wait for the new selection."""
    page = probe.page
    version = _selection(probe, "version")
    if modifier:
        page.keyboard.down(modifier)
    page.mouse.move(*points[0])
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*p)
    if shot:
        page.wait_for_timeout(100)
        probe.screenshot(shot)
    page.mouse.up()
    if modifier:
        page.keyboard.up(modifier)
    page.wait_for_function(f"() => window.__projectorSelection.version > {version}", timeout=15_000)
    return set(_selection(probe, "rows"))


def _box(probe, x0, y0, x1, y1, modifier=None):
    steps = [(x0 + (x1 - x0) * t / 6, y0 + (y1 - y0) * t / 6) for t in range(7)]
    found = _drag(probe, steps, modifier)
    return found, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _stage(probe):
    box = probe.page.locator("#scatter").bounding_box()
    return box["x"], box["y"], box["width"], box["height"]


def _assert_same(found, expected, near):
    """The selection equals the expected rows, but for rows too near an outline to call."""
    assert found - near == expected - near, (len(found - near), len(expected - near), sorted((found - near) ^ (expected - near))[:10])


def _show_dims(probe, dims):
    """Switch the demo's view to a PCA in `dims` (computed or found) and wait until it can be picked."""
    if probe.hook("dims") != dims:
        probe.page.click(f"#dims-{dims}")
    probe.wait(f"__projector.dims === {dims} && __projector.projectionStatus === 'done'", timeout=60_000)
    probe.wait_pick_ready()


def test_box_selection_in_3d_adds_and_removes(probe):
    probe.open()
    _show_dims(probe, 3)
    page = probe.page
    page.click("#tool-box")
    assert _selection(probe, "tool") == "box"
    x, y, w, h = _stage(probe)
    a = (x + w * 0.30, y + h * 0.30, x + w * 0.55, y + h * 0.60)
    found, rect_a = _box(probe, *a)
    inside_a, near_a = _expected(probe, rect_a)
    assert len(inside_a) > 30
    _assert_same(found, inside_a, near_a)
    assert page.inner_text("#selection-count").startswith(f"{len(found):,} points selected")

    # Shift adds a second box; Alt removes a third that overlaps both.
    b = (x + w * 0.50, y + h * 0.55, x + w * 0.70, y + h * 0.80)
    after_add, rect_b = _box(probe, *b, modifier="Shift")
    inside_b, near_b = _expected(probe, rect_b)
    near = near_a | near_b
    _assert_same(after_add, inside_a | inside_b, near)
    c = (x + w * 0.40, y + h * 0.40, x + w * 0.60, y + h * 0.65)
    after_remove, rect_c = _box(probe, *c, modifier="Alt")
    inside_c, near_c = _expected(probe, rect_c)
    near |= near_c
    _assert_same(after_remove, (inside_a | inside_b) - inside_c, near)
    assert after_remove and probe.hook("highlighted") == len(after_remove)
    probe.screenshot("selection-box-3d")

    # A click without a drag clears; Escape turns the tool off and the camera orbits again.
    page.mouse.click(x + 5, y + 5)
    page.wait_for_function("() => window.__projectorSelection.count === 0")
    page.keyboard.press("Escape")
    assert _selection(probe, "tool") is None
    probe.assert_clean_console()


def _star(cx, cy, r_out, r_in, points=7):
    """A star-shaped (non-convex) outline, as page coordinates."""
    out = []
    for k in range(2 * points):
        r = r_out if k % 2 == 0 else r_in
        t = math.pi * k / points
        out.append((cx + r * math.cos(t), cy + r * math.sin(t)))
    return out


def test_lasso_in_2d_then_isolate_as_a_new_dataset(probe, server):
    probe.open()
    page = probe.page
    demo = server.demo()
    _show_dims(probe, 2)
    page.focus("#scatter")
    page.keyboard.press("l")  # the lasso's shortcut (outside text fields)
    assert _selection(probe, "tool") == "lasso"
    x, y, w, h = _stage(probe)
    star = _star(x + w * 0.5, y + h * 0.5, min(w, h) * 0.32, min(w, h) * 0.14)
    found = _drag(probe, [*star, star[0]], shot="selection-lasso-drawing")
    inside, near = _expected(probe, star)
    assert len(inside) > 50
    _assert_same(found, inside, near)
    timing = _selection(probe, "timing")
    print(f"lasso over {timing['points']} points: {timing['totalMs']:.1f} ms ({timing['path']} {timing['selectMs']:.1f} ms)")
    probe.screenshot("selection-lasso-2d")

    # Isolate: a new dataset of exactly these rows, opened and projected without pressing Run.
    page.click("#selection-isolate")
    probe.wait(
        f"__projector.datasetId !== {demo['id']!r} && __projector.n === {len(found)} && __projector.projectionStatus === 'done'",
        timeout=90_000,
    )
    subset = server.get(f"api/datasets/{probe.hook('datasetId')}")
    assert subset["parent"] == demo["id"] and subset["n"] == len(found)
    # Its metadata rows are the parent's, in row order.
    parent_labels = server.get(f"api/datasets/{demo['id']}/metadata")["rows"]
    sub_labels = server.get(f"api/datasets/{subset['id']}/metadata")["rows"]
    assert sub_labels == [parent_labels[i] for i in sorted(found)]
    assert _selection(probe, "count") == 0
    assert page.input_value("#dataset-select") == subset["id"]
    probe.screenshot("selection-isolated")
    probe.assert_clean_console()


def test_label_the_selection_and_colour_by_it(probe, server):
    probe.open()
    page = probe.page
    demo = server.demo()
    page.click("#tool-box")
    x, y, w, h = _stage(probe)
    found, _ = _box(probe, x + w * 0.55, y + h * 0.25, x + w * 0.80, y + h * 0.55)
    assert found
    column = "picked_by_test"
    page.fill("#label-column", column)
    page.fill("#label-value", "yes")
    page.click("#label-apply")
    probe.wait(f"__projector.color === {column!r} && __projector.colorVersion > 0", timeout=30_000)
    page.wait_for_function(f"() => [...document.querySelectorAll('#color-by option')].some(o => o.value === {column!r})")
    with urllib.request.urlopen(server.url + f"api/datasets/{demo['id']}/metadata.tsv") as resp:
        table = list(csv.reader(io.StringIO(resp.read().decode()), delimiter="\t"))
    k = table[0].index(column)
    marked = {i for i, row in enumerate(table[1:]) if row[k] == "yes"}
    assert marked == found
    # The legend lists the new value with its count; the selection stays on screen.
    page.wait_for_function(
        f"() => [...document.querySelectorAll('#legend .legend-item')].some(b => b.textContent.includes('yes') && b.textContent.includes('{len(found):,}'))"
    )
    assert _selection(probe, "count") == len(found)
    probe.screenshot("selection-labelled")
    page.click("#theme-toggle")
    page.wait_for_timeout(300)
    probe.screenshot("selection-night")
    probe.assert_clean_console()


def test_save_reopen_by_link_export_and_centroid_neighbours(probe, browser, server):
    from tests.web.conftest import PageProbe, new_page

    probe.open()
    page = probe.page
    demo = server.demo()
    page.click("#tool-lasso")
    x, y, w, h = _stage(probe)
    found = _drag(probe, [*_star(x + w * 0.4, y + h * 0.55, 110, 60, 5), (x + w * 0.4 + 110, y + h * 0.55)])
    assert found

    # Export: a TSV of the rows with their metadata, and JSON.
    with page.expect_download() as download:
        page.click("#selection-tsv")
    lines = download.value.path().read_text().splitlines()
    assert lines[0].split("\t")[0] == "index" and "label" in lines[0].split("\t")
    assert {int(line.split("\t")[0]) for line in lines[1:]} == found
    with page.expect_download() as download:
        page.click("#selection-json")
    body = json.loads(download.value.path().read_text())
    assert set(body["rows"]) == found and body["dataset"] == demo["id"] and len(body["metadata"]) == len(found)

    # Neighbours of the centroid: the API's answer for the mean vector, listed and highlighted.
    page.click("#selection-centroid")
    page.wait_for_function("() => document.querySelectorAll('#centroid-neighbors .neighbor').length === 10")
    listed = [int(i) for i in page.eval_on_selector_all("#centroid-neighbors .neighbor", "els => els.map(e => e.dataset.index)")]
    assert probe.hook("matches") == listed

    # Save: the name goes into the link, and the link reopens the selection.
    page.fill("#selection-name", "left star")
    page.click("#selection-save")
    page.wait_for_function("() => new URLSearchParams(location.search).get('selection') === 'left star'")
    saved = server.get(f"api/datasets/{demo['id']}/selections/{urllib.parse.quote('left star')}")
    assert set(saved["rows"]) == found
    url = page.url
    context, other = new_page(browser)
    try:
        reopened = PageProbe(other, server, probe.artifacts)
        other.goto(url)
        other.wait_for_function(f"() => window.__projectorSelection && window.__projectorSelection.count === {len(found)}", timeout=60_000)
        assert set(other.evaluate("() => window.__projectorSelection.rows")) == found
        assert "left star" in other.inner_text("#selection-count")
        reopened.wait("__projector.ready && __projector.projectionStatus === 'done'")
        other.wait_for_timeout(300)
        reopened.screenshot("selection-reopened")
        reopened.assert_clean_console()
    finally:
        context.close()
    probe.assert_clean_console()
