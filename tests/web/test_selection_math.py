"""The selection's pure modules, run inside Chromium: the rasterized point-in-polygon test against
brute force (both paths: projecting in the Worker's code, and reading a pick index), combining
selections, placing cluster names, and the selection in the URL."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(probe):
    probe.open("?dataset=none", ready=False)  # any page of the app: we only import modules
    return probe.page


def test_both_selection_paths_match_brute_force(page):
    res = page.evaluate(
        """async () => {
            const { selectInPolygon, selectFromIndex, boxPolygon } = await import('/selection/region.js');
            const { buildScreenIndex } = await import('/picking.js');
            const { viewProjection, homeCamera, multiply, modelFromBounds, projectPoint } = await import('/camera.js');
            let seed = 3;
            const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
            const out = [];
            for (const dims of [2, 3]) {
                const n = 20000, width = 640.5, height = 480;
                const coords = new Float32Array(n * dims).map(() => (rand() + rand() - 1) * 1.4);
                const mvp = multiply(viewProjection(homeCamera(dims), width / height), modelFromBounds([0, 0, 0], 1));
                const flags = new Uint8Array(n).map(() => (rand() < 0.1 ? 8 : 0));
                const shapes = {
                    box: boxPolygon(100.25, 80.5, 420.75, 300.1),
                    // A hand-drawn-like outline that crosses itself (even-odd: the overlap is outside).
                    bowtie: Float32Array.of(120, 100, 520, 380, 520, 100, 120, 380),
                    wiggly: Float32Array.from({ length: 600 }, (_, i) => {
                        const k = i >> 1, t = 2 * Math.PI * k / 300, r = 160 + 40 * Math.sin(7 * t);
                        return i % 2 ? 240 + r * Math.sin(t) : 320 + r * Math.cos(t);
                    }),
                    // Past the canvas on two sides: clipped to what is on screen.
                    outside: Float32Array.of(-50, -50, 700, -50, 700, 200, -50, 200),
                };
                const index = buildScreenIndex(coords, dims, mvp, width, height, 1);
                for (const [name, polygon] of Object.entries(shapes)) {
                    for (const hidden of [false, true]) {
                        const q = { mvp, width, height, polygon, ...(hidden ? { flags, hiddenBit: 8 } : {}) };
                        const a = Array.from(selectInPolygon(coords, dims, q));
                        const b = Array.from(selectFromIndex(index, n, q));
                        // Brute force with the page's own projection, points within 1e-3 px of an edge skipped.
                        const m = polygon.length / 2;
                        const want = [], unsure = new Set();
                        for (let i = 0; i < n; i++) {
                            if (hidden && flags[i] & 8) continue;
                            const p = projectPoint(mvp, coords[i * dims], coords[i * dims + 1], dims > 2 ? coords[i * dims + 2] : 0, width, height);
                            if (!p.visible || p.x < 0 || p.x >= width || p.y < 0 || p.y >= height) continue;
                            let odd = false;
                            for (let k = 0; k < m; k++) {
                                const l = (k + 1) % m;
                                const ax = Math.min(width, Math.max(0, polygon[2 * k])), ay = Math.min(height, Math.max(0, polygon[2 * k + 1]));
                                const bx = Math.min(width, Math.max(0, polygon[2 * l])), by = Math.min(height, Math.max(0, polygon[2 * l + 1]));
                                if ((ay > p.y) !== (by > p.y)) {
                                    const x = ax + (p.y - ay) * (bx - ax) / (by - ay);
                                    if (Math.abs(x - p.x) < 1e-3) unsure.add(i);
                                    if (p.x < x) odd = !odd;
                                }
                            }
                            if (odd) want.push(i);
                        }
                        const key = (arr) => arr.filter((i) => !unsure.has(i)).join(',');
                        out.push({ dims, name, hidden, a: a.length, b: b.length, want: want.length,
                                   sortedA: a.every((v, k) => k === 0 || a[k - 1] < v), sameAB: a.join(',') === b.join(','),
                                   matches: key(a) === key(want) });
                    }
                }
            }
            return out;
        }"""
    )
    for r in res:
        assert r["sameAB"] and r["matches"] and r["sortedA"], r
        if r["name"] != "outside":
            assert r["want"] > 100, r
    assert any(r["name"] == "bowtie" and r["a"] > 0 for r in res)


def test_combining_selections(page):
    res = page.evaluate(
        """async () => {
            const { combine } = await import('/selection/region.js');
            const a = Uint32Array.of(1, 3, 5, 7, 9), b = Uint32Array.of(0, 3, 4, 9, 12);
            return {
                replace: Array.from(combine(a, b, 'replace')),
                add: Array.from(combine(a, b, 'add')),
                remove: Array.from(combine(a, b, 'remove')),
                emptyAdd: Array.from(combine(new Uint32Array(0), b, 'add')),
                removeAll: Array.from(combine(b, b, 'remove')),
            };
        }"""
    )
    assert res == {
        "replace": [0, 3, 4, 9, 12],
        "add": [0, 1, 3, 4, 5, 7, 9, 12],
        "remove": [1, 5, 7],
        "emptyAdd": [0, 3, 4, 9, 12],
        "removeAll": [],
    }


def test_cluster_names_never_overlap(page):
    res = page.evaluate(
        """async () => {
            const { placeLabels } = await import('/selection/clusters.js');
            const boxes = [
                { x0: 0, y0: 0, x1: 100, y1: 20 },    // the largest cluster: always kept
                { x0: 50, y0: 10, x1: 150, y1: 30 },  // overlaps the first
                { x0: 100, y0: 0, x1: 160, y1: 20 },  // touches the first only at its edge
                { x0: 120, y0: 15, x1: 200, y1: 35 }, // overlaps the third
                { x0: 0, y0: 40, x1: 80, y1: 60 },
            ];
            return placeLabels(boxes);
        }"""
    )
    assert res == [0, 2, 4]


def test_saved_selection_in_the_url(page):
    res = page.evaluate(
        """async () => {
            const u = await import('/urlstate.js');
            const text = u.formatUrl({ dataset: 'd1', projection: 'p1', selection: 'left star' });
            return { text, back: u.readUrl(text) };
        }"""
    )
    assert "selection=left+star" in res["text"]
    assert res["back"]["selection"] == "left star" and res["back"]["dataset"] == "d1"
