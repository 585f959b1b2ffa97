"""The browser tools (docs/tools/) in Debian's Chromium, against the built site on loopback.

Every URL vector of tests/vectors/urls.toml goes through the checker's real form, and the test
reads what the page renders: statuses and messages must be `advisor lint`'s (the page runs the
package itself, with Pyodide; test_tools_differential.py compares thousands of generated URLs).
Missing Chromium or Playwright skips, unless ADVISOR_REQUIRE_SERVERS=1.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from advisor import configgen
from advisor.catalog import load_checks
from advisor.catalog.providers import load_providers
from advisor.webtools import CLI_ONLY, check_url
from tests.support.capacity import CAPACITY
from tests.support.vectors import VECTORS, secrets

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-artifacts" / "screenshots"
TOOLS = {"url-checker": "uc", "config-generator": "cg", "capacity": "cc"}  # page -> id prefix

# What the checker shows, read from the rendered result (nothing else).
READ_RESULT = """() => {
  const r = document.getElementById("uc-result");
  const text = sel => { const n = r.querySelector(sel); return n ? n.textContent.trim() : null; };
  const rows = [...r.querySelectorAll("tr[data-id]")];
  return {
    error: text("[data-k=error]"),
    provider: text("td[data-k=provider] code") || "",
    role: text("td[data-k=role]"), pooler: text("td[data-k=pooler]"), pool_mode: text("td[data-k=pool_mode]"),
    verdict: text("[data-k=verdict]"),
    statuses: Object.fromEntries(rows.map(tr => [tr.dataset.id,
      tr.querySelector("[data-k=status]").textContent.trim().split(/\\s+/).pop()])),
    links: Object.fromEntries(rows.map(tr => [tr.dataset.id, tr.querySelector("a").href])),
    titles: Object.fromEntries(rows.map(tr => [tr.dataset.id, tr.children[1].textContent])),
    messages: Object.fromEntries(rows.map(tr => [tr.dataset.id, tr.children[3].textContent])),
    html: r.innerHTML,
  };
}"""

READ_GENERATED = """() => ({
  blocks: [...document.querySelectorAll("#cg-result .adv-block")].map(b =>
    [b.querySelector(".filename").textContent, b.querySelector("code").textContent]),
  notes: [...document.querySelectorAll("#cg-result ul li")].map(li => li.textContent),
  error: (document.querySelector("#cg-result [data-k=error]") || {}).textContent || null,
})"""


@pytest.fixture
def chromium(browser):
    return browser


READY_TIMEOUT = 120_000  # ms: Pyodide starts in ~4 s here, far slower on a loaded machine


def open_tool(chromium, tools_site, name: str, scheme: str = "light"):
    """A fresh context on one tool page, loaded and ready; records errors and every request."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    page.errors, page.requests = [], []
    page.on("console", lambda m: m.type == "error" and page.errors.append(f"console: {m.text}"))
    page.on("pageerror", lambda e: page.errors.append(f"pageerror: {e}"))
    context.on("request", lambda r: page.requests.append(r.url))
    page.goto(tools_site["base"] + f"tools/{name}/", wait_until="load")
    page.wait_for_selector(f"#{TOOLS[name]}-form[data-ready]", timeout=READY_TIMEOUT)
    return context, page


@pytest.fixture
def tool(chromium, tools_site):
    """A fresh page (own context) per call: for tests that change the context itself."""
    contexts = []

    def opener(name: str, scheme: str = "light"):
        context, page = open_tool(chromium, tools_site, name, scheme)
        contexts.append(context)
        return page

    yield opener
    for c in contexts:
        c.close()


@pytest.fixture(scope="module")
def shared(browser, tools_site):
    """One loaded page per tool and colour scheme for the whole module: starting Python in a
    page takes seconds, so tests that only fill forms reuse it (and set every field they read)."""
    pages: dict[tuple[str, str], object] = {}

    def opener(name: str, scheme: str = "light"):
        if (name, scheme) not in pages:
            pages[name, scheme] = open_tool(browser, tools_site, name, scheme)
        return pages[name, scheme][1]

    yield opener
    for context, _ in pages.values():
        context.close()


def foreign(requests: list[str], base: str) -> list[str]:
    local = urlsplit(base).netloc
    return [
        u
        for u in requests
        if urlsplit(u).scheme not in ("data", "blob", "about") and urlsplit(u).netloc != local
    ]


def lint_findings(vector: dict) -> dict | None:
    """id -> (status, message) of every finding `advisor lint --format json` reports for the
    vector (its main() in this process), or None if the URL is invalid."""
    result = check_url(
        vector["url"],
        vector.get("direct_url") or "",
        orm=vector.get("orm"),
        serverless=vector.get("serverless", True),
        prisma_version=vector.get("prisma_version"),
        driver=vector.get("driver"),
        driver_options=vector.get("driver_options"),
        uses=vector.get("uses"),
    )
    if "error" in result:
        return None
    return {f["id"]: (f["status"], f["message"]) for f in result["report"]["findings"]}


