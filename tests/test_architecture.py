"""The package tree shows the pipeline: a folder per stage, a lower stage never imports a
higher one, and no two modules import each other, however indirectly.

Every import counts: at the top of a module, inside a function, or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import infrawright

PACKAGE = Path(infrawright.__file__).parent

#: The stages, lowest first; the root modules ("") come before all of them. A module may
#: import its own stage and the stages before it. DESIGN.md explains each one.
STAGES = (
    "",
    "catalog",
    "repo",
    "model",
    "build",
    "validate",
    "plan",
    "render",
    "change",
    "report",
    "integrations",
    "agents",
    "cli",
)
MAX_ROOT_MODULES = 6


def _module_name(path: Path) -> str:
    parts = ["infrawright", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str:
    """The module ``name`` is in: itself, or the nearest package above it (for
    ``from infrawright.x import some_function``)."""
    known = modules()
    while name not in known:
        name = name.rpartition(".")[0]
    return name


@cache
def imports() -> dict[str, frozenset[str]]:
    """Each module's imports of other modules of the package."""
    out: dict[str, frozenset[str]] = {}
    for name, path in modules().items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found.update(_resolve(a.name) for a in node.names if _ours(a.name))
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                if not _ours(base):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    found.add(full if full in modules() else _resolve(base))
        found.discard(name)
        out[name] = frozenset(found)
    return out


def _ours(name: str) -> bool:
    return name == "infrawright" or name.startswith("infrawright.")


def stage_of(module: str) -> str:
    parts = module.split(".")
    path = modules()[module]
    at_root = len(parts) == 1 or (len(parts) == 2 and path.name != "__init__.py")
    return "" if at_root else parts[1]


def _cycle() -> list[str] | None:
    """One import cycle, as the modules along it, or None."""
    graph = imports()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state:
                found = visit(target)
                if found:
                    return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            found = visit(module)
            if found:
                return found
    return None


def test_the_import_graph_is_read() -> None:
    graph = imports()
    assert "infrawright.build.kustomize" in graph["infrawright.build.ahead"]
    assert "infrawright.errors" in graph["infrawright.change.apply"]
    # An import inside a function counts as well.
    assert "infrawright.agents.mcp_server" in graph["infrawright.cli.app"]


def test_no_module_imports_itself_through_others() -> None:
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_folder_is_a_stage() -> None:
    folders = {stage_of(m) for m in modules()}
    assert folders <= set(STAGES), f"place {sorted(folders - set(STAGES))} in STAGES"


@pytest.mark.parametrize("module", sorted(modules()))
def test_a_stage_imports_only_itself_and_the_stages_before_it(module: str) -> None:
    rank = STAGES.index(stage_of(module))
    higher = sorted(t for t in imports()[module] if STAGES.index(stage_of(t)) > rank)
    assert not higher, f"{module} ({stage_of(module) or 'root'}) imports later stages: {higher}"


def test_few_modules_at_the_package_root() -> None:
    root = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(root) <= MAX_ROOT_MODULES, root
