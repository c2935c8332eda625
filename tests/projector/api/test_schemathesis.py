"""schemathesis, every check and every phase (stateful included), against a live server: the document says what the API does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from projector.api.openapi import openapi_document
from projector.api.routes import ENDPOINTS
from projector.serve_process import ServeProcess

# Statuses schemathesis allows a schema-valid request by default; an operation adds those it declares
# in `x-beyond-schema` (rules no schema can state: file contents, ranges that depend on the dataset).
# The routes under a DELETE marked `x-keeps-resource` (cancelling) are not held to "a deleted resource is gone".
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# One run, every phase once: a fixed amount of work (no --max-time, which fuzzing and stateful would fill and
# which skips the operations not reached in time). A scenario may take this many steps: an upload, its
# dataset's routes, a projection request, the projection's routes.
STATEFUL_STEPS = 16
TIMEOUT = 300  # seconds, for the whole run on a busy machine


def schemathesis_config(document: dict) -> str:  # type: ignore[type-arg]
    # Only the document's own links: schemathesis' guessed ones would also lead to optional resources (a sprite).
    # Every check (`--checks all` in the file: a check named on the command line overrides the operations' settings below).
    lines = ["[checks]", "enabled = true", "max_response_time = 10.0", ""]
    lines += ["[phases.stateful]", f"max-steps = {STATEFUL_STEPS}", "", "[phases.stateful.inference]", "algorithms = []", ""]
    kept = [path for path, operations in document["paths"].items() if operations.get("delete", {}).get("x-keeps-resource")]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            settings = []
            if operation.get("x-beyond-schema"):
                statuses = ACCEPTED + operation["x-beyond-schema"]
                settings.append(f"checks.positive_data_acceptance.expected-statuses = {json.dumps(statuses)}")
            if any(path.startswith(prefix) for prefix in kept):  # read after DELETE /api/projections/{pid}: cancelled, still there
                settings.append("checks.use_after_free.enabled = false")
            if "text/event-stream" in operation["responses"].get("200", {}).get("content", {}):  # the first event, not the whole job
                settings.append("max-stream-events = 1")
            if settings:
                lines += ["[[operations]]", f'include-name = "{method.upper()} {path}"', *settings, ""]
    return "\n".join(lines)


def operations(document: dict) -> Iterator[tuple[str, str]]:  # type: ignore[type-arg]
    return ((method.upper(), path) for path, methods in document["paths"].items() for method in methods)


def test_the_config_keeps_every_check_on_but_use_after_free_under_a_cancel(tmp_path: Path) -> None:
    """What schemathesis makes of the config, per operation and phase."""
    from schemathesis import openapi
    from schemathesis.config import SchemathesisConfig

    document = openapi_document(ENDPOINTS)
    path = tmp_path / "schemathesis.toml"
    path.write_text(schemathesis_config(document))

    schema = openapi.from_dict(document, config=SchemathesisConfig.from_path(str(path)))

    def disabled() -> dict[tuple[str, str | None], list[str]]:
        found = {}
        for result in schema.get_all_operations():
            operation = result.ok()
            for phase in (None, "coverage", "fuzzing", "stateful"):
                checks = schema.config.checks_config_for(operation=operation, phase=phase)
                found[(operation.label, phase)] = [
                    name for name in checks.__slots__ if name[0] != "_" and not checks.get_by_name(name=name).enabled
                ]
        return found

    kept = {f"{method} {path}" for method, path in operations(document) if path.startswith("/api/projections/{pid}")}
    for (label, phase), off in disabled().items():
        assert off == (["use_after_free"] if label in kept else []), (label, phase)
    # Why not `--checks all` on the command line: schemathesis lets it override every operation's setting.
    schema.config.checks.update(included_check_names=["all"])
    assert not any(disabled().values())


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("st") is None, reason="the schemathesis CLI is not installed")
def test_schemathesis_all_checks_and_phases(tmp_path: Path) -> None:
    server = ServeProcess("--no-demo", "--no-warm-up", "--log-level", "warning", data_dir=tmp_path / "data")
    try:
        schema_url = f"{server.url}/api/openapi.json"
        with urllib.request.urlopen(schema_url) as response:
            document = json.load(response)
        config = tmp_path / "schemathesis.toml"
        config.write_text(schemathesis_config(document))
        command = [
            "st", "--config-file", str(config), "run", schema_url, "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", "4", "--workers", "1", "--seed", "15", "--no-shrink",
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, cwd=tmp_path)
    finally:
        server.stop()
    summary = result.stdout[-8000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    selected, tested = re.search(r"Selected: (\d+)/\d+", summary), re.search(r"Tested: (\d+)", summary)
    assert selected and tested and tested[1] == selected[1] and "Skipped:" not in summary, summary  # every operation, none cut short
    links = re.search(r"API Links:\s+(\d+) covered", summary)
    assert links is not None and int(links.group(1)) >= 5, summary  # the stateful phase followed the document's links
    assert "Traceback" not in server.output(), server.output()
