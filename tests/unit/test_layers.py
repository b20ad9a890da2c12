"""Imports point inward: nothing below the engine imports the engine or a face, and the
engine imports no face (``docs/contributing.md``'s layers)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mnemo"
FACES = {"memory", "cli", "service", "client", "compat", "worker", "mcp", "integrations"}
BELOW_ENGINE = ["core", "store", "providers", "retrieval", "kinds", "lifecycle", "orchestrator"]


def mnemo_imports(path: Path) -> set[str]:
    """The ``mnemo`` subpackages a module imports (``TYPE_CHECKING`` imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("mnemo.")}
    return found


def modules(package: str) -> list[Path]:
    return sorted((PACKAGE / package).rglob("*.py"))


@pytest.mark.parametrize("package", BELOW_ENGINE)
def test_layers_below_the_engine_do_not_import_it(package: str) -> None:
    wrong = {
        str(path.relative_to(PACKAGE)): sorted(mnemo_imports(path) & (FACES | {"engine"}))
        for path in modules(package)
    }
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_engine_imports_no_face() -> None:
    wrong = {str(p.relative_to(PACKAGE)): mnemo_imports(p) & FACES for p in modules("engine")}
    assert {path: names for path, names in wrong.items() if names} == {}


def test_the_check_sees_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("if TYPE_CHECKING:\n    from mnemo.engine import AsyncMemory\n")
    assert mnemo_imports(module) == {"engine"}
