"""The layout of tests/ and bench/: helpers live in tests/support/ and are imported as a
package, test modules never import each other, nothing edits sys.path, and every server
fixture starts, yields and stops through the one helper (tests/support/live.py).

Read from the source with `ast` (not by importing), so a lazy import inside a function
counts as much as one at the top.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import ROOT

TESTS = ROOT / "tests"
SUPPORT = TESTS / "support"
# Every Python file of the suite, the demo and the bench.
SOURCES = sorted([*TESTS.rglob("*.py"), *(ROOT / "bench").glob("*.py")])
TEST_MODULES = {p.stem for p in TESTS.glob("test_*.py")}


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted module) for every import; `from X import a` gives X (and X.a when X is
    the package tests or a relative one, where `a` may be a module)."""
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            out.append((node.lineno, base))
            if (
                node.level or node.module == "tests"
            ):  # `from tests import test_x`, `from . import x`
                out += [(node.lineno, f"{base}.{alias.name}".lstrip(".")) for alias in node.names]
    return out


def is_test_module(name: str) -> bool:
    parts = name.lstrip(".").split(".")
    if parts[0] == "tests":
        parts = parts[1:]
    return bool(parts) and (parts[0] in TEST_MODULES or parts[0] == "conftest")


def test_no_module_imports_a_test_module_or_conftest():
    """Shared fixtures go in conftest.py (pytest finds them), shared helpers in
    tests/support/: importing test_x or conftest runs that module twice under two names."""
    found = [
        f"{rel(p)}:{line} imports {name}"
        for p in SOURCES
        for line, name in imported(ast.parse(p.read_text(), str(p)))
        if is_test_module(name)
    ]
    assert not found, "\n".join(found)


def test_nothing_edits_sys_path():
    """Helpers are reached as the package tests.support (pytest's `pythonpath`, `python -m`),
    never by putting a folder on sys.path."""
    found = []
    for p in SOURCES:
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            target = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                target = node.func.value  # the insert, append or extend of sys.path
            elif isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                target = next(
                    (t.value if isinstance(t, ast.Subscript) else t for t in targets), None
                )
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "path"
                and isinstance(target.value, ast.Name)
                and target.value.id == "sys"
            ):
                found.append(f"{rel(p)}:{node.lineno}")
    assert not found, "sys.path edited at " + ", ".join(found)


def test_helpers_live_in_tests_support():
    """tests/ holds test modules, conftest.py, the demo and the package marker; every other
    module is a helper and belongs in tests/support/."""
    allowed = {"__init__.py", "conftest.py", "demo.py"}
    strays = [
        p.name
        for p in TESTS.glob("*.py")
        if p.name not in allowed and not p.name.startswith("test_")
    ]
    assert not strays, strays
    assert (SUPPORT / "__init__.py").is_file() and (TESTS / "__init__.py").is_file()
    assert (ROOT / "bench" / "__init__.py").is_file()


def _is_fixture(fn: ast.FunctionDef) -> bool:
    for d in fn.decorator_list:
        d = d.func if isinstance(d, ast.Call) else d
        if (isinstance(d, ast.Attribute) and d.attr == "fixture") or (
            isinstance(d, ast.Name) and d.id == "fixture"
        ):
            return True
    return False


def test_fixtures_stop_servers_through_the_one_helper():
    """A fixture that yields a server gets start, skip-if-missing and stop from
    tests/support/live.py (`running`, `running_all`): no fixture calls .stop() itself."""
    found = []
    for p in [TESTS / "conftest.py", *TESTS.glob("test_*.py")]:
        for fn in ast.walk(ast.parse(p.read_text(), str(p))):
            if not isinstance(fn, ast.FunctionDef) or not _is_fixture(fn):
                continue
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("stop", "start_or_skip")
                ) or (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "start_or_skip"
                ):
                    found.append(f"{rel(p)}:{node.lineno} ({fn.name})")
    assert not found, "\n".join(found)


def test_running_stops_the_server_and_skips_a_missing_binary():
    """The helper itself: the server is stopped when the block ends, also on an error;
    a missing binary skips (or, with ADVISOR_REQUIRE_SERVERS=1, fails) instead of raising."""
    from tests.support import live
    from tests.support.servers import MissingBinary

    class Server:
        stopped = 0

        def stop(self):
            Server.stopped += 1

    with pytest.raises(ZeroDivisionError):
        with live.running(Server) as server:
            assert isinstance(server, Server)
            1 / 0  # noqa: B018 (the error is the point)
    assert Server.stopped == 1

    def missing():
        raise MissingBinary("no-such-server")

    expected = pytest.fail.Exception if live.REQUIRE else pytest.skip.Exception
    with pytest.raises(expected, match="no-such-server"):
        with live.running(missing):
            pass
    with live.running_all({"a": Server, "b": Server}) as both:
        assert set(both) == {"a", "b"}
    assert Server.stopped == 3


@pytest.mark.parametrize("module", ["tests.demo", "bench.run", "bench.load", "bench.soak"])
def test_the_demo_and_the_bench_import_as_packages(module):
    """`make demo` and `make bench` run `python -m tests.demo` / `python -m bench.run` from
    the checkout's root: their imports resolve there without any path set up."""
    r = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr[-2000:]


def test_the_makefile_runs_them_as_modules():
    make = (ROOT / "Makefile").read_text()
    assert "$(BIN)/python -m tests.demo" in make and "$(BIN)/python -m bench.run" in make
    assert "tests/demo.py" not in make and "bench/run.py" not in make
