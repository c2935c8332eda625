"""projector.notebook: URL building and the IFrame, without starting a browser."""

from __future__ import annotations

import subprocess
import sys

import pytest

from projector import notebook


def test_importing_does_not_import_ipython():
    code = "import sys, projector.notebook; print('IPython' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_view_url():
    assert notebook.view_url("http://h:1") == "http://h:1/"
    assert notebook.view_url("http://h:1/", "d 1", "p") == "http://h:1/?dataset=d+1&projection=p"


def test_show_with_a_running_server_url():
    pytest.importorskip("IPython")
    frame = notebook.show(dataset="abc", projection="p1", url="http://127.0.0.1:9/", height=420)
    assert frame.src == "http://127.0.0.1:9/?dataset=abc&projection=p1"
    assert frame.height == 420


def test_projection_needs_dataset():
    pytest.importorskip("IPython")
    with pytest.raises(ValueError):
        notebook.show(projection="p1", url="http://127.0.0.1:9/")
