"""The docs site's readiness pages: readiness.md (the fleet) and readiness/<slug>.md (one
page per environment), in Markdown for MkDocs.

They render the object advisor.combine.combine() builds, the one `advisor report --format
markdown` renders: the same targets, verdicts, findings and changes since the baseline.
What that object does not carry (server version, connections in use, the sslmode asked
for, the pooler the catalog expects, a probe error, the tool's name) is read from the
report file a target row names in its `file`.

Strings from report files came from database servers: `esc()` turns them into inert text
(HTML-escaped, Markdown and Jinja syntax neutralised) before they reach Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Container
from pathlib import Path
from typing import Any

from ..status import ORDER, Status, rank, worst
from .safe import slug

_INERT = {c: f"&#{ord(c)};" for c in "&<>\"'`*_{}[]()#+!|~\\^=$%:"}


def esc(value: object, limit: int = 400) -> str:
    """Untrusted text -> inert Markdown: every markup character becomes an HTML entity."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", "" if value is None else str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(_INERT.get(c, c) for c in text)


def _status(value: object) -> str:
    status = Status.of(value)
    return status.site_label if status else esc(value)


def _num(value: object) -> str:
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def _object(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one: a report file may hold anything."""
    return value if isinstance(value, dict) else {}


def _summary(t: dict[str, Any], d: dict[str, Any]) -> dict[str, Any]:
    """Readable cells for one target row `t` and its report `d` (all escaped)."""
    facts = _object(d.get("facts"))
    url = _object(facts.get("url"))
    endpoint = _object(url.get("endpoint"))
    maxc, free = t["max_connections"], t["available_connections"]
    if isinstance(maxc, int):
        usable = maxc - (t["reserved_connections"] or 0)
        headroom = f"{_num(free)} of {usable} usable free" + (
            f" ({round(100 * free / usable)} %)" if isinstance(free, int) and usable > 0 else ""
        )
    else:
        headroom = "not probed" if t["kind"] == "lint" else "unknown"
    pooler = facts.get("pooler") if isinstance(facts.get("pooler"), dict) else None
    if pooler is not None:
        kind = esc(pooler.get("kind")) if pooler.get("detected") else "none detected"
        mode = pooler.get("pool_mode")
    else:
        kind = esc(endpoint.get("pooler") or ("none" if endpoint else "unknown"))
        kind += " (from the catalog)" if endpoint else ""
        mode = endpoint.get("pool_mode")
    tls = facts.get("tls") if isinstance(facts.get("tls"), dict) else None
    client = _object((tls or {}).get("client"))
    if tls is not None:
        tls_text = esc(client.get("version") or "in use") if client.get("in_use") else "not in use"
        if client.get("sslmode"):
            tls_text += f", sslmode={esc(client['sslmode'])}"
    else:
        tls_text = f"sslmode={esc(url['sslmode'])}" if url.get("sslmode") else "sslmode not set"
    tool = _object(d.get("tool"))
    return {
        "max": _num(maxc),
        "free": _num(free),
        "headroom": headroom,
        "pooler": kind + (f", {esc(mode)} mode" if mode else ""),
        "tls": tls_text,
        "at": esc(t["generated_at"]),
        "version": esc(t["tool_version"]),
        "by": f"{esc(tool.get('name'))} {esc(t['tool_version'])}",
    }


# -- pictures and verdicts ---------------------------------------------------------


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pool_size(facts: dict[str, Any]) -> int | None:
    """The pooler's server connections for this database, when its console said so."""
    admin = _object(_object(facts.get("pooler")).get("admin"))
    found = [_int(_object(db).get("pool_size")) for db in admin.get("databases") or []]
    sizes = [n for n in found if n]
    if sizes:
        return max(sizes)
    return _int(_object(admin.get("settings")).get("default_pool_size"))


def slots_picture(t: dict[str, Any], d: dict[str, Any]) -> list[str]:
    """The server's connection slots as a bar (reserved / in use / free), and the pooler's
    pool against the same scale: HTML the site's stylesheet draws (no script, no image)."""
    facts = _object(d.get("facts"))
    maxc = _int(t["max_connections"])
    if not maxc:
        return []
    reserved = _int(t["reserved_connections"]) or 0
    free = _int(t["available_connections"])
    used = _int(facts.get("connections_in_use"))
    if used is None:
        used = max(0, maxc - reserved - (free or 0))
    if free is None:
        free = max(0, maxc - reserved - used)
    parts = [("reserved", reserved), ("used", used), ("free", free)]
    words = {"reserved": "reserved", "used": "in use", "free": "free"}
    label = f"max_connections {maxc}: " + ", ".join(f"{n} {words[k]}" for k, n in parts)
    bar = "".join(
        f'<span class="advisor-slots__{k}" style="flex-grow: {n}"></span>' for k, n in parts if n
    )
    out = [
        f'<div class="advisor-slots" role="img" aria-label="{label}">{bar}</div>',
    ]
    pool = _pool_size(facts)
    legend = f"**max_connections {maxc}** · " + " · ".join(
        f'<span class="advisor-key advisor-key--{k}"></span> {n} {words[k]}' for k, n in parts
    )
    if pool:
        shown = min(pool, maxc)
        out.append(
            f'<div class="advisor-slots advisor-slots--pool" role="img" '
            f'aria-label="the pooler may open {pool} server connections">'
            f'<span class="advisor-slots__pool" style="flex-grow: {shown}"></span>'
            f'<span style="flex-grow: {maxc - shown}"></span></div>'
        )
        legend += f' · <span class="advisor-key advisor-key--pool"></span> pooler pool {pool}'
        if pool > free:
            legend += f" (more than the {free} free: the pool can exhaust the server)"
    return out + ["", legend, ""]


def verdict_box(status: object, text: str) -> list[str]:
    """The verdict first, in the status's colour (a Material admonition)."""
    found = Status.of(status)
    kind = found.site_admonition if found else "note"
    return [f'!!! {kind} "{_status(status).replace("**", "")}"', f"    {text}", ""]


def sorted_findings(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Errors and failures first, then warnings, then the rest: what needs a fix on top."""
    return sorted(findings, key=lambda f: -rank(f.get("status")))


def _attention(f: dict[str, Any]) -> bool:
    status = Status.of(f.get("status"))
    return bool(status and status.needs_attention)


def _fix(fid: object, checks: Any, up: str) -> str:
    """The check's remediation, first sentence, with a link to its page."""
    entry = checks.get(str(fid)) if isinstance(checks, dict) else None
    if not entry or not entry.get("remediation"):
        return ""
    first = re.split(r"(?<=[.!?])\s", " ".join(entry["remediation"].split()), maxsplit=1)[0]
    # The catalog's own Markdown (trusted text, unlike the report's strings): kept as is.
    return f" — **fix:** {first} ([{esc(fid)}]({up}checks/{fid}.md))"


def environments(c: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(slug, target row) with a unique URL-safe slug per environment (from its key)."""
    out: list[tuple[str, dict[str, Any]]] = []
    seen: set[str] = set()
    for i, t in enumerate(c["targets"], 1):
        base = slug(t["key"]) or f"env-{i}"
        name, n = base, 2
        while name in seen:
            name, n = f"{base}-{n}", n + 1
        seen.add(name)
        out.append((name, t))
    return out


def _check_link(fid: object, checks: Container[str], up: str) -> str:
    fid = str(fid or "")
    return f"[{fid}]({up}checks/{fid}.md)" if fid in checks else esc(fid)


def _change_cell(change: dict[str, Any] | None) -> str:
    if change is None:
        return "—"
    if not change["baseline"]:
        return "new"
    worse, better = len(change["worse"]), len(change["better"])
    if not worse and not better:
        return "no change"
    return ", ".join(
        p for p in (f"**{worse} worse**" if worse else "", f"{better} fixed" if better else "") if p
    )


def _change_item(item: dict[str, Any], checks: Container[str]) -> str:
    if item["id"] == "headroom":
        return f"- available connections {_num(item['from'])} → {_num(item['to'])}"
    return (
        f"- {_check_link(item['id'], checks, '../')} {esc(item['title'])}: "
        f"{esc(item['from'] or 'not reported')} → {esc(item['to'] or 'not reported')}"
        + (f": {esc(item['message'])}" if item["to"] else "")
    )


def _name(t: dict[str, Any]) -> str:
    return t["label"] or t["host"] or Path(t["file"]).stem


def readiness_pages(
    c: dict[str, Any],
    reports: dict[str, dict[str, Any]],
    folder: Path,
    skipped: list[tuple[str, str]],
    checks: Container[str],
    providers: Container[str],
) -> dict[str, str]:
    """readiness.md and readiness/<slug>.md for the combined object `c`.

    reports: the report each target row's `file` names; skipped: (file name, reason) for
    files left out; checks, providers: the catalog ids pages exist for (to link them)."""
    envs = environments(c)
    pages = {"readiness.md": _fleet_page(c, envs, reports, folder, skipped, checks)}
    for slug_, t in envs:
        pages[f"readiness/{slug_}.md"] = _environment_page(
            slug_, t, reports[t["file"]], checks, providers
        )
    return pages


def _fleet_page(
    c: dict[str, Any],
    envs: list[tuple[str, dict[str, Any]]],
    reports: dict[str, dict[str, Any]],
    folder: Path,
    skipped: list[tuple[str, str]],
    checks: Container[str],
) -> str:
    base = c["baseline"]
    out = [
        "# Readiness",
        "",
        "One row per environment: the report JSON files found in the reports folder when the "
        "site was built (`extra.reports_dir` in `mkdocs.yml`, or `ADVISOR_REPORTS_DIR`). "
        "Each environment has a page with every finding; see [CI and fleets](ci.md) for "
        "producing the reports in a pipeline. Write one with:",
        "",
        "```bash\nadvisor probe --label production --format json --output reports/\n```",
        "",
    ]
    if envs:
        counts = {st: sum(1 for _, t in envs if t["status"] == st) for st in ORDER}
        told = ", ".join(f"{n} {st}" for st, n in counts.items() if n)
        verdict = worst(str(t["status"]) for _, t in envs if Status.of(t["status"]))
        out += verdict_box(verdict, f"{len(envs)} environment(s): {told}.")
    if not envs:
        out += [
            '!!! info "No reports yet"',
            f"    No readable report was found in `{folder.name}/` when this site was built. "
            "Run the command above (or `make demo`), then rebuild the site.",
            "",
        ]
    else:
        head = "| Environment | Verdict | Slots | Free | Pooler |"
        rule = "|---|---|---:|---:|---|"
        if base is not None:
            head, rule = head + " Since the previous run |", rule + "---|"
        out += [head, rule]
        for slug_, t in envs:
            s = _summary(t, reports[t["file"]])
            name = esc(t["host"] or t["url"] or Path(t["file"]).stem, 80)
            if t["label"]:
                name = f"{esc(t['label'], 80)} ({name})"
            row = (
                f"| [{name}](readiness/{slug_}.md) | {_status(t['status'])} "
                f"| {s['max']} | {s['free']} | {s['pooler']} |"
            )
            if base is not None:
                row += f" {_change_cell(t['change'])} |"
            out.append(row)
        out.append("")
        if base is not None:
            gone = base["missing_now"]
            out += [
                f"Compared with {base['reports']} report(s) from the previous run."
                + (
                    " Not in this run: " + ", ".join(esc(k, 80) for k in gone) + "." if gone else ""
                ),
                "",
            ]
        for slug_, t in envs:
            out += _fleet_section(slug_, t, reports[t["file"]], checks)
    if skipped:
        out += ["## Skipped files", ""]
        out += [f"- `{name.replace('`', '')}` skipped: {esc(why)}" for name, why in skipped]
        out += [""]
    return "\n".join(out)


def _mark(value: object) -> str:
    status = Status.of(value)
    return status.site_mark if status else "?"


def _fleet_section(
    slug_: str, t: dict[str, Any], d: dict[str, Any], checks: Container[str]
) -> list[str]:
    """One environment on the fleet page: its slots and what needs a fix (the table above
    already gave the numbers and the pooler)."""
    s = _summary(t, d)
    ordered = sorted_findings(t["findings"])
    todo = [f for f in ordered if _attention(f)]
    fine = " · ".join(
        f"{_mark(f['status'])} {_check_link(f['id'], checks, '')}" for f in ordered if f not in todo
    )
    file_name = Path(t["file"]).name.replace("`", "")
    out = [
        f"## {esc(_name(t), 80)} {{#env-{slug_}}}",
        "",
        *slots_picture(t, d),
    ]
    out += [
        f"- {_mark(f['status'])} {_check_link(f['id'], checks, '')} {esc(f['title'])}"
        f"{_fix(f['id'], checks, '')}"
        for f in todo
    ]
    if fine:
        out.append(f"- {fine}")
    out += [
        "",
        f"[All findings and details](readiness/{slug_}.md) · generated {s['at']} by "
        f"{s['by']} (`{file_name}`)",
        "",
    ]
    return out


def _environment_page(
    slug_: str,
    t: dict[str, Any],
    d: dict[str, Any],
    checks: Container[str],
    providers: Container[str],
) -> str:
    s, n = _summary(t, d), t["counts"]
    facts = d["facts"]
    provider = (
        f", provider [{esc(t['provider'])}](../providers/{t['provider']}.md)"
        if t["provider"] in providers
        else ""
    )
    probe_error = (
        (facts.get("probe") or {}).get("error") if isinstance(facts.get("probe"), dict) else None
    )
    file_name = Path(t["file"]).name.replace("`", "")
    out = [
        "---",
        f'title: "Readiness: {slug_}"',
        "---",
        "",
        f"# {esc(_name(t), 80)}",
        "",
        *verdict_box(
            t["status"],
            f"{_num(n['fail'])} failing, {_num(n['error'])} errors, {_num(n['warn'])} warnings, "
            f"{_num(n['pass'])} passed · [all environments](../readiness.md)",
        ),
        *slots_picture(t, d),
        "| What | Value |",
        "|---|---|",
        f"| Target | {esc(t['url'])} ({esc(t['engine'])}{provider}) |",
        f"| Server version | {esc(facts.get('server_version') or '—')} |",
        f"| max_connections | {s['max']} |",
        f"| Reserved | {_num(t['reserved_connections'])} |",
        f"| In use | {_num(facts.get('connections_in_use'))} |",
        f"| Available | {s['headroom']} |",
        f"| Pooler | {s['pooler']} |",
        f"| TLS | {s['tls']} |",
        f"| Generated | {s['at']} by {s['by']} ({esc(t['kind'])}, `{file_name}`) |",
    ]
    if probe_error:
        out.append(f"| Probe error | {esc(probe_error)} |")
    out.append("")
    change = t.get("change")
    if change is not None:
        out += ["## Since the previous run", ""]
        if not change["baseline"]:
            out += ["Not in the previous run: this environment is new.", ""]
        else:
            old, new = change["status"]
            out += [f"Verdict {_status(old)} → {_status(new)}.", ""]
            if change["worse"]:
                out += (
                    ["**Got worse:**", ""]
                    + [_change_item(i, checks) for i in change["worse"]]
                    + [""]
                )
            if change["better"]:
                out += (
                    ["**Fixed or better:**", ""]
                    + [_change_item(i, checks) for i in change["better"]]
                    + [""]
                )
            if not change["worse"] and not change["better"]:
                out += ["No change in the findings or the free connections.", ""]
    if isinstance(t.get("ledger"), dict):  # an audit report (advisor audit)
        from .audit import ledger_chart

        out += ledger_chart(t["ledger"], esc)
    out += ["## Findings", ""]
    if not t["findings"]:
        return "\n".join(out + ["No findings in this report.", ""])
    ordered = sorted_findings(t["findings"])
    passed = [f for f in ordered if not _attention(f)]
    for f in ordered:
        if f in passed:
            continue
        out += [
            f"- {_status(f['status'])} {_check_link(f['id'], checks, '../')} "
            f"**{esc(f['title'])}** ({esc(f['severity'])}): {esc(f['message'])}"
            f"{_fix(f['id'], checks, '../')}",
        ]
    if passed:
        out += ["", f'??? success "{len(passed)} passed"', ""]
        out += [
            f"    - {_status(f['status'])} {_check_link(f['id'], checks, '../')} "
            f"{esc(f['title'])}: {esc(f['message'])}"
            for f in passed
        ]
    out.append("")
    return "\n".join(out)
