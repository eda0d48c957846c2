"""The layers read top to bottom: only route modules (and the app) import the HTTP layer, and no
module imports a module that imports it back, at its top or inside a function."""

from __future__ import annotations

import ast
from pathlib import Path

import teleconsult

PACKAGE = Path(teleconsult.__file__).parent
HTTP_LAYER = "teleconsult.api"
# Modules above the route handlers: they assemble or describe the routes.
ABOVE_ROUTES = {"teleconsult.app", "teleconsult.openapi"}


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(path: Path, name: str) -> set[str]:
    """What a module imports, at its top or inside a function (a deferred import is still a
    dependency), but not under ``if TYPE_CHECKING``."""
    tree = ast.parse(path.read_text("utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if _is_type_checking(node):
            continue
        pending.extend(ast.iter_child_nodes(node))
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {m for m in found if m.startswith("teleconsult")}


def _modules() -> dict[str, set[str]]:
    modules = {_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    return {name: _imports(path, name) & modules.keys() for name, path in modules.items()}


def _defines_routes(name: str) -> bool:
    path = PACKAGE.parent / (name.replace(".", "/") + ".py")
    return path.exists() and "Router(" in path.read_text("utf-8")


def test_only_route_modules_import_the_http_layer() -> None:
    below = sorted(
        name
        for name, imports in _modules().items()
        if HTTP_LAYER in imports
        and name != HTTP_LAYER
        and name not in ABOVE_ROUTES
        and not _defines_routes(name)
    )
    assert below == []


def test_no_module_imports_one_that_imports_it_back() -> None:
    graph = _modules()
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if nxt == node:
                continue
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    # A package's __init__ importing its own modules is how a package is loaded, not a cycle.
    real = [c for c in cycles if not all(m.startswith(c[0] + ".") for m in c[1:-1])]
    assert real == []
