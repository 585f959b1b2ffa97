"""Usage errors on one line, with every argument that may hold a secret blanked out.

argparse quotes the offending argument in its messages, and that argument may be a URL with
its password (`--timeout "$DATABASE_URL"`, two positional URLs, `--d=URL`).
"""

from __future__ import annotations

import os
import re

ARGV: list[str] = []  # what main() parses, so that usage errors can blank its secrets
# key=value, key = 'value', key="value": possessive, so a long line costs one pass.
# Compiled on first use (re caches them): only error messages need them.
_ASSIGN = r"""(?<![\w.-])([\w.-]++)\s*+=\s*+('[^']*+'?|"[^"]*+"?|\S++)"""
_SECRET_KEY = r"(?i)pass|pwd|secret|token|api_?key|credential"
_WORD = r"""[^\s'"]++"""


def _secret_looking(text: str) -> bool:
    """A URL, a keyword DSN, anything with an @ or a secret-looking key=value."""
    return (
        "://" in text
        or "@" in text
        or ("=" in text and any(c.isspace() for c in text))
        or any(re.search(_SECRET_KEY, m[1]) for m in re.finditer(_ASSIGN, text))
    )


def _pieces(token: str) -> list[str]:
    """What a message may quote of a secret-looking token: all of it, the part before or
    after an =, or the token as a path (pathlib turns postgresql://... into postgresql:/...)."""
    parts = token.split("=", 20)
    return (
        [token, os.path.normpath(token)]
        + ["=".join(parts[:i]) for i in range(1, len(parts))]
        + ["=".join(parts[i:]) for i in range(1, len(parts))]
    )


def redact(message: str, argv: list[str] | None = None, patterns: bool = True) -> str:
    """`message` without any argument that looks like a URL or a secret, on one line.

    patterns: also blank whatever looks like a URL or a password=... in the message itself
    (for argparse's messages; the advisor's own mention schemes such as postgresql://)."""
    from .render.safe import one_line

    forms: dict[str, str] = {}
    for token in ARGV if argv is None else argv:
        option, eq, value = token.partition("=")
        if token.startswith("-") and eq and not _secret_looking(option):
            if _secret_looking(value):  # --direct-url=URL, --d=URL (an ambiguous prefix)
                forms[token] = f"{option}=***"
                forms.update((piece, "***") for piece in _pieces(value) if _secret_looking(piece))
        elif _secret_looking(token):
            forms.update((piece, "***") for piece in _pieces(token) if _secret_looking(piece))
        elif len(token) > 100:  # a huge number or a pasted file: not worth echoing
            forms[token] = f"{token[:20]}…"
    forms.update({repr(form): f"'{shown}'" for form, shown in forms.items()})  # argparse's %r
    for form in sorted(forms, key=len, reverse=True):
        message = message.replace(form, forms[form])
    if patterns:  # whatever the exact forms missed
        message = re.sub(
            _ASSIGN, lambda m: f"{m[1]}=***" if re.search(_SECRET_KEY, m[1]) else m[0], message
        )
        message = re.sub(_WORD, lambda m: "***" if "://" in m[0] or "@" in m[0] else m[0], message)
    return one_line(message, 1000)
