"""vectorstore/ is sub-packages by concern with no import circle: every import of every module is read
(function-level and type-checking ones too)."""
from __future__ import annotations

import ast
from pathlib import Path

from common import REPO

PACKAGE = REPO / "vectorstore"
ORDER = ["embedding", "chroma", "keyword"]  # each sub-package imports only those before it
ABOVE = {"vectorstore.retriever", "vectorstore.index"}  # the top-level modules that use the sub-packages
MAX_LINES = 600


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def imports(tree: ast.Module) -> list[tuple[ast.ImportFrom | ast.Import, str]]:
    """(node, module imported) for every import of a vectorstore module; ``from package import module`` counts
    as an import of the module."""
    found: list[tuple[ast.ImportFrom | ast.Import, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node, a.name) for a in node.names if a.name.split(".")[0] == "vectorstore"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            module = node.module
            if module.split(".")[0] != "vectorstore":
                continue
            found += [(node, f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module) for a in node.names]
    return found


def graph() -> dict[str, set[str]]:
    """Module → the vectorstore modules it imports (a package's ``__init__`` holds no code and is left out)."""
    return {
        name: {m for _, m in imports(parse(path)) if m in MODULES and m != name and path.name != "__init__.py"}
        for name, path in MODULES.items()
    }


def test_no_import_circle() -> None:
    edges = graph()
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            raise AssertionError("import circle: " + " -> ".join(path[path.index(name) :] + [name]))
        if name in done:
            return
        for other in sorted(edges[name]):
            visit(other, path + [name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])


def sub_package(name: str) -> str | None:
    return name.split(".")[1] if name.count(".") >= 2 else None


def test_sub_packages_import_only_those_below_them() -> None:
    """embedding ← chroma ← keyword; the shared modules at the top (records, errors, settings, lock, background)
    import none of them."""
    wrong = []
    for name, imported in graph().items():
        mine = sub_package(name)
        if mine is None and name in ABOVE:
            continue
        for other in imported:
            theirs = sub_package(other)
            if theirs is not None and (mine is None or ORDER.index(theirs) > ORDER.index(mine)):
                wrong.append(f"{name} imports {other}")
    assert not wrong


def test_no_late_import_of_the_package_and_no_private_names() -> None:
    """Imports of vectorstore modules sit at the top of the module (none in a function or under TYPE_CHECKING),
    and no module imports another's private (``_x``) names."""
    wrong = []
    for name, path in MODULES.items():
        tree = parse(path)
        top = {id(node) for node in tree.body}
        for node, module in imports(tree):
            if id(node) not in top:
                wrong.append(f"{name}:{node.lineno} imports {module} late")
            if isinstance(node, ast.ImportFrom) and any(a.name.startswith("_") for a in node.names):
                wrong.append(f"{name}:{node.lineno} imports a private name of {node.module}")
    assert not wrong


def test_no_module_over_600_lines() -> None:
    lines = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in MODULES.items()}
    assert not {name: n for name, n in lines.items() if n > MAX_LINES}
