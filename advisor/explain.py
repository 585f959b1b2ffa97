"""`advisor explain TEXT|-`: what raised an error message, why, and the fix for the stack.

The text (one message, or a pasted log read from standard input) is matched against the
signatures of catalog/errors.toml, offline: no socket, no driver import. Several matches
are ranked best first: a signature for the chosen --driver/--orm, then a specific one
before the server's generic wording it refines (Prisma's "s0" before PostgreSQL's
"prepared statement ... already exists"), then the longer matched text, then the earlier.
Nothing of the pasted text is printed but the matched words, redacted like every other
message (redact.py), so a URL or password in the log never reaches the output.

The probe uses the same catalog: meaning() turns a failed probe's message into the words
its `error` finding carries.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from . import redact
from .catalog.errors import RAISERS, load_errors
from .errors import EXIT_FINDINGS, EXIT_OK, UsageError

if TYPE_CHECKING:
    import argparse

SCHEMA_VERSION = 1
MAX_INPUT = 4 * 1024 * 1024  # characters scanned; the rest of a huge paste is ignored
MAX_MATCHED = 200  # characters of matched text shown


@dataclass(frozen=True)
class Match:
    signature: Mapping[str, Any]
    matched: str  # the matched words, redacted
    line: int  # 1-based line of the first match
    start: int
    count: int  # how many times the signature matched
    for_stack: bool  # the signature belongs to the chosen stack

    def key(self) -> tuple[int, int, int, int]:
        """Sort key, best first."""
        return (
            -int(self.for_stack),
            int(bool(self.signature["generic"])),
            -len(self.matched),
            self.start,
        )


def _scrub(text: str) -> str:
    """The matched words without anything that looks like a URL or a secret."""
    return redact.redact(text, argv=[], patterns=True)[:MAX_MATCHED]


def _stack_keys(orm: str | None, driver: str | None) -> tuple[str, ...]:
    """The references a signature may use for the chosen stack, most specific first."""
    if orm is None and driver is None:
        return ()
    from .catalog.stacks import named

    try:
        stack = named(orm, driver)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    keys = [stack.id]
    if stack.orm is not None:
        keys.append(str(stack.orm["id"]))
    keys.append(str(stack.driver["id"]))
    return tuple(dict.fromkeys(keys))


def _belongs(signature: Mapping[str, Any], keys: tuple[str, ...]) -> bool:
    """The signature names the chosen stack (its fixes, or the stack that raises it)."""
    refs = set(signature["stack_fixes"]) | {signature.get("stack")}
    return bool(refs & set(keys))


def match(text: str, orm: str | None = None, driver: str | None = None) -> list[Match]:
    """Every signature the text matches, best first. UsageError for an unknown stack."""
    keys = _stack_keys(orm, driver)
    text = text[:MAX_INPUT]
    lowered = text.lower()  # for the literal pre-test: one pass per signature, in C
    found = []
    for signature in load_errors().values():
        hits = [
            m
            for pattern, literal in zip(signature["compiled"], signature["needles"], strict=True)
            if literal is None or literal in lowered
            for m in pattern.finditer(text)
        ]
        if not hits:
            continue
        first = min(hits, key=lambda m: m.start())
        longest = max(hits, key=lambda m: len(m.group(0)))
        found.append(
            Match(
                signature=signature,
                matched=_scrub(longest.group(0)),
                line=text.count("\n", 0, first.start()) + 1,
                start=first.start(),
                count=len(hits),
                for_stack=_belongs(signature, keys),
            )
        )
    return sorted(found, key=Match.key)


def fix_for(signature: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    """The fix line for the chosen stack when the signature has one, else the general fix."""
    fixes = signature["stack_fixes"]
    for key in keys:
        if key in fixes:
            return str(fixes[key])
    return str(signature["fix"])


def as_dict(m: Match, keys: tuple[str, ...] = ()) -> dict[str, Any]:
    s = m.signature
    return {
        "id": s["id"],
        "title": s["title"],
        "raised_by": {"kind": s["raised_by"]["kind"], "name": s["raised_by"]["name"]},
        "cause": s["cause"],
        "fix": fix_for(s, keys),
        "docs_url": s["docs_url"],
        "fixes": dict(s["stack_fixes"]),
        "sqlstate": s.get("sqlstate"),
        "matched": m.matched,
        "line": m.line,
        "count": m.count,
        "source": s["source"],
        "checked": s["checked"],
    }


def result(text: str, orm: str | None = None, driver: str | None = None) -> dict[str, Any]:
    """The JSON document `advisor explain --format json` prints."""
    keys = _stack_keys(orm, driver)
    matches = match(text, orm, driver)
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": "explain",
        "stack": keys[0] if keys else None,
        "matches": [as_dict(m, keys) for m in matches],
    }


# --------------------------------------------------------------------------- output


def _raiser(raised_by: Mapping[str, str]) -> str:
    return f"{raised_by['name']} ({RAISERS[raised_by['kind']]})"


def render_text(doc: Mapping[str, Any]) -> str:
    matches = doc["matches"]
    if not matches:
        return "No known error signature matched (`advisor explain` knows the messages listed on the site's Errors pages).\n"
    n = len(matches)
    out = [f"{n} known error{'s' if n != 1 else ''} in the text, best match first", ""]
    for i, m in enumerate(matches, 1):
        times = f", {m['count']} times" if m["count"] > 1 else ""
        out += [
            f"{i}. {m['title']}  [{m['id']}]",
            f"   Raised by: {_raiser(m['raised_by'])}",
            f'   Matched:   "{m["matched"]}" (line {m["line"]}{times})',
            f"   Cause:     {m['cause']}",
            f"   Fix:       {m['fix']}",
        ]
        if doc["stack"] is None and m["fixes"]:
            out.append("   Fix per stack:")
            out += [f"     {ref}: {line}" for ref, line in m["fixes"].items()]
        out += [f"   Docs:      {m['docs_url']}", ""]
    return "\n".join(out)


def render_markdown(doc: Mapping[str, Any]) -> str:
    from .render.safe import markdown as md

    matches = doc["matches"]
    if not matches:
        return "# advisor explain\n\nNo known error signature matched.\n"
    out = ["# advisor explain", ""]
    for i, m in enumerate(matches, 1):
        out += [
            f"## {i}. {md(m['title'])} (`{m['id']}`)",
            "",
            f"- **Raised by:** {md(_raiser(m['raised_by']))}",
            f"- **Matched:** {md(m['matched'])} (line {m['line']})",
            f"- **Cause:** {md(m['cause'], 2000)}",
            f"- **Fix:** {md(m['fix'], 2000)}",
        ]
        if doc["stack"] is None and m["fixes"]:
            out += [
                f"- **Fix for {md(ref)}:** {md(line, 2000)}" for ref, line in m["fixes"].items()
            ]
        out += [f"- **Docs:** <{m['docs_url']}>", ""]
    return "\n".join(out)


def _read(argument: str) -> str:
    if argument != "-":
        return argument
    data = (
        sys.stdin.buffer.read(MAX_INPUT + 1) if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    )
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def run(args: argparse.Namespace) -> int:
    """Exit 0 when something matched, 1 when nothing did; UsageError (2) otherwise."""
    text = _read(args.text)
    if not text.strip():
        raise UsageError("nothing to explain: give the error text, or - to read it from stdin")
    doc = result(text, args.orm, args.driver)
    if args.format == "json":
        print(json.dumps(doc, indent=2))
    elif args.format == "markdown":
        print(render_markdown(doc))
    else:
        print(render_text(doc), end="")
    return EXIT_OK if doc["matches"] else EXIT_FINDINGS


# --------------------------------------------------------------------------- the probe


def meaning(message: str) -> dict[str, Any] | None:
    """The best signature for a failed probe's message, as as_dict() gives it, or None."""
    matches = match(message)
    return as_dict(matches[0]) if matches else None


def annotate(findings: list[Any], message: str) -> None:
    """Give the `error` findings of a failed probe the meaning of the server's or pooler's
    message and the signature's fix (in place); nothing when no signature matches."""
    found = meaning(message)
    if found is None:
        return
    for f in findings:
        if f.status != "error":
            continue
        f.message = f"{f.message} — {found['title']} [{found['id']}]: {found['cause']}"
        f.remediation = f"{found['fix']} (this error explained: {found['docs_url']})"
