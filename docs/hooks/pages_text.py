"""Helpers shared by the page builders in docs/hooks/: trusted catalog text into Markdown."""

from __future__ import annotations

import html
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # the hooks run from mkdocs, not from an installed package
    sys.path.insert(0, str(ROOT))


def prose(text, lines: bool = False) -> str:
    """Trusted catalog text: keep its `code` spans, but make <placeholders> visible, not HTML.
    One line unless `lines` (then line breaks and Markdown blocks survive)."""
    parts = str(text or "").strip().split("`")
    for i in range(0, len(parts), 2):
        parts[i] = html.escape(parts[i], quote=False).replace("|", "&#124;")
    out = "`".join(parts)
    return out if lines else out.replace("\n", " ")


def cell(text) -> str:
    return prose(text).replace("\n", " ")


def source_link(item: dict) -> str:
    """`source · checked DATE` for a catalog fact; unverified facts say so."""
    url = item.get("source") or ""
    link = f"[source]({url})" if url.startswith(("http://", "https://")) else "no source"
    out = f"{link} · checked {item.get('checked') or 'never'}"
    if item.get("verified") is False:
        out += " · *unverified*"
    return out


def indent(text: str, n: int = 4) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())
