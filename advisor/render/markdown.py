"""Markdown for a PR comment or $GITHUB_STEP_SUMMARY. Server strings are escaped."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..status import Status
from .safe import markdown as md
from .safe import plain

if TYPE_CHECKING:
    from ..report import Report


def render_markdown(report: Report) -> str:
    d = report.to_dict()
    t, facts, s = d["target"], d["facts"], d["summary"]
    title = f"{Status(s['status']).icon} Pooling readiness: {s['status'].upper()}"
    out = [
        f"### {title}",
        "",
        f"`{plain(t['url']).replace('`', '')}`"
        + (f" ({md(d['label'])})" if d.get("label") else ""),
        "",
    ]
    if facts.get("max_connections") is not None:
        pooler = facts.get("pooler") or {}
        client = (facts.get("tls") or {}).get("client") or {}
        out += [
            "| max_connections | reserved | in use | available | pooler | TLS |",
            "|---:|---:|---:|---:|---|---|",
            f"| {md(facts['max_connections'], 30)} | {md(facts['reserved_connections'], 30)} | "
            f"{md(facts['connections_in_use'], 30)} | {md(facts['available_connections'], 30)} | "
            f"{md(pooler.get('kind') or 'none') if pooler.get('detected') else 'none'}"
            f"{' (' + md(pooler['pool_mode']) + ')' if pooler.get('pool_mode') else ''} | "
            f"{md(client.get('version') or 'none') if client.get('in_use') else 'none'} |",
            "",
        ]
        if pooler.get("detected") and pooler.get("identified_by"):
            out += [
                f"Pooler identified by: {'; '.join(md(e) for e in pooler['identified_by'])}",
                "",
            ]
        if pooler.get("detected") and pooler.get("candidates"):
            names = ", ".join(md(c.get("kind")) for c in pooler["candidates"])
            out += [f"Pooler could be: {names} ({md(pooler['candidates'][0].get('why'))})", ""]
    if d["kind"] == "audit":
        from .audit import markdown_lines

        out += markdown_lines(facts)
    out += ["| | Check | Result |", "|---|---|---|"]
    for f in d["findings"]:
        out.append(
            f"| {Status(f['status']).icon} | [{f['id']}]({f['docs_url']}) {md(f['title'])} | "
            f"{md(f['message'])} |"
        )
    out += [
        "",
        f"{s['pass']} passed, {s['warn']} warnings, {s['fail']} failed, "
        f"{s['error']} errors, {s['skip']} skipped · {d['tool']['name']} "
        f"{d['tool']['version']} · {d['generated_at']}",
        "",
    ]
    return "\n".join(out)
