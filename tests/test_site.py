"""The docs site: `mkdocs build --strict` with generated pages, and what they must contain."""

from __future__ import annotations

import html
import json
import re

import pytest

from advisor.catalog import DOCS_BASE, docs_url, load_checks
from advisor.catalog.providers import load_providers
from advisor.cli import build_parser
from advisor.options import ORM_NAMES
from tests.support.cli import ROOT, run_advisor
from tests.support.site import build_site, text_of, write_hostile_report, write_lint_report


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    reports = tmp_path_factory.mktemp("reports")
    base = write_lint_report(reports / "staging.json")
    write_hostile_report(reports / "hostile.json", base)
    (reports / "broken.json").write_text("{not json")
    dest = tmp_path_factory.mktemp("site")
    build_site(dest, reports)
    return {"dir": dest, "report": base}


def page(site, path: str) -> str:
    f = site["dir"] / path / "index.html"
    assert f.is_file(), f"missing page {path}"
    return f.read_text()


def test_every_check_has_a_page_and_an_index_row(site):
    index = page(site, "checks")
    for cid, check in load_checks().items():
        body = page(site, f"checks/{cid}")
        assert cid in body and html.escape(check["title"], quote=False) in body
        assert f'href="{cid}/"' in index


def test_every_docs_url_resolves_in_the_built_site(site):
    urls = [docs_url(cid) for cid in load_checks()]
    urls += [f["docs_url"] for f in site["report"]["findings"]]
    for url in urls:
        assert url.startswith(DOCS_BASE)
        assert (site["dir"] / url[len(DOCS_BASE) :] / "index.html").is_file(), url


def test_every_provider_has_a_page_with_sources_and_dates(site):
    index = page(site, "providers")
    for pid, provider in load_providers().items():
        body = page(site, f"providers/{pid}")
        assert html.escape(provider["name"], quote=False) in body
        assert f'href="{pid}/"' in index
        for item in provider["endpoints"] + provider["facts"] + provider["pitfalls"]:
            if item.get("source", "").startswith("http"):
                assert html.escape(item["source"]) in body, (pid, item["source"])
            assert f"checked {item.get('checked') or 'never'}" in body
        if provider["endpoints"]:
            assert "advisor lint" in text_of(body) and "advisor probe" in text_of(body)
        for label in ORM_NAMES.values():
            assert f">{label}</label>" in body, (pid, label)
        # Maintenance notes stay off the user pages; the changelog keeps them.
        assert "Corrected" not in body and "The old page said" not in text_of(body)
        assert "not stated in the stored docs" not in text_of(body)
    changelog = text_of(page(site, "changelog"))
    for pid, provider in load_providers().items():
        for fact in provider["facts"]:
            if fact.get("outdated_seed_claim"):
                assert " ".join(fact["outdated_seed_claim"].split())[:60] in changelog, pid


def test_cli_reference_lists_every_subcommand_and_exit_code(site):
    body = page(site, "cli")
    parser = build_parser()
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subs.choices.items():
        assert f"advisor {name}" in body
        for action in sub._actions:
            for opt in action.option_strings:
                if opt in ("-h", "--help"):
                    continue
                assert f"<code>{opt}</code>" in body, (name, opt)
    text = text_of(body)
    for code in ("0", "1", "2", "3"):
        assert re.search(rf"\b{code}\s+\S", text)


def test_readiness_shows_targets_and_linked_findings(site):
    body = page(site, "readiness")
    text = text_of(body)
    assert site["report"]["target"]["host"] in text
    assert "staging" in text
    for f in site["report"]["findings"]:
        assert f'href="../checks/{f["id"]}/"' in body
        assert (site["dir"] / "checks" / f["id"] / "index.html").is_file()
    assert site["report"]["tool"]["version"] in text
    assert "broken.json" in text  # unreadable files are listed, not fatal


