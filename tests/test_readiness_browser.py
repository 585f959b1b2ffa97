"""The readiness pages as a reader sees them, from live reports, in Chromium: the verdict
first and coloured, the connection slots drawn to scale (reserved / in use / free and the
pooler's pool), findings sorted fail -> warn -> pass with the fix inline and the passes
folded, at 1280 and 390 px in light and dark scheme, with no horizontal overflow."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.support.cli import run_advisor
from tests.support.site import build_site
from tests.support.web import serve_dir

pytestmark = [pytest.mark.browser, pytest.mark.live]

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
ORDER = {"error": 0, "fail": 1, "warn": 2, "skip": 3, "pass": 4}


@pytest.fixture(scope="module")
def live_site(pg_plain, pgbouncer_txn, tmp_path_factory):
    reports = tmp_path_factory.mktemp("readiness-reports")
    held = [psycopg.connect(pg_plain.url()) for _ in range(4)]  # slots in use, seen by the probe
    try:
        for label, url, extra in (
            ("direct", pg_plain.url(), ()),
            ("pooled", pgbouncer_txn.url(), ("--pooler-admin-url", pgbouncer_txn.admin_url())),
        ):
            r = run_advisor(
                "probe", url, "--label", label, "--serverless", "--format", "json",
                "--output", str(reports / f"{label}.json"), *extra,
            )  # fmt: skip
            assert r.returncode in (0, 1), r.stderr
    finally:
        for c in held:
            c.close()
    site = tmp_path_factory.mktemp("readiness-site")
    build_site(site, reports)
    data = {p.stem: json.loads(p.read_text()) for p in reports.glob("*.json")}
    with serve_dir(site) as base:
        yield {"base": base, "reports": data}


def open_page(browser, url: str, width: int, scheme: str):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.goto(url, wait_until="load")
    return context, page


def no_overflow(page) -> None:
    """Nothing wider than the screen, the content area or a table's own frame (a table
    that must be scrolled sideways hides columns on a phone)."""
    wide = page.evaluate(
        """() => { const c = document.querySelector('.md-content');
        const frames = [...document.querySelectorAll('article .md-typeset__scrollwrap')]
          .filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.innerText.slice(0, 60));
        return {page: document.documentElement.scrollWidth - innerWidth,
                content: c.scrollWidth - c.clientWidth, frames}; }"""
    )
    assert wide["page"] <= 1 and wide["content"] <= 1 and not wide["frames"], wide


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_environment_page(browser, live_site, width, scheme):
    report = live_site["reports"]["direct"]
    context, page = open_page(browser, live_site["base"] + "readiness/direct/", width, scheme)
    try:
        # the verdict first, coloured by the worst status
        first = page.locator("article > .admonition").first
        worst = min((f["status"] for f in report["findings"]), key=ORDER.get)
        kind = {"pass": "success", "warn": "warning", "fail": "failure", "error": "danger"}[worst]
        assert kind in first.get_attribute("class")
        assert page.evaluate(
            "() => document.querySelector('article > .admonition') === "
            "document.querySelector('article > h1').nextElementSibling"
        )
        # the slots drawn to scale: segment widths in proportion to the probe's counts
        f = report["facts"]
        counts = {
            "reserved": f["reserved_connections"],
            "used": f["connections_in_use"],
            "free": f["available_connections"],
        }
        assert counts["used"] >= 4  # the four held connections
        widths = page.evaluate(
            """() => Object.fromEntries([...document.querySelectorAll('.advisor-slots:not(.advisor-slots--pool) > span')]
                .map(s => [s.className.replace('advisor-slots__', ''), s.getBoundingClientRect().width]))"""
        )
        total = sum(widths.values())
        for key, n in counts.items():
            if n:
                assert abs(widths[key] / total - n / f["max_connections"]) < 0.03, (widths, counts)
        # findings: needing a fix first, passes folded away
        shown = page.evaluate(
            """() => [...document.querySelectorAll('article > ul > li')].map(li => li.innerText)"""
        )
        statuses = [next(s for s in ORDER if f" {s} " in f" {t} ") for t in shown]
        assert statuses == sorted(statuses, key=ORDER.get) and "pass" not in statuses
        todo = [x for x in report["findings"] if x["status"] in ("warn", "fail", "error")]
        assert len(shown) == len(todo)
        assert all("fix:" in t for t in shown)
        folded = page.locator("article details.success")
        passed = [x for x in report["findings"] if x["status"] in ("pass", "skip")]
        assert f"{len(passed)} passed" in folded.locator("summary").inner_text()
        assert folded.get_attribute("open") is None
        no_overflow(page)
        assert not page.errors, page.errors
        if width == 390:
            SHOTS.mkdir(parents=True, exist_ok=True)
            out = SHOTS / f"readiness-env-{scheme}-phone.png"
            page.screenshot(path=str(out), full_page=True)
            assert out.stat().st_size > 10_000
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_fleet_page_shows_the_pool_against_the_slots(browser, live_site, scheme):
    pooled = live_site["reports"]["pooled"]
    pool = pooled["facts"]["pooler"]["admin"]["settings"]["default_pool_size"]
    context, page = open_page(browser, live_site["base"] + "readiness/", 390, scheme)
    try:
        bars = page.locator(".advisor-slots--pool")
        assert bars.count() == 1  # only the pooled environment has a console
        label = bars.first.get_attribute("aria-label")
        assert f"{pool} server connections" in label
        text = page.locator("article").inner_text()
        assert f"pooler pool {pool}" in text
        assert text.count("max_connections 23") >= 2  # one picture per environment
        no_overflow(page)
        SHOTS.mkdir(parents=True, exist_ok=True)
        out = SHOTS / f"readiness-{scheme}.png"
        page.screenshot(path=str(out), full_page=True)
        assert out.stat().st_size > 10_000
        assert not page.errors, page.errors
    finally:
        context.close()
