"""The custom-projection panel (TensorBoard's custom axes): four queries and a column, run as the
method "custom"; each axis separates the rows its two queries match."""

from __future__ import annotations

import urllib.request

import numpy as np
import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def weather(server):
    """400 rows: 'hot'/'cold' rows lie apart along one direction, 'big'/'small' along another."""
    rng = np.random.default_rng(31)
    n = 400
    temp = rng.integers(0, 2, n)
    size = rng.integers(0, 2, n)
    X = rng.normal(size=(n, 12)).astype(np.float32)
    X[:, 3] += np.where(temp == 1, 4.0, -4.0)
    X[:, 7] += np.where(size == 1, 4.0, -4.0)
    words = [f"{('cold', 'hot')[t]} {('small', 'big')[s]}" for t, s in zip(temp, size)]
    return server.upload(X, metadata={"word": words, "row": [f"r{i}" for i in range(n)]}, name="weather")


def _coords(server, pid):
    with urllib.request.urlopen(server.url + f"api/projections/{pid}/coords") as resp:
        n, dims = (int(v) for v in resp.headers["X-Shape"].split(","))
        return np.frombuffer(resp.read(), dtype="<f4").reshape(n, dims)


def test_custom_axes_from_the_panel(probe, server, weather):
    probe.open(f"?dataset={weather['id']}")
    page = probe.page
    page.click("#custom-details summary")
    # Every query is needed: the panel says which are missing instead of asking the server.
    page.fill("#custom-x_left", "cold")
    page.click("#custom-run")
    assert "Right" in page.inner_text("#custom-note")
    page.select_option("#custom-column", "word")
    page.fill("#custom-x_right", "^hot")
    page.fill("#custom-y_down", "small$")
    page.fill("#custom-y_up", "big")
    page.click("#custom-run")
    probe.wait("__projector.projectionMethod === 'custom' && __projector.projectionStatus === 'done' && __projector.dims === 2", timeout=90_000)
    pid = probe.hook("projectionId")
    p = server.get(f"api/projections/{pid}")
    assert p["params"]["column"] == "word" and p["params"]["x_right"] == "^hot"
    Y = _coords(server, pid)
    words = [row[0] for row in server.get(f"api/datasets/{weather['id']}/metadata")["rows"]]
    hot = np.array(["hot" in w for w in words])
    big = np.array(["big" in w for w in words])
    # Each axis separates its two queries' rows (and the other axis does not).
    assert Y[hot, 0].min() > Y[~hot, 0].max() or np.mean(Y[hot, 0] > np.median(Y[~hot, 0])) > 0.95
    assert Y[hot, 0].mean() > Y[~hot, 0].mean() + 3
    assert Y[big, 1].mean() > Y[~big, 1].mean() + 3
    assert abs(Y[big, 0].mean() - Y[~big, 0].mean()) < 1.5
    page.select_option("#color-by", "word")
    probe.wait("__projector.color === 'word'")
    page.wait_for_timeout(300)
    probe.screenshot("custom-axes")
    probe.assert_clean_console()


def test_a_query_that_matches_nothing_is_reported(probe, weather):
    probe.open(f"?dataset={weather['id']}")
    page = probe.page
    page.click("#custom-details summary")
    for name, value in (("x_left", "cold"), ("x_right", "hot"), ("y_down", "small"), ("y_up", "no such word")):
        page.fill(f"#custom-{name}", value)
    page.click("#custom-run")
    page.wait_for_function("() => document.querySelectorAll('#errors .error').length > 0", timeout=60_000)
    assert "no such word" in page.inner_text("#errors")
