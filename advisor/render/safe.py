"""Make strings that came from a server, a user or a file safe for each output."""

from __future__ import annotations

import re

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)?")
# C0 and C1 controls (tab and newline stay), lone surrogates (JSON "\ud800" decodes to one;
# no encoder can write it) and the two non-characters XML forbids.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
LIMIT = 300


def plain(value: object, limit: int = LIMIT) -> str:
    """No escape sequences or control characters; long values cut with an ellipsis."""
    text = _CONTROL.sub("", _ANSI.sub("", str(value)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(value: object, limit: int = LIMIT) -> str:
    """plain() on a single line: for error messages."""
    return " ".join(plain(value, limit).split())


def markdown(value: object, limit: int = LIMIT) -> str:
    """Plain text that GitHub-flavoured Markdown shows literally (no HTML, links or tables)."""
    # html.escape(quote=False) without importing html (and its entity table) on every run
    text = plain(value, limit).replace("\n", " ")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_{}\[\]()#+!|~>])", r"\\\1", text)


def slug(text: object) -> str:
    """Lower-case letters, digits and dashes: safe in file names and URLs."""
    return re.sub(r"[^a-z0-9]+", "-", str(text or "").lower()).strip("-")[:80]
