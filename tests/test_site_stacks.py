"""The site's stack pages (stacks/, from advisor/catalog/stacks.toml), the compatibility
matrix (compatibility.md, from docs/data/driver-matrix.json) and the stack verdicts on the
provider pages: built once with `mkdocs build --strict` and read as a visitor reads them."""

from __future__ import annotations

import html
import json
import re

import pytest

from advisor.catalog.stacks import load_stacks
from tests.support.cli import ROOT
from tests.support.hooks import load_hook
from tests.support.site import build_site, text_of

REPO = "https://git.example.org/acme/advisor"  # the build's own repo_url: edit links use it
EDIT = re.compile(r'<a href="([^"]*)" title="Edit this page"')
MARK = "not confirmed at the source"
MATRIX_FILE = ROOT / "docs" / "data" / "driver-matrix.json"  # what `make matrix` writes


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    reports = tmp_path_factory.mktemp("stack-reports")
    dest = tmp_path_factory.mktemp("stack-site")
    build_site(dest, reports, ADVISOR_REPO_URL=REPO, ADVISOR_EDIT_URI="edit/trunk/docs/")
    return dest


def page(site, path: str) -> str:
    f = site / path / "index.html"
    assert f.is_file(), f"missing page {path}"
    return f.read_text()


def squash(text: str) -> str:
    """Whitespace and backticks dropped: code blocks, wrapped lines and catalog text with
    `code` spans compare as the text a reader sees."""
    return re.sub(r"[\s`]+", "", text)


def shown_facts(entry: dict) -> list[tuple[str, dict]]:
    """Every fact a stack's page shows with its source: the entry, its pool, the features
    it uses (its own and those for one driver)."""
    facts = [("entry", entry)] + ([("pool", entry["pool"])] if "pool" in entry else [])
    tables = dict(entry["features"])
    for driver, on in entry.get("on", {}).items():
        tables |= {f"on.{driver}.{n}": f for n, f in on["features"].items()}
    return facts + [(n, f) for n, f in tables.items() if f["usage"] != "never"]


def matrix() -> dict:
    return json.loads(MATRIX_FILE.read_text())


# --------------------------------------------------------------------------- stack pages


def test_every_stack_has_a_page_with_its_fixes_errors_and_dated_sources(site):
    for sid, entry in load_stacks().items():
        body = page(site, f"stacks/{sid}")
        text = squash(text_of(body))
        assert squash(entry["name"]) in text, sid
        if "pool" in entry:
            assert squash(entry["pool"]["setting"]) in text, sid
        for what, fact in shown_facts(entry):
            assert (
                f'href="{html.escape(fact["source"])}">source</a> · checked {fact["checked"]}'
                in body
            ), (sid, what)
            for error in fact.get("errors", []):
                assert squash(error) in text, (sid, what, error)
            if "fix" in fact:
                assert squash(fact["fix"]) in text, (sid, what)
            if "trigger" in fact:
                assert squash(f"if {fact['trigger']}") in text, (sid, what)


def test_unverified_facts_are_marked_and_verified_ones_are_not(site):
    unverified = 0
    for sid, entry in load_stacks().items():
        body = page(site, f"stacks/{sid}")
        for what, fact in shown_facts(entry):
            dated = re.escape(
                f'href="{html.escape(fact["source"])}">source</a> · checked {fact["checked"]}'
            )
            marked = dated + re.escape(f" · <strong>{MARK}</strong>")
            if fact["verified"] is False:
                unverified += 1
                assert re.search(marked, body), (sid, what)
            else:
                assert re.search(dated + f"(?! · <strong>{MARK})", body), (sid, what)
    assert unverified >= 5  # the catalog keeps several facts it could not confirm
    assert MARK not in page(site, "stacks/asyncpg")


def test_the_index_links_every_stack_page_and_says_what_breaks(site):
    body = page(site, "stacks")
    for sid in load_stacks():
        assert f'href="{sid}/"' in body, sid
    assert (site / "stacks" / "postgres.js" / "index.html").is_file()  # a dot in the id
    rows = dict(
        re.findall(
            r'<td><a href="([^"/]+)/">.*?</td>\s*(?:<td>.*?</td>\s*){3}<td>(.*?)</td>', body, re.S
        )
    )
    assert rows["asyncpg"] == "Protocol-level prepared statements"
    assert rows["psycopg2"] == "nothing by default"
    assert rows["node-postgres"] == "nothing by default"