def test_readiness_escapes_server_strings(site):
    body = page(site, "readiness")
    assert "<script>alert(1)" not in body
    assert "<strong>bold</strong>" not in body and "<strong>not a check</strong>" not in body
    assert "<img src=x" not in body and "<b>evil</b>" not in body and "<u>pgbouncer" not in body
    assert 'href="javascript' not in body
    text = text_of(body)
    assert "<script>alert(1)</script>" in text
    assert "**bold**" in text and "{{ 7*7 }}" in text  # not rendered by Markdown or Jinja
    assert "<img src=x onerror=alert(3)>.example" in text
    assert "ZZ999<i>" in text and "checks/ZZ999" not in body
    assert "42" in text  # max_connections from the report


def test_readiness_empty_state(tmp_path):
    empty = tmp_path / "reports"
    empty.mkdir()
    build_site(tmp_path / "site", empty)
    text = text_of((tmp_path / "site" / "readiness" / "index.html").read_text())
    assert "No reports yet" in text


def test_generated_pages_are_not_committed():
    """They are produced at build time; a hand-written copy would go stale (and the hook refuses it)."""
    docs = ROOT / "docs"
    assert not (docs / "readiness.md").exists() and not (docs / "cli.md").exists()
    assert not list(docs.glob("checks/*.md")) and not list(docs.glob("providers/*.md"))


@pytest.mark.live
def test_readiness_with_a_live_probe(pg_plain, tmp_path):
    """A real probe of a server with max_connections=23: the page shows 23 and its findings."""
    reports = tmp_path / "reports"
    reports.mkdir()
    out = reports / "live.json"
    r = run_advisor(
        "probe",
        "--format",
        "json",
        "--output",
        str(out),
        "--label",
        "live-pg",
        env={"DATABASE_URL": pg_plain.url()},
    )
    assert r.returncode in (0, 1), r.stderr
    report = json.loads(out.read_text())
    assert report["facts"]["max_connections"] == 23
    build_site(tmp_path / "site", reports)
    body = (tmp_path / "site" / "readiness" / "index.html").read_text()
    text = text_of(body)
    assert "live-pg" in text
    assert re.search(r"max_connections:?\s+23\b", text)
    for f in report["findings"]:
        if f["id"] in load_checks():
            assert f'href="../checks/{f["id"]}/"' in body


def test_bench_pages_agree_with_the_bench_results(site):
    """docs/performance.md and docs/burst.md are generated from bench/results.json: the built
    pages show the same medians, ratios and burst counts (nobody edited one without the other)."""
    r = json.loads((ROOT / "bench" / "results.json").read_text())
    for figure in ("advisor_probe", "check_postgres_backends", "psql_select_1"):
        s = r["postgres"][figure]
        assert s["min"] <= s["median"] <= s["max"] and s["runs"] >= 5, figure
    perf = text_of(page(site, "contributors/performance"))
    ratio = r["postgres"]["ratios"]["check_postgres_over_probe"]
    assert (
        f"check_postgres' one check takes {ratio:g}× the time of `advisor probe`".replace("`", "")
        in perf
    )
    assert r["machine"]["cpu"] in perf and r["date"] in perf
    assert f"{r['mariadb']['ratios']['mysqltuner_over_probe']:g}×" in perf
    burst = page(site, "contributors/burst")
    assert burst.count("<svg") >= 2
    first = r["burst"]["runs"][0]
    for leg in first["legs"]:
        assert f"<title>succeeded: {leg['succeeded']}</title>" in burst, leg["name"]


def test_every_page_with_a_command_says_how_to_get_it(site):
    """A reader who lands on any page that shows an `advisor` command learns how to install it."""
    missing = []
    for f in site["dir"].rglob("index.html"):
        body = f.read_text()
        article = body.split("<article", 1)[-1].split("</article>", 1)[0]
        if "</a>advisor<span" in article or "<code>advisor " in article:
            if "pipx install" not in article:
                missing.append(str(f.parent.relative_to(site["dir"])))
    assert not missing, missing
