"""The architecture, enforced: which package may import which, no import cycles, small files, no machine paths.

Dependencies point one way: `ui -> {assistant, kb_ingest}`, `kb_ingest -> assistant`; the assistant never
imports Streamlit, `kb_ingest` or `ui`; the evaluation harness `evals` may import everything and nothing in
the product imports it. Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("assistant", "kb_ingest", "ui")
PACKAGES = (*PRODUCT, "evals")
MAX_PRODUCT_LINES = 400
MACHINE_PATHS = ("/work/", "/tmp/")
# package -> top-level names it must never import
FORBIDDEN = {
    "assistant": {"streamlit", "kb_ingest", "ui", "evals"},
    "kb_ingest": {"streamlit", "ui", "evals"},
    "ui": {"evals"},
}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(path: Path) -> Iterator[tuple[str, int]]:
    """(absolute dotted name, line) of every import in the file; `from a import b` yields "a.b" and "a"."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def build_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module of the four packages or other top-level package: first line}."""
    modules = {module_name(p): p for package in PACKAGES for p in python_files(package)}
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        edges: dict[str, int] = {}
        for imported, line in imported_names(path):
            if imported.split(".")[0] in PACKAGES:
                # The most specific module this names: `from assistant.escalation import policy` is a module,
                # `from assistant.types import Turn` is a name in one.
                while imported and imported not in modules:
                    imported = imported.rpartition(".")[0]
            else:
                imported = imported.split(".")[0]
            if imported and imported != name:
                edges.setdefault(imported, line)
        graph[name] = edges
    return graph


def find_cycles(graph: Mapping[str, Mapping[str, int]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), as sorted lists."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


@pytest.fixture(scope="module")
def graph() -> dict[str, dict[str, int]]:
    return build_graph()


def test_the_walker_sees_imports_at_every_level(graph):
    # Module level, inside a function (kb_ingest/cli.py imports its commands lazily), relative and submodule.
    assert "assistant.types" in graph["assistant.conversation"]
    assert "kb_ingest.indexing" in graph["kb_ingest.cli"]
    assert "ui.views.chat" in graph["ui.app"]
    assert "streamlit" in graph["ui.app"]
    assert "assistant.escalation.policy" in graph["assistant.escalation"]
    assert len(graph) > 50


def test_cycle_finder_finds_a_planted_cycle():
    planted = {"a": {"b": 1}, "b": {"c": 1}, "c": {"a": 1}, "d": {"a": 1}}
    assert find_cycles(planted) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b": 1}, "b": {}}) == []


def test_no_import_cycles(graph):
    cycles = find_cycles(graph)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


@pytest.mark.parametrize("package", PRODUCT)
def test_dependencies_point_one_way(graph, package):
    wrong = [
        f"{module} imports {target} (line {line})"
        for module, edges in graph.items() if module.split(".")[0] == package
        for target, line in edges.items() if target.split(".")[0] in FORBIDDEN[package]
    ]
    assert not wrong, f"Expected {package} never to import {sorted(FORBIDDEN[package])}; got:\n" + "\n".join(wrong)


def test_nothing_outside_ui_imports_ui(graph):
    wrong = [f"{module} imports {target}" for module, edges in graph.items() if not module.startswith("ui")
             for target in edges if target.split(".")[0] == "ui"]
    assert not wrong, wrong


@pytest.mark.parametrize("package", PRODUCT)
def test_product_files_stay_small(package):
    long = {str(p.relative_to(ROOT)): n for p in python_files(package)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_PRODUCT_LINES}
    assert not long, f"Expected at most {MAX_PRODUCT_LINES} lines per file (one job per module); got {long}"


@pytest.mark.parametrize("package", PACKAGES)
def test_no_machine_paths_in_code(package):
    found = [f"{p.relative_to(ROOT)}:{number}: {line.strip()}" for p in python_files(package)
             for number, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if any(path in line for path in MACHINE_PATHS)]
    assert not found, "Expected no absolute machine paths; got:\n" + "\n".join(found)
