"""Terminal text: a checklist with the numbers. Colour only when asked (TTY, no NO_COLOR)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..status import Status
from .safe import plain

if TYPE_CHECKING:
    from ..report import Report


def _paint(text: str, status: str, color: bool) -> str:
    return f"\x1b[{Status(status).color}m{text}\x1b[0m" if color else text


def render_text(report: Report, color: bool = False) -> str:
    d = report.to_dict()
    t = d["target"]
    facts = d["facts"]
    kind = {"probe": "Probe", "audit": "Audit"}.get(d["kind"], "Lint")
    lines = [f"{kind} of {plain(t['url'])}"]
    if d.get("label"):
        lines[0] += f"  [{plain(d['label'])}]"
    endpoint = (facts.get("url") or {}).get("endpoint") or {}
    if endpoint.get("provider_name"):
        where = endpoint["provider_name"]
        if endpoint.get("label"):
            where += f": {endpoint['label']}"
        lines.append(f"  provider  {plain(where)}")
    if facts.get("max_connections") is not None:
        lines.append(
            f"  server    PostgreSQL {plain(facts['server_version'])}"
            if t["engine"] == "postgresql"
            else f"  server    {plain(facts.get('server_version'))}"
        )
        lines.append(
            f"  slots     max_connections {plain(facts['max_connections'], 30)}, reserved "
            f"{plain(facts['reserved_connections'], 30)}, in use "
            f"{plain(facts['connections_in_use'], 30)}, "
            f"available {plain(facts['available_connections'], 30)}"
        )
        pooler = facts.get("pooler") or {}
        if pooler.get("detected"):
            mode = f" ({plain(pooler['pool_mode'])} mode)" if pooler.get("pool_mode") else ""
            lines.append(f"  pooler    {plain(pooler.get('kind'))}{mode}")
            for why in pooler.get("identified_by") or []:
                lines.append(f"            identified by: {plain(why)}")
            for c in pooler.get("candidates") or []:
                lines.append(
                    f"            could be: {plain(c.get('kind'))} ({plain(c.get('why'))})"
                )
        else:
            lines.append("  pooler    none detected")
        tls = facts.get("tls") or {}
        client = tls.get("client") or {}
        if client:
            lines.append(
                "  tls       "
                + (
                    f"{plain(client.get('version'))}, "
                    f"{'verified' if client.get('verified') else 'not verified'}"
                    if client.get("in_use")
                    else "not in use"
                )
            )
    if d["kind"] == "audit":
        from .audit import text_lines

        lines += text_lines(facts)
    lines.append("")
    for f in d["findings"]:
        mark = _paint(Status(f["status"]).mark, f["status"], color)
        lines.append(f"{mark} {plain(f['id'], 40)} {plain(f['title'])}: {plain(f['message'])}")
        if Status(f["status"]).needs_attention:
            lines.append(f"    fix: {f['docs_url']}")
    s = d["summary"]
    lines.append("")
    lines.append(
        _paint(f"{s['status'].upper()}", s["status"], color)
        + f": {s['pass']} passed, {s['warn']} warnings, {s['fail']} failed, "
        f"{s['error']} errors, {s['skip']} skipped"
    )
    return "\n".join(lines) + "\n"
