"""Training steps of a logdir embedding: one picker entry per sequence, stepping with the
view kept, t-SNE layouts aligned through `init_from`, Play, links to a step, bookmarks."""

from __future__ import annotations

import time
import urllib.parse

import pytest

from tests.web.conftest import LOGDIR_STEPS

pytestmark = pytest.mark.browser

TSNE = {"perplexity": 5, "n_iter": 300}
# The first t-SNE compiles its kernels (the server runs with --no-warm-up).
SLOW = 180_000


def _tsne_of(server, dataset_id):
    return [p for p in server.get(f"api/datasets/{dataset_id}/projections") if p["method"] == "tsne"]


def _wait_step(probe, dataset_id, timeout=SLOW):
    probe.wait(f"__projector.datasetId === {dataset_id!r} && __projector.projectionStatus === 'done'"
               " && __projector.projectionId !== null", timeout=timeout)  # fmt: skip


def test_sequence_steps_align_play_link_and_bookmarks(logdir_probe, logdir_server):
    probe, server = logdir_probe, logdir_server
    steps = server.logdir_datasets()
    ids = [d["id"] for d in steps]
    assert len(ids) == LOGDIR_STEPS and len({d["sequence"] for d in steps}) == 1, steps
    assert all(d["has_bookmarks"] for d in steps), steps

    # One picker entry for the sequence, with its step count; the step control shows.
    probe.open(f"?dataset={ids[0]}")
    labels = probe.page.eval_on_selector_all("#dataset-select option", "els => els.map((e) => e.textContent)")
    assert sum("3 steps" in label for label in labels) == 1, labels
    assert not any(steps[0]["name"] in label and "steps" not in label for label in labels), labels
    assert probe.page.is_visible("#step-control")
    assert probe.hook("steps") == ids
    assert "(1/3)" in probe.page.inner_text("#step-label")
    assert probe.page.is_disabled("#step-prev")

    # A 2D t-SNE of step 0, run from the panel.
    probe.page.select_option("#method", "tsne")
    probe.page.check("#dims-2")
    probe.page.fill("#param-perplexity", str(TSNE["perplexity"]))
    probe.page.fill("#param-n_iter", str(TSNE["n_iter"]))
    probe.page.click("#run")
    deadline = time.monotonic() + 30
    while not _tsne_of(server, ids[0]):
        assert time.monotonic() < deadline, "Run did not request a t-SNE"
        time.sleep(0.1)
    [tsne0] = _tsne_of(server, ids[0])
    assert tsne0["dims"] == 2 and tsne0["params"]["perplexity"] == TSNE["perplexity"], tsne0
    _wait_step(probe, ids[0])
    probe.wait(f"__projector.projectionId === {tsne0['id']!r} && __projector.projectionStatus === 'done'", timeout=SLOW)
    colour = probe.hook("color")
    assert colour, "a categorical column colours the points"

    # ] steps forward: the next step's dataset, in the URL, with a t-SNE started from the one shown.
    probe.page.keyboard.press("]")
    _wait_step(probe, ids[1])
    [tsne1] = _tsne_of(server, ids[1])
    assert tsne1["params"].get("init_from") == tsne0["id"], tsne1
    assert tsne1["dims"] == 2 and tsne1["params"]["perplexity"] == TSNE["perplexity"], tsne1
    assert probe.hook("projectionId") == tsne1["id"]
    assert urllib.parse.parse_qs(urllib.parse.urlparse(probe.page.url).query)["dataset"] == [ids[1]]
    assert probe.hook("color") == colour
    assert "(2/3)" in probe.page.inner_text("#step-label")
    probe.screenshot("sequence-step1-tsne")

    # Back: step 0 already has that t-SNE, so it is shown again rather than recomputed.
    probe.page.click("#step-prev")
    _wait_step(probe, ids[0])
    assert probe.hook("projectionId") == tsne0["id"]
    assert len(_tsne_of(server, ids[0])) == 1

    # Play walks to the last step, each layout started from the previous step's.
    probe.page.click("#step-play")
    probe.wait("__projector.playing")
    probe.wait(f"!__projector.playing && __projector.datasetId === {ids[2]!r} && __projector.projectionStatus === 'done'", timeout=SLOW)
    [tsne2] = _tsne_of(server, ids[2])
    assert tsne2["params"].get("init_from") == tsne1["id"], tsne2
    assert probe.hook("projectionId") == tsne2["id"]
    assert probe.page.inner_text("#step-play").endswith("Play")
    probe.screenshot("sequence-played")

    # The link reopens that step (and its projection).
    url = probe.page.url
    assert f"dataset={ids[2]}" in url and f"projection={tsne2['id']}" in url
    probe.page.goto(url)
    _wait_step(probe, ids[2], timeout=30_000)
    assert probe.hook("projectionId") == tsne2["id"]
    assert "(3/3)" in probe.page.inner_text("#step-label")
    assert probe.page.is_disabled("#step-next")

    # Bookmarks: listed; a click highlights the saved points and applies the saved colouring.
    probe.page.wait_for_selector("#bookmarks-panel:not([hidden]) .bookmark")
    assert probe.page.locator(".bookmark").count() == 2
    probe.page.locator(".bookmark", has_text="first five").click()
    probe.wait("__projector.highlighted === 5 && __projector.color === 'cluster'")
    assert "5 points" in probe.page.inner_text("#search-count")
    assert "q=" not in probe.page.url  # a bookmark is not a search query
    time.sleep(0.3)
    path = probe.screenshot("sequence-bookmark")
    assert path.exists()
    assert probe.hook("errors") == []
    probe.assert_clean_console()


def test_group_datasets_orders_steps_and_keeps_lone_datasets(logdir_probe):
    logdir_probe.open("?dataset=none", ready=False)  # any page of the app: we only import a module
    groups = logdir_probe.page.evaluate(
        """async () => {
            const { groupDatasets } = await import('/ui/datasets.js');
            const d = (id, sequence, step) => ({ id, name: sequence ? 'run/words' : id, n: 3, dim: 2, source: sequence ? 'logdir' : 'upload', sequence, step });
            return groupDatasets([d('a', 's', 2), d('u', undefined, undefined), d('b', 's', 0), d('c', 's', null), d('x', 't', 5)])
              .map((g) => ({ key: g.key, steps: g.steps.map((s) => s.id) }));
        }"""
    )
    assert groups == [
        {"key": "seq:s", "steps": ["b", "a", "c"]},
        {"key": "u", "steps": ["u"]},
        {"key": "seq:t", "steps": ["x"]},
    ]
