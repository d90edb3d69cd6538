"""The package's layout is its architecture: imports flow one way, with no circle, in small files.

The imports are read from the source with ``ast`` (every import counts: those under
``TYPE_CHECKING`` and those inside functions too, since a circle there still means neither side
can be read or changed alone).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "langchain_producer"
MAX_LINES = 400

# Each part of the package, by rank: a part may import parts of a lower rank (and itself).
# The vocabulary first, then paid-call safety, the pure plans, what runs them, the client, the
# tools and what assembles them; the old module paths and the package's front door last.
RANKS: dict[str, int] = {
    "_constants": 0,
    "errors": 1,
    "_display": 2,
    "models": 3,
    "params": 3,
    "settings": 4,
    "safety": 5,
    "protocol": 6,
    "download": 7,
    "drivers": 7,
    "client": 8,
    "tools": 9,
    "toolkit": 10,
    "webhooks": 10,
    "journal": 11,
    "spending": 11,
    "approval": 11,
    "__init__": 12,
}
# The emulator stands in for the service: it shares only the vendor's facts with the package,
# never the code under test.
EMULATOR_MAY_IMPORT = {"_constants"}


def _modules() -> dict[str, Path]:
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # ``from pkg import module`` imports that module
                full = f"{module}.{alias.name}"
                found.add(full if full in modules else module)
    return {module for module in found if module in modules and module != name}


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def _part(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_the_import_reader_sees_a_circle() -> None:
    """The check below can fail: a made-up circle is found."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]


def test_the_import_reader_sees_every_kind_of_import() -> None:
    modules = _modules()
    graph = _graph()
    assert "langchain_producer.client" in modules
    # A plain import, one under TYPE_CHECKING and a relative import inside the emulator.
    assert "langchain_producer.drivers.driver" in graph["langchain_producer.client"]
    assert "langchain_producer.drivers.connections" in graph["langchain_producer.drivers.driver"]
    assert "langchain_producer.emulator.media" in graph["langchain_producer.emulator.rendering"]


def test_no_import_circles() -> None:
    circles = _circles(_graph())
    assert not circles, "Import circles (break each by handing over what is needed): " + "; ".join(
        " <-> ".join(circle) for circle in circles
    )


def test_every_part_is_ranked() -> None:
    unranked = {_part(m) for m in _modules()} - set(RANKS) - {"emulator"}
    assert not unranked, f"Give these parts a rank in RANKS (and a docstring): {sorted(unranked)}"


def test_imports_flow_one_way() -> None:
    wrong = []
    for module, imported in _graph().items():
        here = _part(module)
        for other in imported:
            there = _part(other)
            if here == there:
                continue
            if here == "emulator":
                allowed = there in EMULATOR_MAY_IMPORT
            elif there == "emulator":
                allowed = False  # the package never runs on its test double
            else:
                allowed = RANKS[there] < RANKS[here]
            if not allowed:
                wrong.append(f"{module} imports {other}")
    assert not wrong, "Imports against the layering:\n" + "\n".join(sorted(wrong))


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_is_too_long(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines (at most {MAX_LINES}): split it"


def test_every_folder_says_what_lives_there_and_what_it_may_import() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        if init.parent == PACKAGE:
            continue
        assert "May import" in doc or "may import" in doc, f"{init}: say what it may import"


def test_the_readme_map_names_every_folder() -> None:
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("```text\nlangchain_producer/")
    folder_map = readme[start : readme.index("```", start + 3)]
    folders = {init.parent.name for init in PACKAGE.glob("*/__init__.py")}
    missing = {name for name in folders if f"{name}/" not in folder_map}
    assert not missing, f"README's folder map lacks {sorted(missing)}"
