"""Adding a rule is an edit of one file, and the rule then shows up in the CLI and in the
browser's URL checker with the same status and message.

A copy of the package gets one new catalog entry (with `when` clauses, catalog/when.py) in
catalog/checks/url.toml and nothing else; `advisor lint` from that copy reports it, and the
checker page, served the zipped copy instead of the site's own package, reports it too.
"""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path

import pytest

from advisor.webtools import CLI_ONLY
from tests.support.cli import ROOT, run_advisor
from tests.support.hooks import load_hook

SAMPLE = """
[URL990]
title = "Sample rule: the URL names the application"
topic = "url"
engine = "postgresql"
kind = "lint"
severity = "low"
lifecycle = "preview"
summary = "The URL sets application_name, so the server's session list shows who is connected."
rationale = "A sample rule, written as data only."
remediation = "Add `application_name=my-service` to the URL."

[[URL990.when]]
if = ["not url.params.application_name"]
status = "warn"
message = "no application_name: {url.endpoint.provider_name|the server} shows these sessions unnamed"

[[URL990.when]]
status = "pass"
message = "application_name={url.params.application_name} names the sessions"
"""
URL = "postgresql://u:Pw-Sample-1@ep-cool-1.us-east-2.aws.neon.tech/db?sslmode=require"
NAMED = URL + "&application_name=billing"


def _tree_diff(a: Path, b: Path) -> list[str]:
    """Relative paths of files that differ or exist on one side only."""
    cmp = filecmp.dircmp(a, b, ignore=["__pycache__"])
    out = [str(Path(a.name) / n) for n in cmp.diff_files + cmp.left_only + cmp.right_only]
    for sub in cmp.common_dirs:
        out += [str(Path(a.name) / p) for p in _tree_diff(a / sub, b / sub)]
    return out


@pytest.fixture(scope="module")
def copy_with_rule(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("pkg")
    shutil.copytree(
        ROOT / "advisor", base / "advisor", ignore=shutil.ignore_patterns("__pycache__")
    )
    with (base / "advisor" / "catalog" / "checks" / "url.toml").open("a", encoding="utf-8") as fh:
        fh.write(SAMPLE)
    return base


def _lint(copy: Path, url: str) -> dict:
    # cwd too: `python -m` puts the working directory first on sys.path.
    r = run_advisor("lint", "--format", "json", "--", url, env={"PYTHONPATH": str(copy)}, cwd=copy)
    assert r.returncode in (0, 1), r.stderr
    return {f["id"]: f for f in json.loads(r.stdout)["findings"]}


def test_the_rule_is_one_file(copy_with_rule):
    assert _tree_diff(ROOT / "advisor", copy_with_rule / "advisor") == [
        "advisor/catalog/checks/url.toml"
    ]


def test_the_cli_reports_it(copy_with_rule):
    unnamed, named = _lint(copy_with_rule, URL), _lint(copy_with_rule, NAMED)
    assert unnamed["URL990"]["status"] == "warn"
    assert unnamed["URL990"]["message"] == "no application_name: Neon shows these sessions unnamed"
    assert named["URL990"]["status"] == "pass"
    assert named["URL990"]["message"] == "application_name=billing names the sessions"
    assert "URL990" not in _lint(ROOT, URL)  # the real package does not have it
    r = run_advisor("checks", "URL990", env={"PYTHONPATH": str(copy_with_rule)}, cwd=copy_with_rule)
    assert r.returncode == 0 and "preview" in r.stdout and "application" in r.stdout


@pytest.mark.browser
def test_the_page_reports_it_with_the_same_message(copy_with_rule, browser, tools_site):
    zipped = load_hook("tools_runtime").package_zip(copy_with_rule / "advisor")
    context = browser.new_context()
    try:
        # The site as built, but serving the copy's package (what a rebuild would ship).
        context.route("**/assets/advisor-*.zip", lambda route: route.fulfill(body=zipped))
        page = context.new_page()
        page.goto(tools_site["base"] + "tools/url-checker/")
        page.wait_for_selector("#uc-form[data-ready]", timeout=120_000)
        for url in (URL, NAMED):
            got = page.evaluate("u => advisorCheck({url: u})", url)
            shown = {f["id"]: f for f in got["report"]["findings"]}
            cli = _lint(copy_with_rule, url)
            assert shown["URL990"] == cli["URL990"]
            assert set(shown) == set(cli) - set(CLI_ONLY)  # the page is no command line
        page.fill("#uc-url", URL)
        page.click("#uc-form button[type=submit]")
        row = page.locator("#uc-result tr[data-id=URL990]")
        assert "shows these sessions unnamed" in row.inner_text()
    finally:
        context.close()
