"""The dependency rules of DESIGN.md, checked on the source: who may import what."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
STDLIB = frozenset(sys.stdlib_module_names)

#: part -> foretell modules it may import (prefix match). Third-party imports are never
#: allowed at module level in these parts; `lazy` lists those allowed inside functions.
RULES: dict[str, tuple[str, ...]] = {
    "foretell.predictor": ("foretell.predictor",),
    "foretell.core": ("foretell.core", "foretell.errors"),
    "foretell.worker": ("foretell.worker", "foretell.predictor", "foretell.core.events"),
}
LAZY_ALLOWED = {"foretell.predictor": ("yaml", "pydantic", "numpy")}
CORE_FORBIDDEN = ("asyncio", "sqlite3", "socket", "subprocess", "threading")


def _modules(part: str) -> list[Path]:
    return sorted((SRC / part.replace(".", "/")).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(imported module, imported at module level?) for every import in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    top_level = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in top_level) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, id(node) in top_level or _in_type_checking(tree, node)))
    return found


def _in_type_checking(tree: ast.Module, target: ast.AST) -> bool:
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            if any(child is target for child in ast.walk(node)):
                return True
    return False


@pytest.mark.parametrize("part", sorted(RULES))
def test_part_imports_only_what_design_allows(part: str) -> None:
    """Each stdlib-only part imports only the stdlib and the foretell modules DESIGN.md allows."""
    allowed = RULES[part]
    lazy = LAZY_ALLOWED.get(part, ())
    violations = []
    for path in _modules(part):
        for module, top in _imports(path):
            root = module.split(".")[0]
            if root == "foretell":
                ok = module.startswith(allowed) or module == "foretell"
            elif root == "cog":
                ok = False
            else:
                ok = root in STDLIB or (not top and root in lazy)
            if not ok:
                violations.append(f"{path.relative_to(SRC)} imports {module}")
    assert violations == []


def test_core_does_no_io() -> None:
    """foretell.core imports no I/O or concurrency module: it is pure domain logic."""
    violations = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in _modules("foretell.core")
        for module, _ in _imports(path)
        if module.split(".")[0] in CORE_FORBIDDEN
    ]
    assert violations == []


def test_worker_side_imports_no_third_party_module_at_runtime() -> None:
    """Importing the worker, the predictor interface and `cog` loads only the standard library."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import foretell.worker.loop, foretell.predictor, cog\n"
        "names = {m.split('.')[0] for m in set(sys.modules) - before}\n"
        "print(' '.join(sorted(n for n in names if n not in sys.stdlib_module_names)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert set(result.stdout.split()) <= {"foretell", "cog"}
