"""The generated pages of the docs site: each names the file it is generated from and its edit
link opens that file; the readiness pages render the combined-report object, the one
`advisor report --format markdown` renders, so both show the same targets and verdicts."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from advisor.catalog import load_checks
from advisor.catalog.providers import load_providers
from advisor.combine import combine, load_reports
from advisor.render.safe import slug
from tests.support.cli import ROOT, run_advisor
from tests.support.site import build_site

REPO = "https://git.example.org/acme/advisor"  # set for the build: the default must not matter
NEON = "postgresql://u:p@ep-cool-1.us-east-2.aws.neon.tech/db"  # URL206 fails
PLAIN = "postgresql://u:p@db.example.com:6543/app?sslmode=require"  # warnings only
EDIT = re.compile(r'<a href="([^"]*)" title="Edit this page"')


def lint_report(url: str, label: str, path: Path) -> dict:
    r = run_advisor("lint", url, "--label", label, "--format", "json", "--output", str(path))
    assert r.returncode in (0, 1), r.stderr
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Three reports (one fail, one warn, one lint that got worse since the baseline), one
    broken file, a baseline folder; the site built with its own repo_url and edit_uri."""
    reports = tmp_path_factory.mktemp("reports")
    lint_report(NEON, "staging", reports / "staging.json")
    prod = lint_report(PLAIN, "production", reports / "production.json")
    (reports / "broken.json").write_text("{not json")
    (reports / "baseline").mkdir()
    old = json.loads(json.dumps(prod))
    warned = next(f for f in old["findings"] if f["status"] == "warn")
    warned["status"] = "pass"
    old["summary"]["warn"] -= 1
    old["summary"]["pass"] += 1
    (reports / "baseline" / "production.json").write_text(json.dumps(old))
    dest = tmp_path_factory.mktemp("site")
    build_site(dest, reports, ADVISOR_REPO_URL=REPO, ADVISOR_EDIT_URI="edit/trunk/docs/")
    return {"dir": dest, "reports": reports, "changed": warned["id"]}


def page(site, name: str) -> str:
    return (site["dir"] / name / "index.html").read_text()


def article(text: str) -> str:
    body = re.search(r"<article[^>]*>(.*)</article>", text, re.S).group(1)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body)))


def edit_link(text: str) -> str | None:
    m = EDIT.search(text)
    return html.unescape(m.group(1)) if m else None


# --------------------------------------------------------------------------- sources


def test_every_check_page_names_its_catalog_file_and_edits_it(site):
    files = set()
    for cid, c in load_checks().items():
        source = f"advisor/catalog/checks/{c['file']}"
        files.add(source)
        text = page(site, f"checks/{cid}")
        assert f"Generated from {source} (entry {cid}" in article(text), cid
        assert edit_link(text) == f"{REPO}/edit/trunk/{source}", cid
    assert len(files) >= 3  # url.toml, postgres.toml, mysql.toml: not one file for all
    # a hand-written page keeps its own edit link into docs/, and no note
    assert edit_link(page(site, "why-pooling")) == f"{REPO}/edit/trunk/docs/why-pooling.md"
    assert "Generated from" not in article(page(site, "why-pooling"))


@pytest.mark.parametrize(
    "name, source",
    [
        ("cli", "advisor/cli.py"),
        ("providers", "advisor/catalog/providers.toml"),
        ("providers/neon", "advisor/catalog/providers.toml"),
        ("checks", "docs/hooks/pages_checks.py"),
        ("readiness", "advisor/render/site.py"),
        ("readiness/production", "advisor/render/site.py"),
    ],
)
def test_other_generated_pages_name_their_source(site, name, source):
    text = page(site, name)
    assert "Generated from" in article(text) and source.rsplit("/", 1)[-1] in article(text)
    assert edit_link(text) == f"{REPO}/edit/trunk/{source}"


def test_provider_page_with_notes_names_them(site):
    notes = sorted((ROOT / "docs" / "providers" / "_notes").glob("*.md"))
    pid = next(n.stem for n in notes if n.stem in load_providers())
    assert f"docs/providers/_notes/{pid}.md" in article(page(site, f"providers/{pid}"))


# --------------------------------------------------------------------------- readiness


