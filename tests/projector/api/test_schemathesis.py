"""schemathesis, every check and every phase (stateful included), against a live server: the document says what the API does."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from projector.serve_process import ServeProcess

# Statuses schemathesis allows a schema-valid request by default; an operation adds those it declares
# in `x-beyond-schema` (rules no schema can state: file contents, ranges that depend on the dataset).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
SECONDS = 50  # schemathesis' own time budget; the phases share it


def schemathesis_config(document: dict) -> str:  # type: ignore[type-arg]
    lines = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("x-beyond-schema"):
                statuses = ACCEPTED + operation["x-beyond-schema"]
                lines += ["[[operations]]", f'include-name = "{method.upper()} {path}"']
                lines += [f"checks.positive_data_acceptance.expected-statuses = {json.dumps(statuses)}", ""]
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
        command = [
            "st", "--config-file", str(config), "run", schema_url, "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful", "--max-examples", "4", "--max-time", str(SECONDS),
            "--workers", "1", "--seed", "15", "--no-shrink", "--report", "junit", "--report-dir", str(tmp_path / "report"),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, timeout=SECONDS * 4, cwd=tmp_path)
    finally:
        server.stop()
    summary = result.stdout[-6000:]
    assert result.returncode == 0, summary + result.stderr[-2000:]
    assert "Stateful" in summary and "API Links" in summary  # the stateful phase ran, following the document's links
    assert "Traceback" not in server.output(), server.output()
