"""The module-level import graph of ``testbed/`` has no cycle.

Every module under ``testbed/`` is parsed (not imported) with :mod:`ast`;
an edge A -> B is an import of B that runs when A is imported: at module
level, in a class body, or in a module-level ``try``/``if``/``with``, but
not inside a function and not under ``if TYPE_CHECKING:``.  ``from P import
N`` is an edge to ``P.N`` when that is a module, to ``P`` otherwise.
Importing a submodule runs its packages' ``__init__`` first, so an edge to
``P.M`` is also an edge to ``P`` -- unless ``P`` is a package of the
importing module itself, which Python has imported (or is importing)
before that module runs.  Function-level imports are how a cycle is broken
on purpose, so they are ignored.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "testbed"

#: Cycles that exist and are out of scope to break here, as sorted module
#: lists.  A new cycle fails the test; so does one listed here that is gone.
KNOWN_CYCLES: List[List[str]] = []


def module_names(root: Path = ROOT) -> Dict[str, Path]:
    """Dotted name -> file of every module under ``testbed/``."""
    names = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _is_type_checking(test: ast.expr) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _run_at_import(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a body that run when the module is imported."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        yield node
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _run_at_import(node.body)
            yield from _run_at_import(node.orelse)
        elif isinstance(node, ast.ClassDef):
            yield from _run_at_import(node.body)
        elif isinstance(node, (ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)):
            yield from _run_at_import(node.body)
            yield from _run_at_import(getattr(node, "orelse", []))
        elif isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
            yield from _run_at_import(node.body)
            for handler in node.handlers:
                yield from _run_at_import(handler.body)
            yield from _run_at_import(node.orelse)
            yield from _run_at_import(node.finalbody)


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> Optional[str]:
    """The absolute name ``from X import ...`` refers to (relative imports resolved)."""
    if not node.level:
        return node.module
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join([*parts, node.module] if node.module else parts)


def _packages(name: str) -> Set[str]:
    """Every package above a dotted name (``a.b.c``: ``a``, ``a.b``)."""
    parts = name.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def imports_of(module: str, known: Dict[str, Path]) -> Set[str]:
    """The testbed modules importing ``module`` runs (see the module docstring)."""
    path = known[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found: Set[str] = set()
    for node in _run_at_import(tree.body):
        targets: List[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            if base is None:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in known else base)
        own = _packages(module) | ({module} if is_package else set())
        for target in targets:
            if target != PACKAGE and not target.startswith(PACKAGE + "."):
                continue
            if target in known:
                found.add(target)
            found.update(p for p in _packages(target) if p in known and p not in own)
    found.discard(module)
    return found


def import_graph(root: Path = ROOT) -> Dict[str, Set[str]]:
    """Module -> the testbed modules it imports at import time."""
    known = module_names(root)
    return {module: imports_of(module, known) for module in known}


def cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """The strongly connected components with more than one module (Tarjan), sorted."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: List[List[str]] = []
    counter = [0]

    def visit(start: str) -> None:
        work: List[Tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def test_the_module_level_import_graph_has_no_new_cycle():
    found = cycles(import_graph())
    new = [c for c in found if c not in KNOWN_CYCLES]
    gone = [c for c in KNOWN_CYCLES if c not in found]
    assert not new, f"import cycles (break one edge with a function-level import): {new}"
    assert not gone, f"known cycles that are gone: remove them from KNOWN_CYCLES: {gone}"


def test_only_the_entry_points_import_the_cli():
    """Commands print through ``testbed.console``; ``testbed.cli`` is only the group."""
    known = module_names()
    importers = []
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):  # function-level imports count here too
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(module, path.name == "__init__.py", node) or ""
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            if f"{PACKAGE}.cli" in names:
                importers.append(module)
    assert sorted(set(importers)) == [f"{PACKAGE}.__main__"]


def test_the_checker_sees_a_cycle_and_ignores_function_and_type_checking_imports(tmp_path):
    pkg = tmp_path / PACKAGE
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "a.py").write_text("from testbed.sub import b\n")
    (pkg / "sub" / "b.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from testbed import a\n"
        "def f():\n    import testbed.a\n"
        "class C:\n    from ..c import x\n"
    )
    (pkg / "c.py").write_text("try:\n    import testbed.a as a\nexcept ImportError:\n    pass\n")
    graph = import_graph(tmp_path)
    assert graph["testbed.sub"] == {"testbed.sub.b"}
    assert graph["testbed.a"] == {"testbed.sub", "testbed.sub.b"}
    assert graph["testbed.sub.b"] == {"testbed.c"}
    assert graph["testbed.c"] == {"testbed.a"}
    assert cycles(graph) == [["testbed.a", "testbed.c", "testbed.sub", "testbed.sub.b"]]
