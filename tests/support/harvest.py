"""Collect every artifact of advisor runs (streams, report files, a built site) and search them."""

from __future__ import annotations

import html
from pathlib import Path

from advisor.target import secret_forms
from tests.support.cli import run_advisor
from tests.support.site import build_site  # noqa: F401  (harvesting tests build the site too)

FILE_FORMATS = {"json": "json", "markdown": "md", "junit": "xml"}


def run_every_format(
    command: str,
    args: list[str],
    folder: Path,
    env: dict | None = None,
    extra: tuple = ("--debug",),
) -> dict[str, str]:
    """One run per format (text, and json/markdown/junit to a file and to stdout), all with
    --debug; returns {artifact name: content}. The JSON report is left in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    found = {}
    r = run_advisor(command, *args, *extra, env=env)
    found.update({"text stdout": r.stdout, "text stderr": r.stderr})
    for fmt, ext in FILE_FORMATS.items():
        path = folder / f"report.{ext}"
        r = run_advisor(command, *args, "--format", fmt, "--output", str(path), *extra, env=env)
        found.update(
            {
                f"{fmt} file": path.read_text(encoding="utf-8"),
                f"{fmt} run stdout": r.stdout,
                f"{fmt} run stderr": r.stderr,
            }
        )
        r = run_advisor(command, *args, "--format", fmt, env=env)
        found.update({f"{fmt} stdout": r.stdout, f"{fmt} stderr": r.stderr})
    return found


def site_files(dest: Path) -> dict[str, str]:
    return {
        str(p.relative_to(dest)): p.read_text(encoding="utf-8", errors="replace")
        for p in dest.rglob("*")
        if p.is_file() and p.suffix in (".html", ".json", ".xml", ".js")
    }


def leaks(artifacts: dict[str, str], secret: str) -> list[str]:
    """Names of the artifacts holding the secret in any form (raw, percent-encoded, HTML)."""
    forms = set(secret_forms(secret))
    forms |= {html.escape(f) for f in forms} | {html.escape(f, quote=False) for f in forms}
    return [name for name, text in artifacts.items() if any(f in text for f in forms)]