def _report_markdown_rows(md: str) -> dict[str, str]:
    """Environment key -> verdict word, from `advisor report --format markdown`'s table."""
    rows = {}
    for line in md.splitlines():
        m = re.match(r"\| ([^|]+?) \| \S+ (pass|warn|fail|error|skip) \|", line)
        if m:
            rows[re.sub(r"\\(.)", r"\1", m.group(1))] = m.group(2)
    return rows


def _site_rows(text: str) -> dict[str, str]:
    """Environment slug -> verdict word, from the readiness page's table."""
    rows = {}
    for href, verdict in re.findall(
        r'<tr>\s*<td><a href="([^"/]+)/">.*?</a></td>\s*<td>(.*?)</td>', text, re.S
    ):
        rows[href] = re.sub(r"<[^>]+>|[^a-z]", "", verdict)
    return rows


def test_readiness_and_report_markdown_show_the_same_targets(site):
    files = sorted(str(p) for p in site["reports"].glob("*.json") if p.name != "broken.json")
    base = str(site["reports"] / "baseline")
    md = run_advisor("report", *files, "--baseline", base, "--format", "markdown")
    js = run_advisor("report", *files, "--baseline", base, "--format", "json")
    assert md.returncode == 1 and js.returncode == 1, md.stderr + js.stderr
    combined = json.loads(js.stdout)
    from_report = _report_markdown_rows(md.stdout)
    from_site = _site_rows(page(site, "readiness"))
    assert from_report == {t["key"]: t["status"] for t in combined["targets"]}
    assert from_site == {slug(k): v for k, v in from_report.items()}
    assert set(from_site.values()) == {"fail", "warn"}
    # per environment: the same findings with the same statuses, and the same change
    for t in combined["targets"]:
        text = article(page(site, f"readiness/{slug(t['key'])}"))
        for f in t["findings"]:
            assert re.search(rf"{f['status']} {f['id']} ", text), (t["key"], f["id"])
    worse = {t["key"]: [i["id"] for i in t["change"]["worse"]] for t in combined["targets"]}
    assert worse == {"production": [site["changed"]], "staging": []}
    assert f"Got worse: {site['changed']}" in article(page(site, "readiness/production"))
    assert f"worse: {site['changed']} pass → warn" in md.stdout
    # and the site's renderer, given the very object `advisor report --format json` wrote
    from advisor.render.site import readiness_pages

    by_file = {t["file"]: json.loads(Path(t["file"]).read_text()) for t in combined["targets"]}
    pages = readiness_pages(combined, by_file, site["reports"], [], load_checks(), load_providers())
    assert set(pages) == {"readiness.md"} | {f"readiness/{slug(k)}.md" for k in from_report}
    for t in combined["targets"]:
        label = {"pass": "✔ pass", "warn": "⚠ warn", "fail": "✖ **fail**"}[t["status"]]
        assert f"](readiness/{slug(t['key'])}.md) | {label} |" in pages["readiness.md"]


def test_readiness_pages_render_the_combined_object(site):
    """The renderer reads verdicts, counts and findings from the combined object, not from the
    report files: a verdict changed in the object shows on the page."""
    from advisor.combine import read_folder
    from advisor.render.site import readiness_pages

    reports, skipped = read_folder(site["reports"])
    assert [name for name, _ in skipped] == ["broken.json"]
    baseline = load_reports([site["reports"] / "baseline"])
    c = combine(reports, baseline)
    # the site's reading gives the object `advisor report` builds from the same files
    assert c["targets"] == combine(load_reports([p for p, _ in reports]), baseline)["targets"]
    target = next(t for t in c["targets"] if t["key"] == "staging")
    target["status"] = "error"
    target["findings"][0].update(status="skip", message="changed in the combined object")
    pages = readiness_pages(
        c,
        {str(p): d for p, d in reports},
        site["reports"],
        skipped,
        load_checks(),
        load_providers(),
    )
    assert (
        "| [staging (ep-cool-1.us-east-2.aws.neon.tech)](readiness/staging.md) | ✖ **error** |"
        in pages["readiness.md"]
    )
    assert "changed in the combined object" in pages["readiness/staging.md"]
    assert "`broken.json` skipped" in pages["readiness.md"]
