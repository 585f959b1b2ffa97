"""The audit's tables (the connection ledger, the session features) for text and Markdown.
Every server string is made safe for its output (safe.py)."""

from __future__ import annotations

from typing import Any

from ..ledger import age
from .safe import markdown as md
from .safe import plain

MAX_GROUPS = 30


def _rows(ledger: dict[str, Any]) -> list[list[str]]:
    return [
        [
            g["application_name"] or "(none)",
            g["role"] or "?",
            g["database"] or "?",
            g["client_addr"] or "local",
            g["state"] or "unknown",
            str(g["connections"]),
            f"{g['share_percent']:g} %",
            age(g["max_age_s"]),
        ]
        for g in ledger["groups"][:MAX_GROUPS]
    ]


HEAD = ["application", "role", "database", "client", "state", "conns", "share", "oldest"]


def _safe_line(ledger: dict[str, Any]) -> str:
    line = (
        f"safe concurrency: {ledger['safe_connections']} more connection(s) of "
        f"max_connections {ledger['max_connections']} ({ledger['reserved_connections']} reserved)"
    )
    if ledger.get("pool_size"):
        line += (
            f"; {ledger['safe_instances']} instance(s) at {ledger['pool_size']} each "
            f"({ledger['pool_size_source']})"
        )
    return line


def text_lines(facts: dict[str, Any]) -> list[str]:
    ledger = facts.get("ledger")
    out: list[str] = []
    if ledger:
        rows = [[plain(c, 40) for c in r] for r in _rows(ledger)]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(HEAD)]
        out += ["", "Connection ledger"]
        out.append("  " + "  ".join(h.ljust(w) for h, w in zip(HEAD, widths, strict=True)))
        out += ["  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        if len(ledger["groups"]) > MAX_GROUPS:
            out.append(
                f"  ... and {len(ledger['groups']) - MAX_GROUPS} more group(s) (JSON has all)"
            )
        out.append("  " + _safe_line(ledger))
    workload = facts.get("workload") or {}
    features = workload.get("session_features") or []
    if features:
        out += ["", "Session features the workload uses"]
        for f in features:
            out.append(
                f"  {plain(f['feature'])}: {f['calls']} call(s), roles "
                f"{plain(', '.join(f['roles']) or 'not recorded')}"
                f", e.g. {plain(f['example'])}"
            )
            out.append(f"    rewrite: {plain(f['rewrite'])}")
    return out


def markdown_lines(facts: dict[str, Any]) -> list[str]:
    ledger = facts.get("ledger")
    out: list[str] = []
    if ledger:
        out += ["**Connection ledger**", "", "| " + " | ".join(HEAD) + " |"]
        out.append("|---|---|---|---|---|---:|---:|---:|")
        out += ["| " + " | ".join(md(c, 60) for c in r) + " |" for r in _rows(ledger)]
        out += ["", md(_safe_line(ledger)), ""]
    workload = facts.get("workload") or {}
    features = workload.get("session_features") or []
    if features:
        out += ["**Session features the workload uses**", ""]
        out += ["| feature | calls | roles | example | rewrite |", "|---|---:|---|---|---|"]
        out += [
            f"| {md(f['feature'])} | {f['calls']} | {md(', '.join(f['roles']) or 'not recorded')} | "
            f"{md(f['example'])} | {md(f['rewrite'])} |"
            for f in features
        ]
        out.append("")
    return out


def ledger_chart(ledger: dict[str, Any], esc: Any) -> list[str]:
    """The readiness page's bar chart of the ledger (Markdown: one bar per group, scaled
    to max_connections). `esc` makes report strings safe for the page (site.esc)."""
    maxc = ledger.get("max_connections")
    groups = [g for g in ledger.get("groups") or [] if isinstance(g, dict)]
    if not isinstance(maxc, int) or maxc <= 0 or not groups:
        return []
    out = ["## Who holds the connection slots", ""]
    out += ["| Group | Connections | Share of max_connections |", "|---|---:|---|"]
    for g in groups:
        n = g.get("connections")
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            continue
        name = (
            f"{esc(g.get('application_name') or '(no application_name)', 60)} · "
            f"{esc(g.get('role') or '?', 60)} · {esc(g.get('state') or 'unknown', 40)}"
        )
        share = 100.0 * n / maxc
        bar = "█" * max(1, round(share / 2.5)) if n else ""
        out.append(f"| {name} | {n} | `{bar}` {share:.1f} % |")
    safe = ledger.get("safe_connections")
    if isinstance(safe, int) and not isinstance(safe, bool):
        out += ["", f"Safe concurrency: {safe} more connection(s) before logins are refused."]
    out.append("")
    return out
