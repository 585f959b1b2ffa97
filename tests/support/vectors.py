"""The URL vectors (tests/vectors/urls.toml), shared by the CLI lint tests and the browser
checker's, and every password-like value a vector holds (which no output may echo)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from urllib.parse import quote, unquote

from advisor.errors import InvalidTarget
from advisor.target import parse_target

VECTORS_FILE = Path(__file__).resolve().parent.parent / "vectors" / "urls.toml"
VECTORS = tomllib.loads(VECTORS_FILE.read_text(encoding="utf-8"))["vector"]


def secrets(vector: dict) -> set[str]:
    """Every password-like value in the vector's URLs, in raw and percent-encoded forms."""
    found = set()
    for text in filter(None, (vector["url"], vector.get("direct_url"))):
        try:
            found.update(parse_target(text).secrets)
        except InvalidTarget:
            pass
        # Unparseable URLs still must not be echoed.
        found.update(re.findall(r"://[^/?@\s]*?:([^@/\s]+)@", text))
        found.update(v for _, v in re.findall(r"(password|api_key)=([^&\s']+)", text))
    forms = set()
    for s in found:
        forms |= {s, quote(s, safe=""), quote(s)}
        try:
            forms.add(unquote(s, errors="strict"))
        except UnicodeDecodeError:
            pass
    return {f for f in forms if f}
