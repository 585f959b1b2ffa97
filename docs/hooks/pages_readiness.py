"""Readiness pages: readiness.md and readiness/<slug>.md, from the report JSON files in the
reports folder. The folder is read and combined by advisor.combine (the object `advisor
report` renders) and the pages are rendered by advisor/render/site.py: this module only
finds the folders."""

from __future__ import annotations

import os
from pathlib import Path

from pages_text import ROOT

from advisor.combine import combine, read_folder
from advisor.render.site import readiness_pages as render_pages


def reports_dir(config) -> Path:
    env = os.environ.get("ADVISOR_REPORTS_DIR")
    if env:
        return Path(env)
    base = Path(config.config_file_path or ROOT / "mkdocs.yml").parent
    return base / (config.extra.get("reports_dir") or "reports")


def baseline_dir(config, reports: Path) -> Path | None:
    """The previous run: ADVISOR_BASELINE_DIR, `extra.baseline_dir`, or <reports>/baseline/."""
    env = os.environ.get("ADVISOR_BASELINE_DIR")
    if env:
        return Path(env)
    if config.extra.get("baseline_dir"):
        return (
            Path(config.config_file_path or ROOT / "mkdocs.yml").parent
            / config.extra["baseline_dir"]
        )
    return reports / "baseline" if (reports / "baseline").is_dir() else None


def readiness_pages(config, checks: dict, providers: dict) -> dict[str, str]:
    """readiness.md (the fleet view) and readiness/<slug>.md (one page per environment)."""
    folder = reports_dir(config)
    reports, skipped = read_folder(folder)
    base_folder = baseline_dir(config, folder)
    baseline = None
    if base_folder is not None and base_folder.is_dir():
        baseline = read_folder(base_folder)[0]
    combined = combine(reports, baseline)
    by_file = {str(path): d for path, d in reports}
    return render_pages(combined, by_file, folder, skipped, checks, providers)