def fill_checker(page, vector: dict) -> dict:
    page.select_option("#uc-orm", vector.get("orm") or "none")
    page.set_checked("#uc-serverless", vector.get("serverless", True))
    page.fill("#uc-prisma", str(vector.get("prisma_version") or ""))
    page.select_option("#uc-driver", vector.get("driver") or "")
    page.fill("#uc-options", "\n".join(vector.get("driver_options", [])))
    for box in page.query_selector_all("#uc-uses input"):
        box.set_checked(box.get_attribute("value") in vector.get("uses", []))
    page.fill("#uc-url", vector["url"])
    page.fill("#uc-direct", vector.get("direct_url") or "")
    page.click("#uc-form button[type=submit]")
    return page.evaluate(READ_RESULT)


# ------------------------------------------------------------------------------ URL checker


def test_every_vector_through_the_checker_form(shared, tools_site):
    page = shared("url-checker")
    loaded = len(page.requests)
    assert any(u.endswith("/assets/advisor-runtime.json") for u in page.requests)
    assert any(u.endswith("/assets/pyodide/pyodide.asm.wasm") for u in page.requests)
    checks = load_checks()
    failures = []
    offered = set(page.eval_on_selector_all("#uc-driver option", "os => os.map(o => o.value)"))
    for vector in VECTORS:
        if vector.get("driver", "") not in offered:
            continue  # a driver the form cannot name (the CLI's error is test_lint_vectors')
        exp, got = vector["expect"], fill_checker(page, vector)
        name = vector["name"]
        if exp["exit"] == 2:
            if not got["error"] or exp["error_contains"] not in got["error"]:
                failures.append(
                    f"{name}: expected error {exp['error_contains']!r}, got {got['error']!r}"
                )
        elif got["error"]:
            failures.append(f"{name}: unexpected error {got['error']!r}")
        else:
            shown = {
                k: ("" if got[k] in (None, "\u2014") else got[k])
                for k in ("provider", "role", "pooler", "pool_mode")
            }
            want = {k: exp[k] for k in shown}
            if shown != want:
                failures.append(f"{name}: endpoint {shown} != {want}")
            for cid, status in exp.get("statuses", {}).items():
                if cid in CLI_ONLY:  # about the command line: the page leaves it out
                    status = "absent"
                actual = got["statuses"].get(cid, "absent")
                if actual != status:
                    failures.append(f"{name}: {cid} shows {actual}, expected {status}")
            # Beyond the pinned ones: every finding, status and message is the CLI's.
            shown = {cid: (got["statuses"][cid], got["messages"][cid]) for cid in got["statuses"]}
            if shown != lint_findings(vector):
                failures.append(f"{name}: page {shown} != lint {lint_findings(vector)}")
            if f"advisor lint would exit {exp['exit']}" not in (got["verdict"] or ""):
                failures.append(f"{name}: verdict {got['verdict']!r}, expected exit {exp['exit']}")
            for cid, href in got["links"].items():
                assert href == tools_site["base"] + f"checks/{cid}/", href
                assert got["titles"][cid] == checks[cid]["title"]
        for secret in secrets(vector):
            if secret in got["html"]:
                failures.append(f"{name}: a password form appears in the result")
    assert not failures, "\n".join(failures)
    # Checking 160 URLs (most with passwords) issued no request at all.
    assert page.requests[loaded:] == []
    assert not foreign(page.requests, tools_site["base"])
    assert not page.errors, page.errors


def test_typing_a_url_with_a_password_sends_nothing(tool, tools_site):
    page = tool("url-checker")
    before = list(page.requests)
    password = "Pw-Typed-Secret-991"
    page.focus("#uc-url")
    page.keyboard.type(
        f"postgresql://postgres.abcdefghij:{password}@aws-0-eu-central-1"
        ".pooler.supabase.com:6543/postgres?sslmode=require",
        delay=2,
    )
    page.select_option("#uc-orm", "prisma")
    page.focus("#uc-url")
    for _ in range(5):  # keyboard only: to the Check button, then Enter
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    page.keyboard.press("Enter")
    got = page.evaluate(READ_RESULT)
    assert got["provider"] == "supabase" and got["statuses"]["URL201"] == "fail"
    assert "postgres.abcdefghij:***@" in got["html"]
    assert page.requests == before, page.requests[len(before) :]
    assert password not in page.content()
    assert not page.errors, page.errors


