"""The package's layout draws its architecture, and the imports keep to it.

Every import under ``replay/`` is read from the source (relative ones resolved, those inside
functions and under ``TYPE_CHECKING`` included) and held against the layers below: a unit may
import only the units it is listed with. The tree itself keeps its shape: few modules at the
top, at least five subpackages each saying what it owns and may import, no module over 600
lines, none named like a standard-library module, no import cycle.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "replay"

# unit -> the units it may import (besides itself). A unit is a subpackage of replay or a
# top-level module. The order of the stack: errors < core < store, shaping, engines < player
# < transports, importers < plugin, cli; replay/__init__ re-exports lazily and may name any.
MAY_IMPORT: dict[str, set[str]] = {
    "errors": set(),
    "core": {"errors"},
    "store": {"errors", "core"},
    "shaping": {"errors", "core"},
    "engines": {"errors", "core"},
    "player": {"errors", "core", "store", "shaping"},
    "transports": {"errors", "core", "shaping", "player"},
    "importers": {"errors", "core", "store"},
    "plugin": {"errors", "core", "store", "shaping", "engines", "player", "transports"},
    "cli": {"errors", "core", "store", "importers"},
}


def modules() -> Iterator[tuple[str, Path]]:
    """Every module of the package as (dotted name, path)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def imported(name: str, path: Path) -> Iterator[tuple[int, str]]:
    """The modules ``name`` imports, with their lines: every ``import`` and ``from``
    statement anywhere in the file, relative ones resolved against ``name``'s package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield node.lineno, module
            for alias in node.names:  # ``from replay.core import hashing`` imports a module
                yield node.lineno, f"{module}.{alias.name}"


def unit_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "replay":
        return None
    return parts[1] if len(parts) > 1 else "replay"


def own_modules() -> set[str]:
    return {name for name, _ in modules()}


def test_every_unit_of_the_package_has_its_place_in_the_stack() -> None:
    units = {unit_of(name) for name, _ in modules()} - {"replay"}
    assert units == set(MAY_IMPORT)


def test_no_import_points_up_or_across_the_stack() -> None:
    known = own_modules()
    wrong = []
    for name, path in modules():
        unit = unit_of(name)
        if unit == "replay":  # replay/__init__: the public names, imported on first use
            continue
        for line, target in imported(name, path):
            if target not in known:
                continue
            other = unit_of(target)
            if other not in (unit, "replay") and other not in MAY_IMPORT[unit or ""]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
            if other == "replay":
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports the facade")
    assert wrong == []


def graph() -> dict[str, set[str]]:
    known = own_modules()
    edges: dict[str, set[str]] = {}
    for name, path in modules():
        targets = {target for _, target in imported(name, path) if target in known}
        # A package's __init__ is imported on the way to its modules: not an edge of the code.
        edges[name] = targets - {name} - {t for t in targets if name.startswith(t + ".")}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_modules() -> None:
    assert cycles(graph()) == []


def test_no_import_cycle_between_subpackages() -> None:
    edges: dict[str, set[str]] = {}
    for name, targets in graph().items():
        unit = unit_of(name) or ""
        edges.setdefault(unit, set()).update(
            other for t in targets if (other := unit_of(t) or "") != unit
        )
    edges.pop("replay", None)
    for targets in edges.values():
        targets.discard("replay")
    assert cycles(edges) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_few_modules_at_the_top_and_at_least_five_subpackages() -> None:
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= 12, top
    subpackages = sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))
    assert len(subpackages) >= 5, subpackages


@pytest.mark.parametrize("unit", sorted(set(MAY_IMPORT) - {"errors", "player"}))
def test_each_subpackage_says_what_it_owns_and_may_import(unit: str) -> None:
    docstring = ast.get_docstring(ast.parse((PACKAGE / unit / "__init__.py").read_text()))
    assert docstring is not None and "May import:" in docstring
    allowed = docstring.split("May import:", 1)[1]
    for other in MAY_IMPORT[unit]:
        assert f"replay.{other}" in allowed, (unit, other)


def test_no_module_is_over_600_lines() -> None:
    long = {
        name: count
        for name, path in modules()
        if (count := len(path.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_no_module_is_named_like_a_standard_library_module() -> None:
    # ``__main__`` (``python -m replay.cli``) and ``__init__`` are Python's own file names.
    clashing = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*")
        if path.stem in sys.stdlib_module_names and not path.stem.startswith("__")
    ]
    assert clashing == []


def test_names_of_the_modules_that_became_packages_still_import() -> None:
    """0.1's ``replay.store``, ``replay.shaping`` and ``replay.cli`` were modules: their names
    still import from the packages, which load the modules only when a name is asked for."""
    import subprocess

    program = (
        "import sys\n"
        "import replay.store, replay.shaping, replay.cli\n"
        "assert 'replay.store.directory' not in sys.modules, 'imported eagerly'\n"
        "from replay.store import DirectoryStore, MemoryStore, write_atomic\n"
        "from replay.shaping import Shaper, Shaping, seed_of_test, shaper_of_test\n"
        "from replay.cli import build_parser, main\n"
        "import replay\n"
        "assert DirectoryStore is replay.DirectoryStore and Shaping is replay.Shaping\n"
        "assert main is sys.modules['replay.cli.command_line'].main\n"
        "try:\n"
        "    replay.store.Nothing\n"
        "except AttributeError as error:\n"
        "    assert \"'replay.store' has no attribute 'Nothing'\" in str(error)\n"
        "else:\n"
        "    raise AssertionError('no error')\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
