"""Every renderer of the advisor: a single report (one module per output format, each a
function Report -> str, chosen by render() below), the combined report (combined.py), a burst
result (burst.py) and the docs site's readiness pages (site.py). safe.py makes the strings
they show safe for each output; advisor/status.py says how each status looks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..report import Report

FORMATS = ("text", "json", "markdown", "junit")


def render(report: Report, fmt: str, color: bool = False) -> str:
    if fmt == "text":
        from .text import render_text

        return render_text(report, color=color)
    if fmt == "json":
        from .json import render_json

        return render_json(report)
    if fmt == "markdown":
        from .markdown import render_markdown

        return render_markdown(report)
    if fmt == "junit":
        from .junit import render_junit

        return render_junit(report)
    raise ValueError(f"unknown format {fmt!r}")
