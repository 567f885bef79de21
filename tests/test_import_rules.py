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

#: the engines: concrete classes only server.py (and the CLI) may put together
ENGINE_MODULES = (
    "foretell.store.sqlite",
    "foretell.queue.memory",
    "foretell.files.local",
    "foretell.streaming.hub",
    "foretell.streaming.memory",
    "foretell.engines",
    # the cluster's
    "foretell.store.postgres",
    "foretell.queue.redis",
    "foretell.streaming.redis",
    "foretell.files.s3",
)
ENGINE_NAMES = frozenset(
    {
        "Consumer",
        "LocalFiles",
        "MemoryBus",
        "MemoryQueue",
        "ModelHost",
        "PostgresStore",
        "RedisBus",
        "RedisQueue",
        "S3Files",
        "Runner",
        "SQLiteStore",
        "StreamHub",
    }
)
#: part -> foretell modules it must never import (prefix match), TYPE_CHECKING included.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "foretell.api": (
        "foretell.runner",
        "foretell.hosting",
        "foretell.server",
        "foretell.cli",
        "foretell.worker",
        *ENGINE_MODULES,
    ),
    "foretell.admission": ("foretell.api", "foretell.runner", "foretell.hosting", *ENGINE_MODULES),
    "foretell.retention": ("foretell.api", "foretell.runner", *ENGINE_MODULES),
    "foretell.hosting": ("foretell.api",),
    "foretell.registry": ("foretell.api", "foretell.runner", *ENGINE_MODULES),
    "foretell.store": ("foretell.api", "foretell.runner", "foretell.queue", "foretell.files"),
    "foretell.queue": ("foretell.api", "foretell.runner", "foretell.store", "foretell.files"),
    "foretell.files": ("foretell.api", "foretell.runner", "foretell.store", "foretell.queue"),
    "foretell.streaming": ("foretell.api", "foretell.runner", "foretell.hosting"),
    "foretell.webhooks": ("foretell.api", "foretell.runner", "foretell.hosting"),
    "foretell.runner": ("foretell.api", "foretell.hosting", "foretell.server"),
    # the protocols of the seam load no engine
    "foretell.store.protocol": ENGINE_MODULES,
    "foretell.queue.protocol": ENGINE_MODULES,
    "foretell.files.protocol": ENGINE_MODULES,
    "foretell.streaming.bus": ENGINE_MODULES,
}


def _modules(part: str) -> list[Path]:
    path = SRC / part.replace(".", "/")
    if path.with_suffix(".py").is_file():  # a one-module part, like foretell.hosting
        return [path.with_suffix(".py")]
    return sorted(path.rglob("*.py"))


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


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_part_never_imports_what_design_forbids(part: str) -> None:
    """Each part stays off the layers DESIGN.md keeps it from (no import cycle, no engine in
    the API): they meet only in server.py."""
    violations = [
        f"{path.relative_to(SRC)} imports {module}"
        for path in _modules(part)
        for module, _ in _imports(path)
        if module.startswith(FORBIDDEN[part])
    ]
    assert _modules(part) and violations == []


def test_api_names_no_engine() -> None:
    """The API types what it uses by protocols: it imports no engine class, from any module."""
    violations = []
    for path in _modules("foretell.api"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom):
                names = {alias.name for alias in node.names} & ENGINE_NAMES
                violations += [f"{path.relative_to(SRC)} imports {n}" for n in sorted(names)]
    assert violations == []


def test_importing_the_api_loads_no_runner_and_no_engine() -> None:
    """Loading the whole HTTP app pulls in neither the runner, the model host, nor any engine
    (the packages' __init__s re-export only their protocols)."""
    code = "import sys\nimport foretell.api.app\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = result.stdout.split()
    banned = ("foretell.runner", "foretell.hosting", "foretell.server", *ENGINE_MODULES)
    assert "foretell.api.app" in loaded
    assert [m for m in loaded if m.startswith(banned)] == []


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
