"""The layering of advisor/: the import graph has no cycle, and no module uses another
module's private (underscore) names.

The graph is read from the source with `ast`, not by importing: every import statement
counts, at module level or inside a function (a lazy import still ties the two modules
together), except those under `if TYPE_CHECKING:`, which never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "advisor"


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module and package under advisor/."""
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST):
    """Every Import / ImportFrom node, skipping the bodies of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _from_base(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The module a `from X import ...` in module `name` reads: relative levels resolved."""
    if not node.level:
        return node.module or ""
    package = (name if path.name == "__init__.py" else name.rpartition(".")[0]).split(".")
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imported_modules(name: str, path: Path, modules) -> set[str]:
    """The advisor modules that running module `name` (its file at `path`) imports."""
    found: set[str] = set()
    for node in _imports(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base_name = _from_base(name, path, node)
        # `from . import x` (or `from .pkg import x`) imports module x when there is one;
        # any other name is read from base_name itself
        names = {f"{base_name}.{alias.name}" for alias in node.names}
        found.update(names)
        if not names <= set(modules):
            found.add(base_name)
    targets = set()
    for target in found & set(modules):
        targets.add(target)
        # importing a.b.c runs the package a.b first, unless the importer lives in it
        parts = target.split(".")
        for i in range(1, len(parts)):
            parent = ".".join(parts[:i])
            if not (name == parent or name.startswith(parent + ".")):
                targets.add(parent)
    targets.discard(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imported_modules(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """(modules, one shortest cycle through the first) for each strongly connected
    component of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [(c, _one_cycle(graph, set(c), c[0])) for c in sorted(components)]


def _one_cycle(graph: dict[str, set[str]], members: set[str], start: str) -> list[str]:
    """A shortest path start -> ... -> start inside one component (breadth first)."""
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return paths[node] + [start]
            if nxt not in paths:
                paths[nxt] = paths[node] + [nxt]
                queue.append(nxt)
    raise AssertionError(f"{start} is in no cycle")


def test_the_reader(tmp_path):
    """Relative and lazy imports count, `from . import x` means module x, importing a
    submodule runs its package, `if TYPE_CHECKING:` does not count."""
    source = tmp_path / "a.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from . import b, VALUE\n"
        "if TYPE_CHECKING:\n    from .c import Thing\nelse:\n    import p.d\n"
        "def lazy():\n    from ..q.e import f\n"
        "def lazier():\n    if True:\n        from .sub import g\n"
    )
    modules = {"p", "p.a", "p.b", "p.c", "p.d", "q", "q.e", "p.sub"}
    assert imported_modules("p.a", source, modules) == {"p", "p.b", "p.d", "q", "q.e", "p.sub"}
    source.write_text("from . import b\nfrom .sub import g\n")  # p itself is not read
    assert imported_modules("p.a", source, modules) == {"p.b", "p.sub"}
    package = tmp_path / "__init__.py"
    package.write_text("from .a import x\nfrom .sub.deep import y\n")
    assert imported_modules("p", package, modules | {"p.sub.deep"}) == {
        "p.a",
        "p.sub",
        "p.sub.deep",
    }
    graph = import_graph()  # and it reads the real tree
    assert {"advisor.interrupts", "advisor.commands"} <= graph["advisor.cli"]


def test_the_cycle_finder():
    graph = {"a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [(["a", "b", "c"], ["a", "b", "a"])]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    found = cycles(import_graph())
    assert not found, "import cycles in advisor/:\n" + "\n".join(
        f"  {' -> '.join(cycle)}  (modules in the loop: {', '.join(members)})"
        for members, cycle in found
    )


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _dotted(node: ast.expr) -> str | None:
    """ "a.b.c" for the expression a.b.c, None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return None if head is None else f"{head}.{node.attr}"
    return None


def private_uses(name: str, path: Path, modules) -> list[str]:
    """`from .x import _name` and `x._name` in module `name`, where x is another module."""
    tree = ast.parse(path.read_text(), str(path))
    where = path.relative_to(PACKAGE.parent) if path.is_relative_to(PACKAGE.parent) else path.name
    out, local = [], {}  # local name -> the module it stands for
    for node in _imports(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local[alias.asname or alias.name.partition(".")[0]] = (
                    alias.name if alias.asname else alias.name.partition(".")[0]
                )
            continue
        base_name = _from_base(name, path, node)
        for alias in node.names:
            if f"{base_name}.{alias.name}" in modules:
                local[alias.asname or alias.name] = f"{base_name}.{alias.name}"
            elif base_name in modules and base_name != name and _private(alias.name):
                out.append(f"{where}:{node.lineno} imports {alias.name} from {base_name}")
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and _private(node.attr)):
            continue
        owner = _dotted(node.value)
        if owner is None:
            continue
        head, _, rest = owner.partition(".")
        module = local.get(head)
        if module is not None and rest:
            module = f"{module}.{rest}"
        if module in modules and module != name:
            out.append(f"{where}:{node.lineno} uses {node.attr} of {module}")
    return out


def test_the_private_name_finder(tmp_path):
    source = tmp_path / "a.py"
    source.write_text(
        "from .b import _hidden, shown\n"
        "from . import b, c as see\n"
        "import p.c\n"
        "import p.sub as s\n"
        "b._one(); see._two; p.c._three; s._four; b.__doc__; b.public; self._own\n"
        "def _mine(): return _mine\n"
    )
    modules = {"p", "p.a", "p.b", "p.c", "p.sub"}
    assert sorted(private_uses("p.a", source, modules)) == sorted(
        [
            "a.py:1 imports _hidden from p.b",
            "a.py:5 uses _one of p.b",
            "a.py:5 uses _two of p.c",
            "a.py:5 uses _three of p.c",
            "a.py:5 uses _four of p.sub",
        ]
    )


def test_no_module_uses_another_modules_private_names():
    modules = module_files()
    found = [use for name, path in modules.items() for use in private_uses(name, path, modules)]
    assert not found, "private names used across modules:\n" + "\n".join(found)
