"""Hostile servers: names, versions and error texts carrying markup, ANSI escapes and huge
strings come out escaped (Markdown, HTML, site), stripped (terminal) and cut (everywhere).

A real PostgreSQL serves a role and a database with payload names and echoes payloads in
its error texts; a wire-protocol fake serves a 10 KB version string.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from tests.support.fakepg import FakePostgres
from tests.support.harvest import build_site, run_every_format, site_files
from tests.support.live import running
from tests.support.servers import PASSWORD

pytestmark = pytest.mark.live

ROLE = "<script>alert(1)</script>\x1b[31m**r**|x"
DB = "<img src=x onerror=alert(2)>|**db**\x1b[2J"
BIG = "<script>alert(3)</script>**bold**|pipe|`tick`\x1b[31mRED\x1b]0;title\x07" + "A" * 6000
VERSION = "15.0 <script>alert(4)</script>\x1b[5m|**v**|" + "V" * 10_000
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture(scope="module")
def hostile_pg(pg_plain):
    pg_plain.psql(f"CREATE ROLE \"{ROLE}\" LOGIN PASSWORD '{PASSWORD}'")
    pg_plain.psql(f'CREATE DATABASE "{DB}" OWNER "{ROLE}"')
    yield pg_plain
    pg_plain.psql(f'DROP DATABASE "{DB}"')
    pg_plain.psql(f'DROP ROLE "{ROLE}"')


@pytest.fixture(scope="module")
def fake():
    with running(
        lambda: FakePostgres(
            "hostile",
            values={
                "server_version": VERSION,
                "role_name": ROLE,
                "database_name": DB,
                "role_connlimit": "5",
            },
        )
    ) as server:
        yield server


def url(port: int, user: str = "app", db: str = "app", **query) -> str:
    q = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    return (
        f"postgresql://{quote(user, safe='')}:{PASSWORD}@127.0.0.1:{port}/{quote(db, safe='')}"
        + (f"?{q}" if q else "")
    )


@pytest.fixture(scope="module")
def runs(hostile_pg, fake, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    reports = tmp / "reports"
    reports.mkdir()
    cases = {
        "names": url(hostile_pg.port, ROLE, DB),  # role and database names
        "error-echo": url(hostile_pg.port, options=f"-c statement_timeout={BIG}"),
        "missing-db": url(hostile_pg.port, db="<b>nodb</b>**x**|\x1b[31m"),
        "fake-version": url(fake.port),  # 10 KB version string
    }
    found = {}
    for name, target in cases.items():
        artifacts = run_every_format("probe", [target], tmp / name)
        (reports / f"{name}.json").write_text(artifacts["json file"])
        found[name] = artifacts
    site = tmp / "site"
    build_site(site, reports)
    return found, site_files(site)


def test_the_payloads_reached_the_reports(runs):
    found, _ = runs
    names = json.loads(found["names"]["json file"])
    assert names["facts"]["role"]["name"] == ROLE and names["facts"]["database"]["name"] == DB
    echo = json.loads(found["error-echo"]["json file"])
    assert "alert(3)" in echo["findings"][0]["message"] and echo["summary"]["status"] == "error"
    missing = json.loads(found["missing-db"]["json file"])
    assert "nodb" in missing["findings"][0]["message"]
    version = json.loads(found["fake-version"]["json file"])
    assert "alert(4)" in version["facts"]["server_version"]


@pytest.mark.parametrize("case", ["names", "error-echo", "missing-db", "fake-version"])
def test_terminal_output_is_stripped_and_cut(runs, case):
    found, _ = runs
    for name in ("text stdout", "text stderr", "json run stdout", "json run stderr"):
        text = found[case][name]
        assert not CONTROL.search(text), (name, repr(text[:300]))
        assert max(map(len, text.splitlines() or [""])) <= 600, name


@pytest.mark.parametrize("case", ["names", "error-echo", "missing-db", "fake-version"])
def test_markdown_is_escaped(runs, case):
    found, _ = runs
    for name in ("markdown file", "markdown stdout"):
        text = found[case][name]
        assert not CONTROL.search(text)
        for tag in ("<script", "<img", "<b>"):
            assert tag not in text, (name, tag)
        assert "**bold**" not in text and "**r**" not in text and "**db**" not in text
        for line in text.splitlines():  # payload pipes never add table cells
            if line.startswith("| "):
                assert len(re.findall(r"(?<!\\)\|", line)) in (4, 7), line
        assert max(map(len, text.splitlines())) <= 1500


@pytest.mark.parametrize("case", ["names", "error-echo", "missing-db", "fake-version"])
def test_junit_and_json_are_well_formed_and_bounded(runs, case):
    found, _ = runs
    xml = found[case]["junit file"]
    assert not CONTROL.search(xml) and "<script" not in xml
    root = ET.fromstring(xml)
    messages = [el.get("message") or "" for el in root.iter() if el.get("message")]
    assert all(len(m) <= 1000 for m in messages)
    raw = found[case]["json file"]
    assert "\x1b" not in raw  # escaped as \u001b
    strings = []

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, str):
            strings.append(value)

    report = json.loads(raw)  # server-supplied strings: the facts (minus the URL's) and findings
    walk({k: v for k, v in report["facts"].items() if k != "url"})
    assert max(map(len, strings)) <= 1000
    assert max(len(f["message"]) for f in report["findings"]) <= 1200  # a fact plus a sentence


def test_built_site_shows_payloads_as_text(runs):
    _, files = runs
    pages = "\n".join(
        text
        for name, text in files.items()
        if name.startswith("readiness") and name.endswith(".html")
    )
    for tag in ("<script>alert", "<img src=x", "<b>nodb", "\x1b"):
        assert tag not in pages, tag
    assert not CONTROL.search(pages)
    visible = html.unescape(re.sub(r"<[^>]+>", " ", pages))
    for shown in (
        "<script>alert(1)</script>",
        "<script>alert(3)</script>**bold**|pipe|",
        "<b>nodb</b>**x**|",
        "alert(4)",
    ):
        assert shown in visible, shown
    for name, text in files.items():
        assert "<script>alert(" not in text, name
