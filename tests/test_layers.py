"""The layers of DESIGN.md, checked from the source: who may import whom, and no
module pair that imports each other (a cycle hidden in a function-level import is
still a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("gateway", "schema", "resolvers", "services", "models")

#: package -> the packages of ours it must never import (observability is in services/,
#: the lowest layer every other one may use).
FORBIDDEN = {
    "models": {"services", "resolvers", "schema", "gateway", "strawberry"},
    "services": {"resolvers", "schema", "gateway", "strawberry"},
    "resolvers": {"gateway"},
    "schema": {"gateway"},
}


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Every module named by an import anywhere in the file, top level or not."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")[: -node.level] if node.level else []
                stem = ".".join([*base, node.module] if node.module else base)
            else:
                stem = node.module or ""
            names.add(stem)
            names.update(f"{stem}.{alias.name}" for alias in node.names)
    return names


MODULES = _modules()
GRAPH = {name: _imports(path, name) & MODULES.keys() - {name} for name, path in MODULES.items()}


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_imports_nothing_above_it(package: str) -> None:
    bad = []
    for name, path in MODULES.items():
        if name.split(".")[0] != package:
            continue
        for imported in _imports(path, name):
            if imported.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{name} imports {imported}")
    assert not bad, "\n".join(sorted(set(bad)))


def test_no_two_modules_import_each_other() -> None:
    pairs = sorted(
        f"{a} <-> {b}"
        for a, targets in GRAPH.items()
        for b in targets
        if a < b
        and a in GRAPH.get(b, set())
        # a package's __init__ re-exporting its own submodules is not a cycle
        and not (b.startswith(a + ".") or a.startswith(b + "."))
    )
    assert not pairs, "modules that import each other:\n" + "\n".join(pairs)
