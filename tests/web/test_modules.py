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


def test_palette_stays_distinct_past_fifty(page):
    rgb = page.evaluate("async () => Array.from((await import('/colors.js')).categoricalPalette(60))")
    colours = np.array(rgb, dtype=float).reshape(-1, 3)
    d = np.sqrt(((colours[:, None, :] - colours[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    assert len({tuple(c) for c in colours}) == 60
    assert d.min() > 12  # no two of the 60 colours are near-identical
