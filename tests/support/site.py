"""Build the docs site with `mkdocs build --strict` over a folder of reports, and the sample
reports the site tests feed it (a lint report, one whose server strings are hostile)."""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.support.cli import ROOT, run_advisor

NEON = "postgresql://u:p@ep-cool-1.us-east-2.aws.neon.tech/db"
HOSTILE = "<script>alert(1)</script> **bold** {{ 7*7 }} [x](javascript:alert(2)) | `tick`"


def write_lint_report(path: Path) -> dict:
    r = run_advisor("lint", NEON, "--format", "json", "--output", str(path), "--label", "staging")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(path.read_text())


def write_hostile_report(path: Path, base: dict) -> None:
    """A report whose server-supplied strings try to inject HTML, Markdown and Jinja."""
    d = json.loads(json.dumps(base))
    d["label"] = HOSTILE
    d["target"]["host"] = "<img src=x onerror=alert(3)>.example"
    d["target"]["url"] = "postgresql://u:***@<b>evil</b>/db"
    d["findings"][0]["message"] = HOSTILE
    d["findings"].append(dict(d["findings"][0], id="ZZ999<i>", title="**not a check**"))
    d["facts"]["max_connections"] = 42
    d["facts"]["reserved_connections"] = 2
    d["facts"]["available_connections"] = 30
    d["facts"]["pooler"] = {"detected": True, "kind": "<u>pgbouncer</u>", "pool_mode": "*txn*"}
    path.write_text(json.dumps(d))


def build_site(dest: Path, reports: Path, **env_extra: str) -> subprocess.CompletedProcess:
    """`mkdocs build --strict` of the site with `reports` on its readiness page."""
    env = dict(os.environ, ADVISOR_REPORTS_DIR=str(reports), NO_MKDOCS_2_WARNING="1", **env_extra)
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-q",
            "-f",
            str(ROOT / "mkdocs.yml"),
            "-d",
            str(dest),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, f"mkdocs build --strict failed:\n{r.stdout}\n{r.stderr}"
    return r


def text_of(page: str) -> str:
    """The visible text of the article (tags dropped, entities decoded)."""
    article = re.search(r"<article[^>]*>(.*)</article>", page, re.S).group(1)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", article)))
