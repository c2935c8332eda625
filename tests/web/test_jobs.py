"""Following a running projection: over Server-Sent Events, and by polling only when the stream fails."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.browser

# The first t-SNE of a server compiles its kernels (the tests run it with --no-warm-up).
SLOW = 180_000


@pytest.fixture(scope="module")
def blobs(server):
    """300 points in three blobs: a t-SNE of them takes a few seconds."""
    rng = np.random.default_rng(3)
    centres = rng.normal(scale=6.0, size=(3, 10))
    X = (centres[np.arange(300) % 3] + rng.normal(size=(300, 10))).astype(np.float32)
    return server.upload(X, metadata={"blob": [f"b{i % 3}" for i in range(300)]}, name="blobs300")


def _run_tsne(probe, perplexity):
    """Run a t-SNE from the panel and wait until it is the finished projection on screen."""
    before = probe.hook("projectionId")
    probe.page.select_option("#method", "tsne")
    probe.page.fill("#param-perplexity", str(perplexity))
    probe.page.fill("#param-n_iter", "300")
    probe.page.click("#run")
    probe.wait(
        f"__projector.projectionId !== {before!r} && __projector.projectionMethod === 'tsne' && __projector.projectionStatus === 'done'",
        timeout=SLOW,
    )


def test_the_page_follows_a_job_over_server_sent_events(probe, blobs):
    probe.open(f"?dataset={blobs['id']}")
    urls: list[str] = []
    probe.page.on("request", lambda r: urls.append(r.url))
    _run_tsne(probe, 17)
    pid = probe.hook("projectionId")
    assert any(u.endswith(f"/api/projections/{pid}/events") for u in urls), urls
    # No polling of the projection while the stream works.
    assert not any(u.endswith(f"/api/projections/{pid}") for u in urls), urls
    updates = probe.hook("updates")
    assert updates.get("events", 0) >= 2 and "poll" not in updates, updates
    # Frames while it ran, then the final layout.
    assert probe.hook("coordsVersion") >= 3
    assert probe.page.inner_text("#progress-text").startswith("t-SNE 3D · done")
    probe.assert_clean_console()


def test_polling_takes_over_when_the_stream_fails(probe, blobs):
    probe.page.route("**/events", lambda route: route.abort())
    probe.open(f"?dataset={blobs['id']}")
    _run_tsne(probe, 19)
    updates = probe.hook("updates")
    assert updates.get("poll", 0) >= 1 and "events" not in updates, updates
    assert probe.hook("pointsDrawn") == 300
    assert probe.hook("visibleErrors") == []