def test_checker_works_offline_once_loaded(tool):
    page = tool("url-checker")
    page.context.set_offline(True)
    got = fill_checker(
        page, {"url": "postgresql://u:Pw-Off-1@db.example.com:6432/app?sslmode=disable"}
    )
    assert got["provider"] == "self-hosted" and got["statuses"]["URL101"] == "fail"
    assert not page.errors, page.errors


# ------------------------------------------------------------------------- config generator


def _generated(page, provider: str, stack: str, platform: str, endpoint: str = "") -> dict:
    page.select_option("#cg-provider", provider)
    page.select_option("#cg-endpoint", endpoint)
    page.select_option("#cg-orm", stack)
    page.select_option("#cg-platform", platform)
    return page.evaluate(READ_GENERATED)


def test_generator_offers_every_provider_endpoint_and_stack(shared, tools_site):
    """The selects hold the catalogs; what the page draws is configgen.generate's output
    (a sample: every stack once, every provider once; the logic is tested in
    test_configgen.py for every endpoint x stack)."""
    page = shared("config-generator")
    loaded = len(page.requests)
    values = lambda sel: page.eval_on_selector_all(sel + " option", "os => os.map(o => o.value)")  # noqa: E731
    providers = list(load_providers())
    assert values("#cg-provider") == providers
    assert sorted(values("#cg-orm")) == sorted(s["id"] for s in configgen.stacks())
    page.select_option("#cg-provider", "heroku")
    page.evaluate("document.getElementById('cg-form').dispatchEvent(new Event('change'))")
    heroku = [e["id"] for e in load_providers()["heroku"]["endpoints"]]
    assert values("#cg-endpoint") == ["", *heroku]
    cases = [(providers[i % len(providers)], s["id"]) for i, s in enumerate(configgen.stacks())]
    cases += [(pid, "prisma") for pid in providers]
    failures = []
    for i, (pid, sid) in enumerate(cases):
        platform = ("vercel", "server")[i % 2]
        got = _generated(page, pid, sid, platform)
        try:
            want = configgen.generate(pid, sid, platform, 6)
        except ValueError as exc:
            if got["error"] != str(exc):
                failures.append(f"{pid} x {sid}: {got['error']!r} != {exc}")
            continue
        if got["blocks"] != want["blocks"] or got["notes"] != want["notes"]:
            failures.append(f"{pid} x {sid} x {platform}: {got} != {want}")
    assert not failures, "\n".join(failures[:5])
    # pgbouncer.ini: the package's file, for the form's numbers
    page.select_option("#pi-stack", "pgjdbc")
    page.fill("#pi-instances", "40")
    page.select_option("#pi-version", "1.18")
    shown = page.text_content("#pi-code code")
    want = configgen.pgbouncer_ini(stack="pgjdbc", instances=40, version="1.18")["file"]
    assert shown == want and "ignore_startup_parameters = " in shown
    assert page.requests[loaded:] == []
    assert not page.errors, page.errors


def test_generator_copy_button_is_the_sites_own(tool):
    page = tool("config-generator")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    got = _generated(page, "supabase", "prisma", "vercel")
    env = got["blocks"][0][1]
    assert ":6543/" in env and "pgbouncer=true" in env and "connection_limit=1" in env
    assert page.locator("#cg-result .highlight pre > code").count() == len(got["blocks"])
    page.locator("#cg-result .md-clipboard").first.click()
    page.wait_for_function("navigator.clipboard.readText().then(t => t.length > 0)")
    assert page.evaluate("navigator.clipboard.readText()") == env
    assert not page.errors, page.errors


def test_checker_shows_the_corrected_url(shared):
    page = shared("url-checker")
    url = "postgresql://postgres.abc:pw@aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require"
    page.fill("#uc-url", url)
    page.select_option("#uc-orm", "prisma")
    page.fill("#uc-prisma", "6")
    page.evaluate("document.getElementById('uc-form').dispatchEvent(new Event('submit'))")
    shown = page.text_content("#uc-corrected code", timeout=60_000)
    want = check_url(url, orm="prisma", prisma_version=6)["corrected"]["url"]
    assert shown == want and shown.endswith("&pgbouncer=true&connection_limit=1")
    assert "URL301" not in page.inner_html("#uc-result") and "pw@" not in shown
    assert not page.errors, page.errors


# ---------------------------------------------------------------------- capacity calculator


