"""schemathesis, every check and every phase (stateful included), against a live server: the document says what the API does."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from projector.serve_process import ServeProcess

# Statuses schemathesis allows a schema-valid request by default; an operation adds those it declares
# in `x-beyond-schema` (rules no schema can state: file contents, ranges that depend on the dataset).
# The routes under a DELETE marked `x-keeps-resource` (cancelling) are not held to "a deleted resource is gone".
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# Time budgets (s): examples, coverage and fuzzing of every operation; then the stateful phase on its own, so that
# it has time to follow the links from an upload to the dataset's routes and on to its projections.
RUNS = (("examples,coverage,fuzzing", 25), ("stateful", 30))


def schemathesis_config(document: dict) -> str:  # type: ignore[type-arg]
    # Only the document's own links: schemathesis' guessed ones would also lead to optional resources (a sprite).
    # Every check (`--checks all` in the file: a check named on the command line overrides the operations' settings below).
    lines = ["[checks]", "enabled = true", "max_response_time = 10.0", "", "[phases.stateful.inference]", "algorithms = []", ""]
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
        outputs = []
        for phases, seconds in RUNS:
            command = [
                "st", "--config-file", str(config), "run", schema_url, "--phases", phases,
                "--max-examples", "4", "--max-time", str(seconds), "--workers", "1", "--seed", "15", "--no-shrink",
            ]  # fmt: skip
            result = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 4, cwd=tmp_path)
            outputs.append(result.stdout[-6000:])
            assert result.returncode == 0, phases + "\n" + result.stdout[-6000:] + result.stderr[-2000:]
    finally:
        server.stop()
    links = re.search(r"API Links:\s+(\d+) covered", outputs[-1])
    assert links is not None and int(links.group(1)) >= 5, outputs[-1]  # the stateful phase followed the document's links
    assert "Traceback" not in server.output(), server.output()
