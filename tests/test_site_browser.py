"""The built site in Debian's Chromium (Playwright, headless) served on loopback.

Missing Chromium or Playwright skips these tests, unless ADVISOR_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support.site import build_site, write_hostile_report, write_lint_report
from tests.support.web import serve_dir

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    reports = tmp_path_factory.mktemp("browser-reports")
    base = write_lint_report(reports / "staging.json")
    write_hostile_report(reports / "hostile.json", base)
    site = tmp_path_factory.mktemp("browser-site")
    build_site(site, reports)
    with serve_dir(site) as url:
        yield {"dir": site, "base": url}


@pytest.fixture
def tab(browser, served):
    """A fresh page that records console errors, page errors, dialogs and every request."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.errors, p.requests, p.dialogs = [], [], []
    p.on("console", lambda m: m.type == "error" and p.errors.append(f"console: {m.text}"))
    p.on("pageerror", lambda e: p.errors.append(f"pageerror: {e}"))
    p.on("dialog", lambda d: (p.dialogs.append(d.message), d.dismiss()))
    context.on("request", lambda r: p.requests.append(r.url))
    yield p
    context.close()


def all_pages(site: Path) -> list[str]:
    rels = (f.parent.relative_to(site).as_posix() for f in site.rglob("index.html"))
    return sorted("/" if rel == "." else rel + "/" for rel in rels)


def foreign(requests: list[str], base: str) -> list[str]:
    local = urlsplit(base).netloc
    return [
        u
        for u in requests
        if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != local
    ]


def test_every_page_loads_cleanly_and_stays_local(tab, served):
    pages = all_pages(served["dir"])
    assert len(pages) > 40 and "/" in pages and "readiness/" in pages
    failures = []
    for path in pages:
        tab.errors.clear()
        response = tab.goto(served["base"] + path.lstrip("/"), wait_until="load")
        if response is None or response.status != 200:
            failures.append(f"{path}: HTTP {response and response.status}")
        failures += [f"{path}: {e}" for e in tab.errors]
    assert not failures, "\n".join(failures)
    assert not foreign(tab.requests, served["base"]), foreign(tab.requests, served["base"])
    assert not tab.dialogs, tab.dialogs  # the hostile report ran no script


def test_search_finds_pgbouncer(tab, served):
    tab.goto(served["base"], wait_until="load")
    box = tab.locator("input.md-search__input")
    box.click()
    first = tab.locator(".md-search-result__item").first
    # The index loads in a web worker; a query typed before it is ready finds nothing,
    # so type again until results show (bounded).
    for attempt in range(10):
        box.fill("")
        box.press_sequentially("pgbouncer", delay=20)
        try:
            first.wait_for(state="visible", timeout=3000)
            break
        except Exception:
            if attempt == 9:
                raise
    assert "pgbouncer" in tab.locator(".md-search-result").inner_text().lower()
    assert not tab.errors, tab.errors
    assert not foreign(tab.requests, served["base"])


def test_dark_scheme_toggle(tab, served):
    tab.goto(served["base"], wait_until="load")
    scheme = lambda: tab.evaluate("document.body.getAttribute('data-md-color-scheme')")  # noqa: E731
    before = scheme()
    tab.locator("form[data-md-component='palette'] label:visible").first.click()
    tab.wait_for_function(f"document.body.getAttribute('data-md-color-scheme') !== '{before}'")
    after = scheme()
    assert {before, after} == {"default", "slate"}
    assert not tab.errors, tab.errors


def test_screenshots(tab, served):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, path in (
        ("home", ""),
        ("provider-supabase", "providers/supabase/"),
        ("readiness", "readiness/"),
    ):
        tab.goto(served["base"] + path, wait_until="load")
        out = SHOTS / f"{name}.png"
        tab.screenshot(path=str(out), full_page=True)
        assert out.stat().st_size > 10_000
    assert not tab.errors, tab.errors


def test_burst_chart_shows_both_legs(tab, served):
    """The burst page's chart, as the browser lays it out: one bar per leg, segments sized
    by the counts `make bench` measured (bench/results.json, first run)."""
    import json

    first = json.loads((ROOT / "bench" / "results.json").read_text())["burst"]["runs"][0]
    tab.goto(served["base"] + "contributors/burst/", wait_until="load")
    chart = tab.locator("article figure svg").first
    chart.scroll_into_view_if_needed()
    assert chart.bounding_box()["width"] > 300
    segments = tab.evaluate("""() => [...document.querySelector('article figure svg').querySelectorAll('rect > title')]
        .map(t => [t.textContent, t.parentElement.getBoundingClientRect().width])""")
    full = max(w for _, w in segments)
    for leg in first["legs"]:
        parts = {"succeeded": leg["succeeded"], **{k: e["count"] for k, e in leg["errors"].items()}}
        for key, count in parts.items():
            if not count:
                continue
            label = {
                "too_many_clients": "too many clients",
                "reserved_slots": "reserved slots",
            }.get(key, key)
            widths = [w for text, w in segments if text == f"{label}: {count}"]
            assert widths, f"no {label}: {count} bar for {leg['name']}"
            # A segment's width is its share of the clients (full bar = all of them).
            assert any(abs(w - full * count / first["clients"]) < 2 for w in widths), (
                label,
                widths,
            )
    direct = next(leg for leg in first["legs"] if leg["name"] == "direct")
    pooled = next(leg for leg in first["legs"] if leg["name"] == "via pooler")
    assert direct["failed"] > 0 and pooled["failed"] == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    chart.screenshot(path=str(SHOTS / "burst-chart.png"))
    assert (SHOTS / "burst-chart.png").stat().st_size > 3_000
    assert not tab.errors, tab.errors


OVERFLOW_JS = """() => { const c = document.querySelector('.md-content'); const out = [];
  if (document.documentElement.scrollWidth > innerWidth + 1) out.push('page');
  if (c && c.scrollWidth > c.clientWidth + 1) out.push('content');
  for (const w of document.querySelectorAll('article .md-typeset__scrollwrap, article pre > code'))
    if (w.scrollWidth > w.clientWidth + 1) out.push(w.tagName + ': ' + w.innerText.slice(0, 60));
  return out; }"""


@pytest.mark.parametrize("width", [1280, 390])
def test_no_page_is_cut_off(browser, served, width):
    """Every page at desktop and phone width: nothing wider than the screen or the content
    area, no table or code block that must be scrolled sideways (URLs wrap, wide tables
    become stacked rows), and no console error."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    cut = []
    try:
        for path in all_pages(served["dir"]):
            page.goto(served["base"] + path.lstrip("/"), wait_until="load")
            cut += [f"{path}: {what}" for what in page.evaluate(OVERFLOW_JS)]
        assert not cut, "\n".join(cut[:30])
        assert not errors, errors[:10]
    finally:
        context.close()
