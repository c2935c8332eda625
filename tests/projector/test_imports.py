"""The package's shape: no import cycles in projector/ (function-level imports count) and one-way layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRST_PARTY = {"projector", "reducers"}  # a function-level import of these would hide a cycle


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Every first-party module `path` imports, at any depth of the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for folder in ("projector", "reducers") for p in (ROOT / folder).rglob("*.py")}
    known = set(files)
    return {name: imports_of(path, name, known) for name, path in files.items()}


def parents(name: str) -> set[str]:
    """A module import runs its packages' __init__ too, but that is not an edge of the cycle check."""
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def test_no_import_cycles_in_projector() -> None:
    edges = {name: targets - parents(name) for name, targets in graph().items() if name.startswith("projector")}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " → ".join([*stack[stack.index(target) :], target]))
            if target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_layers_point_one_way() -> None:
    forbidden = {
        "projector.data": ("projector.jobs", "projector.api", "projector.cli", "projector.client"),
        "projector.jobs": ("projector.api", "projector.cli", "projector.client"),
        "projector.logdir": ("projector.api", "projector.jobs", "projector.data", "projector.cli", "projector.client", "projector.errors"),
        "reducers": ("projector",),
    }
    wrong = [
        f"{name} imports {target}"
        for name, targets in graph().items()
        for layer, banned in forbidden.items()
        if name == layer or name.startswith(layer + ".")
        for target in targets
        if any(target == b or target.startswith(b + ".") for b in banned)
    ]
    assert wrong == []


def test_no_function_level_imports_in_projector() -> None:
    lazy = []
    for path in (ROOT / "projector").rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for function in (n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))):
            for node in ast.walk(function):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                    relative = isinstance(node, ast.ImportFrom) and node.level > 0
                    if relative or any(n.split(".")[0] in FIRST_PARTY for n in names):
                        lazy.append(f"{path.relative_to(ROOT)}:{node.lineno} {names}")
    assert lazy == []


def test_no_source_file_over_500_lines() -> None:
    long = [
        f"{path.relative_to(ROOT)}: {n}" for path in (ROOT / "projector").rglob("*.py") if (n := len(path.read_text().splitlines())) > 500
    ]
    assert long == []


def test_the_server_and_cli_import_no_numeric_stack() -> None:
    # `projector --help` and a server start stay fast: scikit-learn, Numba, umap-learn and distributed
    # load only in job processes (projector.jobs.executors.named names the worker-side code).
    code = "import sys, projector.cli, projector.api.app; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout.split())
    assert not loaded & {"sklearn", "numba", "umap", "pynndescent", "distributed", "projector.jobs.worker", "projector.jobs.run"}
