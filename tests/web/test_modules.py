"""Pure client modules (camera math, picking, exports, URL state), run inside Chromium."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture()
def page(probe):
    probe.open("?dataset=none", ready=False)  # any page of the app: we only import modules
    return probe.page


def test_camera_home_view_centres_and_contains_the_normalized_cloud(page):
    result = page.evaluate(
        """async () => {
            const c = await import('/camera.js');
            const out = {};
            for (const dims of [2, 3]) {
              const cam = c.homeCamera(dims);
              const m = c.viewProjection(cam, 1.5);
              const centre = c.projectPoint(m, 0, 0, 0, 600, 400);
              let inside = true;
              // 2D: the square's corners; 3D: the ends of every axis (the normalized cloud's extent).
              const pts = dims === 2 ? [[-1, -1, 0], [1, -1, 0], [-1, 1, 0], [1, 1, 0]]
                : [[-1, 0, 0], [1, 0, 0], [0, -1, 0], [0, 1, 0], [0, 0, -1], [0, 0, 1]];
              for (const [x, y, z] of pts) {
                const p = c.projectPoint(m, x, y, z, 600, 400);
                inside = inside && p.visible && p.x >= 0 && p.x <= 600 && p.y >= 0 && p.y <= 400;
              }
              out[dims] = {centre, inside};
            }
            return out;
        }"""
    )
    for dims in ("2", "3"):
        assert abs(result[dims]["centre"]["x"] - 300) < 1e-3
        assert abs(result[dims]["centre"]["y"] - 200) < 1e-3
        assert result[dims]["inside"], dims


def test_camera_zoom_2d_keeps_the_point_under_the_cursor(page):
    moved = page.evaluate(
        """async () => {
            const c = await import('/camera.js');
            const cam = c.homeCamera(2);
            const before = c.viewProjection(cam, 1);
            // the world point under NDC (0.5, -0.25)
            const wx = cam.target[0] + 0.5 * 1.15, wy = cam.target[1] - 0.25 * 1.15;
            const next = c.zoom(cam, 3, 0.5, -0.25, 1);
            const p = c.projectPoint(c.viewProjection(next, 1), wx, wy, 0, 2, 2);
            return [p.x - 1, 1 - p.y];
        }"""
    )
    assert moved == pytest.approx([0.5, -0.25], abs=1e-5)


def test_orbit_and_pan_move_the_camera_as_expected(page):
    r = page.evaluate(
        """async () => {
            const c = await import('/camera.js');
            const cam = c.homeCamera(3);
            const o = c.orbit(cam, 100, 0);
            const p = c.pan(cam, 50, 0, 500);
            const far = c.orbit(cam, 0, 100000);
            return {yaw: o.yaw - cam.yaw, pitch: o.pitch - cam.pitch, dist: o.distance - cam.distance,
                    panDist: Math.hypot(...p.target), maxPitch: far.pitch};
        }"""
    )
    assert r["yaw"] < 0 and r["pitch"] == 0 and r["dist"] == 0
    assert r["panDist"] > 0
    assert r["maxPitch"] < np.pi / 2


def test_pick_index_matches_brute_force(page):
    ok = page.evaluate(
        """async () => {
            const c = await import('/camera.js');
            const pk = await import('/picking.js');
            let s = 7; const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647;
            const n = 5000, coords = new Float32Array(n * 3).map(() => rnd() * 2 - 1);
            const m = c.viewProjection(c.homeCamera(3), 1.25);
            const idx = pk.buildScreenIndex(coords, 3, m, 500, 400);
            let bad = 0;
            for (let t = 0; t < 300; t++) {
              const x = rnd() * 500, y = rnd() * 400;
              const got = pk.pick(idx, x, y, 6, 0);
              // brute force: closest within 6 px
              let best = -1, bd = 36;
              for (let i = 0; i < n; i++) {
                const p = c.projectPoint(m, coords[3*i], coords[3*i+1], coords[3*i+2], 500, 400);
                if (!p.visible) continue;
                const d = (p.x - x) ** 2 + (p.y - y) ** 2;
                if (d < bd) { bd = d; best = i; }
              }
              if (got !== best) bad++;
            }
            return bad;
        }"""
    )
    assert ok == 0


def test_npy_export_loads_in_numpy(page):
    b64 = page.evaluate(
        """async () => {
            const e = await import('/export.js');
            const blob = e.toNpy(new Float32Array([1, 2, 3, 4.5, -5, 6]), 3);
            const bytes = new Uint8Array(await blob.arrayBuffer());
            return btoa(String.fromCharCode(...bytes));
        }"""
    )
    arr = np.load(io.BytesIO(base64.b64decode(b64)))
    assert arr.dtype == np.float32 and arr.shape == (2, 3)
    assert arr.tolist() == [[1, 2, 3], [4.5, -5, 6]]


def test_url_state_round_trips(page):
    r = page.evaluate(
        """async () => {
            const u = await import('/urlstate.js');
            const s = {dataset: 'a b', projection: 'p', point: 0, color: 'label', q: '^3$'};
            return u.readUrl(u.formatUrl(s));
        }"""
    )
    assert r == {"dataset": "a b", "projection": "p", "point": 0, "color": "label", "q": "^3$"}


def test_url_state_keeps_search_flags_neighbours_thumbnails_and_camera(page):
    r = page.evaluate(
        """async () => {
            const u = await import('/urlstate.js');
            const cam3 = {dims: 3, yaw: 0.5, pitch: -0.25, distance: 3.125, target: [0.1, -0.2, 0.3], zoom: 1};
            const cam2 = {dims: 2, zoom: 2.5, target: [0.5, -1, 0], yaw: 0, pitch: 0, distance: 1};
            const s = {dataset: 'd', color: '', label: 'name', q: 'num.y', regex: true, column: 'name',
                       k: 5, metric: 'euclidean', thumbs: true, cam: cam3};
            return {three: u.readUrl(u.formatUrl(s)), two: u.readUrl(u.formatUrl({dataset: 'd', cam: cam2})).cam,
                    junk: u.readUrl('?cam=3d:1,2&k=-3&metric=manhattan&regex=yes')};
        }"""
    )
    assert r["three"] == {
        "dataset": "d", "color": "", "label": "name", "q": "num.y", "regex": True, "column": "name", "k": 5,
        "metric": "euclidean", "thumbs": True,
        "cam": {"dims": 3, "yaw": 0.5, "pitch": -0.25, "distance": 3.125, "target": [0.1, -0.2, 0.3], "zoom": 1},
    }  # fmt: skip
    assert {k: r["two"][k] for k in ("dims", "zoom", "target", "yaw", "pitch")} == {
        "dims": 2,
        "zoom": 2.5,
        "target": [0.5, -1, 0],
        "yaw": 0,
        "pitch": 0,
    }
    assert r["junk"] == {}


def test_default_colour_column_prefers_few_categories(page):
    r = page.evaluate(
        """async () => {
            const { defaultColorColumn } = await import('/app/colour.js');
            const cat = (name, cardinality) => ({name, kind: 'categorical', cardinality});
            return [
              defaultColorColumn([cat('name', 30000), cat('month', 235), {name: 'year', kind: 'numeric'},
                                  cat('rank_bucket', 4), cat('topic', 13), cat('summary', 29034)], 30000),
              defaultColorColumn([cat('word', 10), cat('kind', 2)], 10),
              defaultColorColumn([cat('word', 10)], 10),
              defaultColorColumn([cat('index', 5), cat('a', 2), cat('b', 7)], 100),
              defaultColorColumn([cat('label', 10)], 1797),
            ];
        }"""
    )
    assert r == ["topic", "kind", "", "b", "label"]


def test_framing_ignores_far_outliers(page):
    r = page.evaluate(
        """async () => {
            const c = await import('/camera.js');
            let s = 11; const rnd = () => (s = (s * 16807) % 2147483647) / 2147483647 - 0.5;
            const n = 50000, coords = new Float32Array(n * 2).map(() => rnd());
            coords.set([1000, 1000, -800, 5], 0);  // two far outliers
            const robust = c.bounds(coords, 2);
            const small = c.bounds(new Float32Array([0, 0, 2, 4]), 2);
            const flags = new Uint8Array(n); flags.fill(8); flags[10] = 0; flags[11] = 0;
            const kept = c.bounds(coords, 2, flags, 8);
            // Rows in a repeating order (every 5th row elsewhere): a sample must not alias with it.
            const m = 100000, periodic = new Float32Array(m * 2);
            for (let i = 0; i < m; i++) { periodic[2 * i] = (i % 5 === 0 ? 0 : 10) + rnd(); periodic[2 * i + 1] = rnd(); }
            // UMAP of real text: a mass plus ~3% of the points in small islands far around it.
            const islands = new Float32Array(10000 * 2);
            for (let i = 0; i < 10000; i++) {
              const far = i % 33 === 0, a = far ? Math.floor(i / 330) * 0.7 : rnd() * 2 * Math.PI;
              const r = far ? 3 + 0.05 * rnd() : Math.sqrt(rnd() + 0.5);
              islands[2 * i] = r * Math.cos(a); islands[2 * i + 1] = r * Math.sin(a);
            }
            return {robust, small, kept, periodic: c.bounds(periodic, 2), islands: c.bounds(islands, 2),
                    expect: [coords[20], coords[21], coords[22], coords[23]]};
        }"""
    )
    assert r["robust"]["radius"] < 0.75  # the uniform mass spans 1; the outliers would make it 900
    assert max(abs(v) for v in r["robust"]["center"]) < 0.1
    assert r["small"] == {"center": [1, 2, 0], "radius": 2}  # few points: their full extent
    assert 0.9 < r["islands"]["radius"] < 1.35, r["islands"]  # the mass (radius 1), not the islands (3)
    assert r["periodic"]["radius"] > 4.5 and 4 < r["periodic"]["center"][0] < 6, r["periodic"]
    x0, y0, x1, y1 = r["expect"]
    assert r["kept"]["center"][:2] == pytest.approx([(x0 + x1) / 2, (y0 + y1) / 2], abs=1e-6)


def test_parameter_defaults_fit_the_data(page):
    r = page.evaluate(
        """async () => {
            const p = await import('/ui/params.js');
            const perp = {type: 'float', default: 30, minimum: 2, maximum: 500};
            const nn = {type: 'int', default: 15, minimum: 2, maximum: 200};
            return {
              perp: [10, 60, 92, 30000].map((n) => p.defaultFor('perplexity', perp, n)),
              nn: [10, 16, 30000].map((n) => p.defaultFor('n_neighbors', nn, n)),
              max: p.maxFor('perplexity', perp, 30000),
              other: p.defaultFor('n_iter', {type: 'int', default: 750, minimum: 50}, 10),
              impossible: p.impossible({perplexity: perp, n_iter: {type: 'int', default: 750}}, 7),
            };
        }"""
    )
    assert r["perp"] == [2, 19, 30, 30]  # 3 * perplexity < n - 1
    assert r["nn"] == [9, 15, 15]  # n_neighbors < n
    assert r["max"] == 500
    assert r["other"] == 750
    assert r["impossible"] == ["perplexity"]


def test_palette_stays_distinct_past_fifty(page):
    rgb = page.evaluate("async () => Array.from((await import('/colors.js')).categoricalPalette(60))")
    colours = np.array(rgb, dtype=float).reshape(-1, 3)
    d = np.sqrt(((colours[:, None, :] - colours[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert len({tuple(c) for c in colours}) == 60
    assert d.min() > 12  # no two of the 60 colours are near-identical