def test_a_stack_page_says_per_pool_case_what_breaks_and_what_to_set(site):
    text = text_of(page(site, "stacks/asyncpg"))
    assert "Direct, or a session-mode pool: works" in text
    assert "A transaction or statement pool that does not keep prepared statements: breaks" in text
    assert "PgBouncer 1.21+ with max_prepared_statements > 0: works" in text
    assert "--driver-option statement_cache_size=0" in text
    assert (
        "Only if your code asks for it" in text
        and "if the code calls Connection.add_listener()" in text
    )
    # a copyable block holds exactly the setting
    body = page(site, "stacks/asyncpg")
    assert re.search(
        r"<code>(?:<a [^>]*></a>)?await asyncpg\.connect\(dsn, statement_cache_size=0\)", body
    )
    # an ORM page has one tab per driver it runs on
    sqla = page(site, "stacks/sqlalchemy")
    for label in ("psycopg2 · default", "psycopg 3 · default from 2.1", "asyncpg", "PyMySQL"):
        assert f">{label}</label>" in sqla, label


# Cells whose workload uses a feature the catalog lists as used only on request (Django's
# QuerySet.iterator(), named node-postgres queries): the page names those as conditional.
ON_REQUEST = {("django", "default"), ("node-postgres", "named")}
POOL_CASE = {
    "direct": "session",
    "pgbouncer-1.18-session": "session",
    "pgbouncer-1.18-transaction-2-round-robin": "not_kept",
    "pgbouncer-1.24-transaction-2-round-robin-mps0": "not_kept",
    "pgbouncer-1.24-transaction-2-round-robin-mps200": "kept",
}


def test_the_pages_verdicts_are_what_the_matrix_measured():
    """The verdict each stack page shows per pool case is what real drivers did in the
    matching measured pool (two server connections, as in production), for the defaults."""
    load_hook("generate")  # which puts its folder on sys.path, as under MkDocs
    verdict = load_hook("pages_stacks").verdict  # the function the pages' verdicts come from

    checked = 0
    for c in matrix()["cells"]:
        case = POOL_CASE.get(c["pool"])
        if case is None or c["variant"] != "default" or (c["stack"], c["variant"]) in ON_REQUEST:
            continue
        works = verdict(c["orm"], c["driver"], case)["works"]
        assert works == (c["outcome"] == "works"), (c["stack"], c["pool"], c["error"])
        checked += 1
    assert checked >= 25


# --------------------------------------------------------------------------- matrix page


def _matrix_table(body: str) -> tuple[list[str], dict[tuple[str, str], list[str]]]:
    """(pool ids of the columns, (stack, variant) -> the cells' HTML) from the page."""
    table = re.search(r"<table>(.*?)</table>", body, re.S).group(1)
    pools = re.findall(r'data-pool="([^"]+)"', table)
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]:
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        stack = html.unescape(re.search(r">([^<]+)</a>", cells[0]).group(1))
        variant = re.search(r"<em>([^<]+)</em>", cells[0]).group(1)
        rows[stack, variant] = cells[1:]
    return pools, rows


def test_the_compatibility_page_shows_every_measured_cell(site):
    doc = matrix()
    body = page(site, "compatibility")
    pools, rows = _matrix_table(body)
    assert len(rows) * len(pools) == len(doc["cells"])
    for c in doc["cells"]:
        shown = rows[c["stack"], c["variant"]][pools.index(c["pool"])]
        words = text_of(f"<article>{shown}</article>").strip()
        assert words.startswith(c["outcome"]), (c["pool"], c["stack"], c["variant"], shown)
        assert ("✔" in words) == (c["advisor"] == c["outcome"])
        if c["outcome"] == "breaks":
            assert f'title="{html.escape(c["error"], quote=True)}"' in shown
    text = text_of(body)
    assert doc["measured"] in text
    for c in doc["cells"]:
        assert c["postgresql"] in text and c["driver_version"] in text
        if c["pooler"] != "none":
            assert f"PgBouncer {c['version']}" in text
    assert "make matrix" in text and "make test" in text
    assert "names they pick collide" in text and "missing on the other" in text