@pytest.mark.parametrize(
    "inputs,verdict,shown", CAPACITY, ids=[f"row{i}" for i in range(len(CAPACITY))]
)
def test_capacity_table(shared, inputs, verdict, shown):
    page = shared("capacity")
    loaded = len(page.requests)
    page.set_checked("#cc-pooler", bool(inputs.get("pooler")))
    defaults = dict(max=100, reserved=3, inuse=0, instances=20, pool=1, dps="", mcc="")
    for key, value in defaults.items():
        if key in ("dps", "mcc") and not inputs.get("pooler"):
            continue  # hidden fields
        page.fill(f"#cc-{key}", str(inputs.get(key, value)))
    text = page.inner_text("#cc-result")
    assert text.startswith(verdict), text
    for s in shown:
        assert s in text, (s, text)
    assert page.requests[loaded:] == []
    assert not page.errors, page.errors


def test_capacity_draws_demand_against_free_slots(shared):
    """The bar: connections wanted and slots free on one scale, red when they do not fit."""
    page = shared("capacity")
    page.set_checked("#cc-pooler", False)
    for key, value in dict(max=100, reserved=3, inuse=0, instances=200, pool=1).items():
        page.fill(f"#cc-{key}", str(value))
    bars = page.evaluate(
        """() => [...document.querySelectorAll('#cc-result .cc-bar')].map(b =>
            [b.className, b.getBoundingClientRect().width, b.parentElement.getBoundingClientRect().width])"""
    )
    (wanted_cls, wanted, track), (_, free, _) = bars
    assert "cc-bar--over" in wanted_cls
    assert abs(wanted / track - 1.0) < 0.02 and abs(free / track - 97 / 200) < 0.02, bars
    assert "one connection per instance is already the least" in page.inner_text("#cc-result")
    assert not page.errors, page.errors


# ------------------------------------------------------------------------- pages, screenshots


def test_only_tool_pages_start_python(chromium, tools_site):
    """Pyodide (13 MB) is fetched by the tool pages alone, never by the rest of the site."""
    context = chromium.new_context()
    try:
        page = context.new_page()
        requests: list[str] = []
        context.on("request", lambda r: requests.append(r.url))
        for path in ("", "tools/", "checks/URL101/", "providers/supabase/"):
            page.goto(tools_site["base"] + path, wait_until="networkidle")
        assert any(
            u.endswith("/javascripts/advisor-tools.js") for u in requests
        )  # it returns early
        assert not [u for u in requests if "pyodide" in u or "/assets/advisor-" in u]
        assert not foreign(requests, tools_site["base"]), requests
    finally:
        context.close()


def test_tool_pages_are_accessible_and_local(shared, tools_site):
    for name in TOOLS:
        page = shared(name)
        unlabelled = page.evaluate("""() => [...document.querySelectorAll(
            "article input, article textarea, article select")].filter(n =>
            !(n.labels && n.labels.length) || !n.labels[0].textContent.trim()).map(n => n.id)""")
        assert unlabelled == [], (name, unlabelled)
        assert page.get_attribute(f"#{TOOLS[name]}-result", "aria-live") == "polite"
        assert not foreign(page.requests, tools_site["base"]), page.requests
        assert not page.errors, (name, page.errors)


def test_focus_is_visible(shared):
    page = shared("capacity")
    page.focus("#cc-max")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("none", ""), outline


CONTRAST = """() => {
  const probe = document.createElement("div");
  probe.style.background = "var(--md-default-bg-color)";
  document.body.append(probe);
  const bg = getComputedStyle(probe).backgroundColor;
  probe.remove();
  return [bg, [...document.querySelectorAll("#uc-result [class^=adv-]")].map(n => getComputedStyle(n).color)];
}"""


def _luminance(rgb: str) -> float:
    r, g, b = (int(x) / 255 for x in re.findall(r"\d+", rgb)[:3])
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots(shared, scheme):
    SHOTS.mkdir(parents=True, exist_ok=True)
    expected = {"light": "default", "dark": "slate"}[scheme]
    for name in TOOLS:
        page = shared(name, scheme)
        assert page.evaluate("document.body.getAttribute('data-md-color-scheme')") == expected
        if name == "url-checker":
            fill_checker(
                page, next(v for v in VECTORS if v.get("direct_url") and v["expect"]["exit"] == 1)
            )
            bg, colours = page.evaluate(CONTRAST)
            assert colours, "no status shown"
            for colour in colours:  # WCAG AA for text: 4.5:1 against the page background
                hi, lo = sorted((_luminance(colour), _luminance(bg)), reverse=True)
                assert (hi + 0.05) / (lo + 0.05) >= 4.5, (scheme, colour, bg)
        elif name == "capacity":
            page.set_checked("#cc-pooler", True)
            page.fill("#cc-instances", "50")
            page.fill("#cc-pool", "5")
        out = SHOTS / f"tool-{name}-{scheme}.png"
        page.screenshot(path=str(out), full_page=True)
        assert out.stat().st_size > 10_000
        assert not page.errors, page.errors
