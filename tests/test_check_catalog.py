"""The check catalog and the check functions cannot drift apart.

- the catalog's ids are exactly the registered checks, found without a hand-kept list;
- every id is exercised by a URL vector or by a live test that asserts on it;
- the loader holds every entry to the declared schema (fields, kinds, severities, engines,
  topics, lifecycles, parameter types), and says which file, id and field is wrong;
- the lifecycle is shown by `advisor checks` and on the check's generated page;
- a new check is one catalog entry plus one decorated function in a new module.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from advisor import checks
from advisor.catalog import load_checks
from advisor.catalog.checks import LIFECYCLES, TOPICS, CatalogError, read_checks
from advisor.cli import main
from tests.support.hooks import load_hook

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
VECTORS = TESTS / "vectors" / "urls.toml"

# Probe checks that no live test asserts on yet. Each is a gap to close (by a live test),
# not an exemption: the coverage test fails as soon as this set is wrong either way.
NOT_YET_TESTED: set[str] = set()


# --------------------------------------------------------------------------- registration


def test_catalog_ids_are_exactly_the_registered_checks():
    registered = set(checks.load_all())
    catalog = set(load_checks())
    assert catalog - registered == set(), "catalog entries without a @check function"
    assert registered - catalog == set(), "@check functions without a catalog entry"


def test_every_module_of_the_package_is_loaded():
    checks.load_all()
    on_disk = {p.stem for p in (ROOT / "advisor" / "checks").glob("*.py") if p.stem != "__init__"}
    assert on_disk and all(f"advisor.checks.{name}" in sys.modules for name in on_disk)


# --------------------------------------------------------------------------- coverage


def _is_live_mark(node: ast.AST) -> bool:
    """`pytest.mark.live` (also inside a list of marks)."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_is_live_mark(n) for n in node.elts)
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "live"
        and isinstance(node.value, ast.Attribute)
        and node.value.attr == "mark"
    )


