"""The readiness pages in Chromium: server strings holding HTML/JS stay text.

Chromium runs from a child process (this module, `python -m`): a second Playwright in the
pytest process next to test_site_browser's upsets the other's timing. Missing Chromium or
Playwright skips these tests, unless ADVISOR_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import ROOT
from tests.support.live import need as _missing
from tests.support.web import CHROMIUM, serve_dir
from tests.support.web import CHROMIUM_ARGS as ARGS

pytestmark = pytest.mark.browser

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
LABEL = "<b onmouseover=alert(3)>prod</b>"
SELECTORS = (
    'article img[src="x"], article script, [onerror], [onmouseover], '
    'a[href^="javascript"], .md-search-result img, .md-search-result script'
)
INJECTED = f"document.querySelectorAll({json.dumps(SELECTORS)}).length"


# --------------------------------------------------------------------------- child process


def drive(base: str, paths: list[str]) -> dict:
    """Visit each page and search; return what a user would see and what ran."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    out: dict = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)

        def fresh():
            page = browser.new_context().new_page()
            page.dialogs, page.errors = [], []
            page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            return page

        for path in paths:
            page = fresh()
            response = page.goto(base + path, wait_until="load")
            page.wait_for_timeout(300)  # time for a broken image's onerror to fire
            label = page.locator("article").get_by_text(LABEL).first
            visible = label.is_visible()
            if visible:
                label.hover()
            out[path] = {
                "status": response.status if response else None,
                "text": page.locator("article").inner_text(),
                "label_visible": visible,
                "injected": page.evaluate(INJECTED),
                "dialogs": page.dialogs,
                "errors": page.errors,
            }
        page = fresh()
        page.goto(base, wait_until="load")
        box = page.locator("input.md-search__input")
        box.click()
        first = page.locator(".md-search-result__item").first
        for _ in range(3):  # the index loads in a web worker: slow on a busy machine
            box.fill("")
            box.press_sequentially("onerror", delay=50)
            try:
                first.wait_for(state="visible", timeout=20000)
                break
            except PlaywrightTimeout:
                pass
        out["search"] = {
            "text": page.locator(".md-search-result").inner_text(),
            "injected": page.evaluate(INJECTED),
            "dialogs": page.dialogs,
            "errors": page.errors,
        }
        browser.close()
    return out


if __name__ == "__main__":
    print(json.dumps(drive(sys.argv[1], sys.argv[2:])))
    sys.exit(0)


# --------------------------------------------------------------------------- tests


@pytest.fixture(scope="module")
def seen(tmp_path_factory):
    from advisor.render.safe import slug
    from tests.support.reports import finding, report
    from tests.support.site import build_site

    if not Path(CHROMIUM).exists():
        _missing(f"{CHROMIUM} not installed (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _missing(f"playwright not importable: {exc}")
    reports = tmp_path_factory.mktemp("hostile-reports")
    hostile = report(
        LABEL,
        [
            finding("PG101", "fail", f"{SCRIPT} too few slots"),
            finding("PG201", "warn", f"{IMG} [x](javascript:alert(4))"),
        ],
        available=3,
    )
    hostile["facts"]["server_version"] = IMG
    hostile["facts"]["pooler"]["kind"] = f"{SCRIPT}bouncer"
    (reports / "prod.json").write_text(json.dumps(hostile))
    (reports / "baseline").mkdir()
    old = report(LABEL, [finding("PG101", "pass", SCRIPT)], available=30)
    (reports / "baseline" / "prod.json").write_text(json.dumps(old))
    site = tmp_path_factory.mktemp("hostile-site")
    build_site(site, reports)
    pages = ["readiness/", f"readiness/{slug(LABEL)}/"]
    with serve_dir(site) as base:
        # As a module from the checkout's root: it imports tests.support as it does here.
        r = subprocess.run(
            [sys.executable, "-m", "tests.test_fleet_browser", base, *pages],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=ROOT,
        )
    assert r.returncode == 0, r.stderr[-3000:]
    return {
        "fleet": json.loads(r.stdout)[pages[0]],
        "env": json.loads(r.stdout)[pages[1]],
        "search": json.loads(r.stdout)["search"],
    }


@pytest.mark.parametrize("page", ["fleet", "env"])
def test_hostile_strings_render_as_text(seen, page):
    s = seen[page]
    assert s["status"] == 200
    assert LABEL in s["text"] and s["label_visible"]
    assert s["injected"] == 0
    assert not s["dialogs"], s["dialogs"]
    assert not s["errors"], s["errors"]


def test_environment_page_shows_every_hostile_string(seen):
    text = seen["env"]["text"]
    assert IMG in text and SCRIPT in text and "[x](javascript:alert(4))" in text
    assert "Since the previous run" in text and "available connections 30 → 3" in text


def test_search_results_stay_text(seen):
    s = seen["search"]
    assert "onerror" in s["text"]
    assert s["injected"] == 0
    assert not s["dialogs"], s["dialogs"]
