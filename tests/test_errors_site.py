"""The Errors section of the site (docs/hooks/pages_errors.py) and the "Explain an error" box,
in the built site and in Debian's Chromium.

The site search must put an Errors page first for the exact message, and the box (the
package itself, run by Pyodide) must show what `advisor explain` shows. Missing Chromium or
Playwright skips, unless ADVISOR_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from advisor.catalog.errors import load_errors
from advisor.explain import result
from tests.support.site import text_of

SIGNATURES = load_errors()
READY_TIMEOUT = 120_000  # ms: Pyodide starts in ~4 s here, far slower on a loaded machine


def test_one_page_per_signature_with_the_exact_message(tools_site):
    site = tools_site["dir"]
    index = (site / "errors" / "index.html").read_text()
    for sid, s in SIGNATURES.items():
        page = (site / "errors" / sid / "index.html").read_text()
        text = text_of(page)
        for e in s["examples"]:
            assert " ".join(e["text"].split()) in text, (sid, e["text"])
            assert f'href="{e["source"]}"' in page.replace("&amp;", "&"), (sid, e["source"])
        assert f"checked {s['checked']}" in text and f'href="{s["source"]}"' in page
        for line in s["stack_fixes"].values():
            assert " ".join(line.replace("`", "'").split()) in text, (sid, line)
        assert f'href="{sid}/"' in index, sid


def test_search_index_boosts_the_error_pages(tools_site):
    docs = json.loads((tools_site["dir"] / "search" / "search_index.json").read_text())["docs"]
    boosted = {d["location"].split("#")[0] for d in docs if d.get("boost", 1) > 1}
    assert {f"errors/{sid}/" for sid in SIGNATURES} <= boosted
    # a preview starts with what the reader came for, not a table header
    first = next(d for d in docs if d["location"] == "errors/prisma-prepared-already-exists/")
    assert first["text"].startswith("<p>You see: ERROR: prepared statement")


@pytest.fixture
def page(browser, tools_site):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.errors, p.requests = [], []
    p.on("console", lambda m: m.type == "error" and p.errors.append(f"console: {m.text}"))
    p.on("pageerror", lambda e: p.errors.append(f"pageerror: {e}"))
    context.on("request", lambda r: p.requests.append(r.url))
    yield p
    context.close()


def search(page, base: str, query: str) -> list[str]:
    """The site search's result links for `query`, in order, as the browser shows them."""
    page.goto(base, wait_until="load")
    box = page.locator("input.md-search__input")
    box.click()
    first = page.locator(".md-search-result__item").first
    for attempt in range(10):  # the index loads in a worker: type again until it answers
        box.fill("")
        box.press_sequentially(query, delay=10)
        try:
            first.wait_for(state="visible", timeout=3000)
            break
        except Exception:
            if attempt == 9:
                raise
    return page.evaluate(
        "() => [...document.querySelectorAll('.md-search-result__item > a')].map(a => a.href)"
    )


@pytest.mark.browser
@pytest.mark.parametrize(
    "query,want",
    [
        ('prepared statement "s0" already exists', "errors/prisma-prepared-already-exists/"),
        ("Tenant or user not found", "errors/supavisor-tenant-not-found/"),
        ("no more connections allowed (max_client_conn)", "errors/pgbouncer-max-client-conn/"),
        ("P2024", "errors/prisma-p2024/"),
        ("P1001", "errors/prisma-p1001/"),
        ("sorry, too many clients already", "errors/pg-too-many-clients/"),
        (
            "remaining connection slots are reserved",
            ("pg-reserved-superuser/", "pg-reserved-role/"),
        ),
    ],
)
def test_site_search_puts_the_error_page_first(page, tools_site, query, want):
    links = [urlsplit(link).path for link in search(page, tools_site["base"], query)]
    assert links, query
    assert links[0].startswith("/errors/") and links[0] != "/errors/", links[:5]
    assert links[0].endswith(want), links[:5]  # str.endswith: one page or a tuple of them
    assert not page.errors, page.errors


@pytest.mark.browser
def test_explain_box_shows_the_cli_matches(page, tools_site):
    page.goto(tools_site["base"] + "tools/explain/", wait_until="load")
    page.wait_for_selector("#ex-form[data-ready]", timeout=READY_TIMEOUT)
    unlabelled = page.evaluate("""() => [...document.querySelectorAll(
        "article input, article textarea, article select")].filter(n =>
        !(n.labels && n.labels.length) || !n.labels[0].textContent.trim()).map(n => n.id)""")
    assert unlabelled == [] and page.get_attribute("#ex-result", "aria-live") == "polite"
    secret = "hunter2-Zq9"
    text = (
        f"connecting to postgresql://app:{secret}@db.example.com:6543/app\n"
        'Error: prepared statement "s0" already exists\n'
    )
    page.fill("#ex-text", text)
    page.select_option("#ex-stack", "orm:prisma")
    page.click("#ex-form button[type=submit]")
    page.wait_for_selector("#ex-result [data-id]")
    shown = page.evaluate(
        """() => [...document.querySelectorAll('#ex-result [data-id]')].map(b => ({
            id: b.dataset.id, fix: b.querySelector('[data-k=fix]').textContent,
            href: b.querySelector('a').href}))"""
    )
    want = result(text, orm="prisma")["matches"]
    assert [s["id"] for s in shown] == [m["id"] for m in want]
    assert shown[0]["id"] == "prisma-prepared-already-exists"
    assert shown[0]["fix"] == want[0]["fix"] == "?pgbouncer=true in DATABASE_URL"
    assert shown[0]["href"].endswith("/errors/prisma-prepared-already-exists/")
    html = page.inner_html("#ex-result")
    assert secret not in html and "postgresql://" not in html
    # unmatched text says so
    page.fill("#ex-text", "all good here")
    page.click("#ex-form button[type=submit]")
    page.wait_for_function(
        "() => /No known error signature matched/.test(document.getElementById('ex-result').textContent)"
    )
    assert not page.errors, page.errors
    local = re.match(r"https?://[^/]+", tools_site["base"]).group(0)
    assert all(u.startswith((local, "data:", "blob:")) for u in page.requests)