def _strings(node: ast.AST) -> str:
    return " ".join(
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _asserted_text(func: ast.FunctionDef) -> str:
    """The strings a test asserts on: inside `assert` statements, in values assigned to a
    name that a later `assert` reads, and in its `parametrize` lists. Docstrings, comments
    and strings that never reach an assertion do not count."""
    asserts = [n for n in ast.walk(func) if isinstance(n, ast.Assert)]
    asserted_names = set().union(*(_names(a) for a in asserts)) if asserts else set()
    parts = [_strings(a) for a in asserts]
    for node in ast.walk(func):
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if set().union(*(_names(t) for t in targets)) & asserted_names:
                parts.append(_strings(node.value))
    for deco in func.decorator_list:
        if (
            isinstance(deco, ast.Call)
            and isinstance(deco.func, ast.Attribute)
            and deco.func.attr == "parametrize"
        ):
            parts.append(_strings(deco))
    return " ".join(parts)


def live_references(folder: Path, skip: tuple[Path, ...] = ()) -> dict[str, str]:
    """'file::test' -> the text a live test (marked `live`) asserts on, for every .py below folder."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        if path in skip:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module_live = any(
            isinstance(n, ast.Assign)
            and _is_live_mark(n.value)
            and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)
            for n in tree.body
        )
        for func in ast.walk(tree):
            if isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)) and func.name.startswith(
                "test"
            ):
                marked = any(
                    _is_live_mark(d.func if isinstance(d, ast.Call) else d)
                    for d in func.decorator_list
                )
                if module_live or marked:
                    found[f"{path.relative_to(folder)}::{func.name}"] = _asserted_text(func)
    return found


def vector_references(vectors_file: Path) -> dict[str, set[str]]:
    """id -> names of the vectors that pin its status (pass, warn or fail; `absent` is not a run)."""
    found: dict[str, set[str]] = {}
    for v in tomllib.loads(vectors_file.read_text(encoding="utf-8"))["vector"]:
        for check_id, status in v["expect"].get("statuses", {}).items():
            if status != "absent":
                found.setdefault(check_id, set()).add(v["name"])
    return found


def untested(ids, folder: Path, vectors_file: Path, skip=()) -> set[str]:
    live = live_references(folder, skip)
    vectors = vector_references(vectors_file)
    return {
        cid
        for cid in ids
        if cid not in vectors and not any(re.search(rf"\b{cid}\b", text) for text in live.values())
    }


def test_every_check_has_a_vector_or_a_live_test():
    gaps = untested(load_checks(), TESTS, VECTORS, skip=(Path(__file__).resolve(),))
    assert gaps - NOT_YET_TESTED == set(), "checks with neither a vector nor a live test"
    assert NOT_YET_TESTED - gaps == set(), "now tested: remove them from NOT_YET_TESTED"


def test_coverage_counts_only_assertions_of_live_tests(tmp_path):
    """The scan is precise: a mention outside an assertion, or in a test that starts no
    server, does not count; removing an id's last assertion makes it untested."""
    vectors = tmp_path / "urls.toml"
    vectors.write_text(
        '[[vector]]\nname = "v"\nurl = "x"\n'
        'expect = { exit = 0, statuses = { URL101 = "pass", URL102 = "absent" } }\n'
    )
    tests = tmp_path / "tests"
    tests.mkdir()
    live = tests / "test_live.py"
    live.write_text(
        "import pytest\npytestmark = pytest.mark.live\n\n"
        "def test_a(server):\n"
        "    '''PG104 in a docstring.'''\n"
        "    # PG105 in a comment\n"
        "    found = finding(server, 'PG101')\n"
        "    unused = finding(server, 'PG106')\n"
        "    assert found['status'] == 'pass' and finding(server, 'PG102')\n\n"
        "@pytest.mark.parametrize('cid', ['PG107'])\n"
        "def test_b(cid):\n"
        "    assert cid\n\n"
        "def helper():\n"
        "    assert 'PG108'\n"
    )
    (tests / "test_unit.py").write_text(
        "def test_c():\n    assert 'PG103'\n\n"
        "import pytest\n@pytest.mark.live\n"
        "def test_d():\n    assert 'PG109' in x\n"
    )
    ids = ["URL101", "URL102", *(f"PG10{i}" for i in range(1, 10))]
    assert untested(ids, tests, vectors) == {"URL102", "PG103", "PG104", "PG105", "PG106", "PG108"}
    live.write_text(live.read_text().replace(" and finding(server, 'PG102')", ""))
    assert "PG102" in untested(ids, tests, vectors)


# --------------------------------------------------------------------------- schema

GOOD = {
    "title": '"Sample"',
    "topic": '"url"',
    "engine": '"any"',
    "kind": '"lint"',
    "severity": '"low"',
    "lifecycle": '"stable"',
    "summary": '"S."',
    "rationale": '"R."',
    "remediation": '"Fix."',
}


def write_catalog(
    folder: Path, check_id: str = "ZZ101", name: str = "sample", drop=(), **fields
) -> Path:
    entry = {k: v for k, v in {**GOOD, **fields}.items() if k not in drop}
    path = folder / f"{name}.toml"
    path.write_text(f"[{check_id}]\n" + "".join(f"{k} = {v}\n" for k, v in entry.items()))
    return path


@pytest.fixture(autouse=True)
def no_cache(monkeypatch):
    monkeypatch.setenv("ADVISOR_NO_CACHE", "1")  # these tmp catalogs parse fresh every time


def test_a_well_formed_catalog_loads(tmp_path):
    write_catalog(tmp_path, params="{ warn_below_percent = 20, ratio = 0.5 }")
    entry = read_checks(tmp_path)["ZZ101"]
    assert entry["lifecycle"] == "stable" and entry["params"] == {
        "warn_below_percent": 20,
        "ratio": 0.5,
    }
    assert entry["file"] == "sample.toml" and entry["id"] == "ZZ101"


@pytest.mark.parametrize(
    "field, change, problem",
    [
        ("title", {"drop": ("title",)}, "missing"),
        ("lifecycle", {"drop": ("lifecycle",)}, "missing"),
        ("kind", {"kind": '"live"'}, "'live' is not one of: probe, lint"),
        ("severity", {"severity": '"critical"'}, "not one of: high, medium, low"),
        ("engine", {"engine": '"postgres"'}, "not one of: postgresql, mysql, any"),
        ("topic", {"topic": '"speed"'}, "'speed' is not one of: probe, capacity"),
        ("lifecycle", {"lifecycle": '"beta"'}, "not one of: stable, preview, deprecated"),
        ("title", {"title": "3"}, "must be a string, not int"),
        ("summary", {"summary": '"   "'}, "is empty"),
        ("params", {"params": "5"}, "must be a table, not int"),
        ("params.limit", {"params": '{ limit = "ten" }'}, "must be a number, not str"),
        ("params.limit", {"params": "{ limit = true }"}, "must be a number, not bool"),
        ("params.Bad-Name", {"params": '{ "Bad-Name" = 1 }'}, "a parameter name is"),
        ("severty", {"severty": '"high"'}, "unknown field"),
    ],
)
def test_schema_violations_name_file_id_and_field(tmp_path, field, change, problem):
    path = write_catalog(tmp_path, **change)
    with pytest.raises(CatalogError) as err:
        read_checks(tmp_path)
    message = str(err.value)
    assert str(path) in message and f"ZZ101.{field}:" in message and problem in message
    assert "\n" not in message


def test_bad_ids_and_entries(tmp_path):
    write_catalog(tmp_path, check_id="zz1")
    with pytest.raises(CatalogError, match=r"sample\.toml: zz1: an id is letters then 3 digits"):
        read_checks(tmp_path)
    (tmp_path / "sample.toml").write_text('ZZ102 = "not a table"\n')
    with pytest.raises(CatalogError, match=r"sample\.toml: ZZ102: must be a table"):
        read_checks(tmp_path)


def test_an_id_defined_twice(tmp_path):
    write_catalog(tmp_path, name="a")
    second = write_catalog(tmp_path, name="b")
    with pytest.raises(CatalogError, match="defined twice") as err:
        read_checks(tmp_path)
    assert str(second) in str(err.value) and "first in a.toml" in str(err.value)


def test_the_catalog_uses_every_declared_topic():
    """TOPICS is the list of topics in use, not a wish list."""
    assert {c["topic"] for c in load_checks().values()} == set(TOPICS)


# --------------------------------------------------------------------------- lifecycle shown


def run(capsys, *args) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


def test_checks_list_has_a_lifecycle_column(capsys):
    code, out = run(capsys, "checks")
    assert code == 0
    rows = {line.split()[0]: line.split()[3] for line in out.splitlines()}
    assert rows == {cid: c["lifecycle"] for cid, c in load_checks().items()}


def test_one_check_shows_its_lifecycle(capsys):
    code, out = run(capsys, "checks", "PG101")
    assert code == 0 and f"\nLifecycle: stable ({LIFECYCLES['stable']})\n" in out
    code, out = run(capsys, "checks", "PG101", "--format", "json")
    assert code == 0 and json.loads(out)["lifecycle"] == "stable"
    code, out = run(capsys, "checks", "--format", "json")
    assert {e["id"]: e["lifecycle"] for e in json.loads(out)} == {
        cid: c["lifecycle"] for cid, c in load_checks().items()
    }


def _generate():
    return load_hook("generate")


@pytest.mark.parametrize(
    "lifecycle, marker",
    [
        ("stable", "**Lifecycle:** stable: "),
        ("preview", '!!! warning "Lifecycle: preview"'),
        ("deprecated", '!!! danger "Lifecycle: deprecated"'),
    ],
)
def test_check_page_shows_the_lifecycle(lifecycle, marker):
    page = _generate().check_page({**load_checks()["PG101"], "lifecycle": lifecycle})
    assert marker in page
    meaning = LIFECYCLES[lifecycle]
    assert meaning[1:] in page
    for other in set(LIFECYCLES) - {lifecycle}:
        assert f"Lifecycle: {other}" not in page and f"Lifecycle:** {other}" not in page


# --------------------------------------------------------------------------- adding a check

SAMPLE_ENTRY = """
[URL990]
title = "Sample rule"
topic = "url"
engine = "any"
kind = "lint"
severity = "low"
lifecycle = "preview"
summary = "A rule added by a test."
rationale = "It shows that a check needs its entry and its function, nothing else."
remediation = "Nothing to fix."
"""

SAMPLE_MODULE = """from . import Result, check


@check("URL990")
def sample(facts, ctx):
    return Result("warn", "the sample rule ran")
"""


def test_a_new_check_is_one_entry_and_one_function(tmp_path):
    """In a copy of the package: append one entry to a catalog file, add one module with one
    decorated function. No list is edited, and the CLI lists, explains and runs the check."""
    shutil.copytree(
        ROOT / "advisor", tmp_path / "advisor", ignore=shutil.ignore_patterns("__pycache__")
    )
    with (tmp_path / "advisor" / "catalog" / "checks" / "url.toml").open("a") as fh:
        fh.write(SAMPLE_ENTRY)
    (tmp_path / "advisor" / "checks" / "sample.py").write_text(SAMPLE_MODULE)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DIRECT_URL")}
    env.update(PYTHONPATH=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / "cache"))

    def advisor(*args) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "advisor", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
        )

    listed = advisor("checks")
    assert listed.returncode == 0, listed.stderr
    assert re.search(r"^URL990 +low +lint +preview +Sample rule$", listed.stdout, re.M)
    explained = advisor("checks", "URL990")
    assert f"Lifecycle: preview ({LIFECYCLES['preview']})" in explained.stdout
    linted = advisor(
        "lint", "postgresql://app@db.example.com/app?sslmode=verify-full", "--format", "json"
    )
    assert linted.returncode in (0, 1), linted.stderr
    found = {f["id"]: f for f in json.loads(linted.stdout)["findings"]}
    assert (
        found["URL990"]["status"] == "warn" and found["URL990"]["message"] == "the sample rule ran"
    )
    assert found["URL990"]["docs_url"].endswith("/checks/URL990/")