def test_a_stack_page_shows_its_measured_cells(site):
    text = text_of(page(site, "stacks/postgres.js"))
    cells = [c for c in matrix()["cells"] if c["stack"] == "postgres.js"]
    assert "Measured" in text and f"postgres.js {cells[0]['driver_version']}" in text
    broken = squash('breaks: prepared statement "<random>" does not exist')
    assert squash(text).count(broken) == sum(c["outcome"] == "breaks" for c in cells) > 0


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize(
    "name, words, source",
    [
        ("stacks", "advisor/catalog/stacks.toml", "advisor/catalog/stacks.toml"),
        (
            "stacks/asyncpg",
            "advisor/catalog/stacks.toml (entry asyncpg) and docs/data/driver-matrix.json",
            "advisor/catalog/stacks.toml",
        ),
        (
            "stacks/postgres.js",
            "advisor/catalog/stacks.toml (entry postgres.js)",
            "advisor/catalog/stacks.toml",
        ),
        (
            "stacks/hibernate",
            "advisor/catalog/stacks.toml (entry hibernate)",
            "advisor/catalog/stacks.toml",
        ),
        (
            "compatibility",
            "docs/data/driver-matrix.json (written by make matrix)",
            "docs/data/driver-matrix.json",
        ),
    ],
)
def test_generated_pages_name_their_source_and_edit_it(site, name, words, source):
    body = page(site, name)
    assert squash(f"Generated from {words}") in squash(text_of(body))
    assert html.unescape(EDIT.search(body).group(1)) == f"{REPO}/edit/trunk/{source}"


# --------------------------------------------------------------------------- provider pages


def tabs(body: str) -> dict[str, str]:
    """Label -> content of the first tab set on a page (Material's tabbed blocks)."""
    start = body.index('<div class="tabbed-set')
    labels = re.findall(r'<label for="__tabbed_1_\d+">([^<]+)</label>', body[start:])
    content = body[body.index('<div class="tabbed-content">', start) :]
    blocks = content.split('<div class="tabbed-block">')[1:]
    return dict(zip([html.unescape(x) for x in labels], blocks, strict=False))


def test_the_supabase_page_tells_asyncpg_what_to_set(site):
    found = tabs(page(site, "providers/supabase"))
    asyncpg = text_of(f"<article>{found['asyncpg']}</article>")
    assert "breaks here with its defaults" in asyncpg and "statement_cache_size=0" in asyncpg
    assert '"__asyncpg_stmt_1__" already exists' in asyncpg
    assert "statement_cache_size" in text_of(f"<article>{found['SQLAlchemy']}</article>")
    prisma = text_of(f"<article>{found['Prisma']}</article>")
    assert "?pgbouncer=true in DATABASE_URL" in prisma
    # a stack that works here gets a link, not a tab of its own
    assert "psycopg2" not in found
    assert 'href="../../stacks/psycopg2/">psycopg2</a>' in page(site, "providers/supabase")


def test_where_the_pooler_keeps_prepared_statements_the_fix_can_go(site):
    found = tabs(page(site, "providers/neon"))
    prisma = text_of(f"<article>{found['Prisma']}</article>")
    assert (
        "works here with its defaults" in prisma and "pgbouncer=true is not needed here" in prisma
    )
    assert "asyncpg" not in found  # works as is there
    assert "statement_cache_size=0 not needed" in text_of(page(site, "providers/neon"))


# --------------------------------------------------------------------------- bad matrix


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{not json", "not JSON: Expecting property name enclosed in double quotes at line 1"),
        (
            json.dumps(
                {
                    "measured": "2026-12-02",
                    "cells": [
                        {**json.loads(MATRIX_FILE.read_text())["cells"][0], "outcome": "maybe"}
                    ],
                }
            ),
            "cells[0]: outcome must be works or breaks, not 'maybe'",
        ),
    ],
)
def test_a_malformed_matrix_fails_the_build_with_one_line(tmp_path, content, problem):
    bad = tmp_path / "matrix.json"
    bad.write_text(content)
    (tmp_path / "reports").mkdir()
    with pytest.raises(AssertionError) as failed:
        build_site(tmp_path / "site", tmp_path / "reports", ADVISOR_MATRIX_FILE=str(bad))
    output = str(failed.value)
    assert "Traceback" not in output
    errors = [line for line in output.splitlines() if "ERROR" in line]
    assert errors == [f"ERROR   -  compatibility matrix: {bad}: {problem}"], output
