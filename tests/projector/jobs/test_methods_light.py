"""`GET /api/methods` answers from the method table alone: describing the methods imports none of
the numeric libraries (a server started with --no-warm-up once spent ~8 s importing them on the
first call)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("numba", "sklearn", "umap", "pynndescent", "fast_hdbscan", "reducers.tsne", "reducers.umap_layout")

PROBE = f"""
import json, sys
from projector.api.handlers import service
from projector.jobs.methods import describe_methods
methods = describe_methods()
print(json.dumps({{"methods": sorted(methods), "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def test_describing_the_methods_imports_no_numeric_library():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert {"pca", "tsne", "umap", "custom"} <= set(found["methods"])
    assert found["heavy"] == []
