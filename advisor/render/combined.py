"""The combined report (`advisor report`): text, JSON, Markdown and JUnit of the object
that advisor.combine.combine() builds. Every value in it came from a report file: each one
goes through render/safe.py, like the server strings in the single-report renderers."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any

from ..status import Status, icon, needs_attention
from .safe import markdown as md
from .safe import plain, slug


def _pooler(t: dict[str, Any]) -> str:
    return (t["pooler"] or "none") + (f" ({t['pool_mode']})" if t["pool_mode"] else "")


def _num(v: object) -> str:
    """A count from a report: validated as an integer, shown as one either way."""
    return "—" if v is None else plain(v, 30)


# Link targets that Markdown and a table cell take literally: no spaces, brackets,
# parentheses, pipes, quotes, backslashes or angle brackets.
_DOCS_URL = re.compile(r"https?://[A-Za-z0-9._~:/?#@!$&*+,;=%-]{1,300}")


def _link(f: dict[str, Any]) -> str:
    """A Markdown link to the check page, only for well-formed ids and URLs."""
    if re.fullmatch(r"[A-Z]{2,3}[0-9]{3}", f["id"]) and _DOCS_URL.fullmatch(f["docs_url"]):
        return f"[{f['id']}]({f['docs_url']})"
    return md(f["id"], 40)


def _change_words(item: dict[str, Any]) -> str:
    if item["id"] == "headroom":
        return f"available connections {item['from']} → {item['to']}"
    if item["from"] is None:
        return f"{item['id']} new {item['to']}"
    return f"{item['id']} {item['from']} → {item['to'] or 'not reported'}"


def render_text(c: dict[str, Any]) -> str:
    s = c["summary"]
    lines = [
        f"{s['status'].upper()}: {s['targets']} target(s): {s['pass']} pass, {s['warn']} warn, "
        f"{s['fail']} fail, {s['error']} error",
        "",
    ]
    for t in c["targets"]:
        lines.append(
            f"{plain(t['status'], 5).upper():5} {plain(t['key'], 60)}  max_connections "
            f"{_num(t['max_connections'])}, available {_num(t['available_connections'])}, "
            f"pooler {plain(_pooler(t), 60)}, TLS {plain(t['tls'] or 'none', 40)}"
        )
        for f in t["findings"]:
            if needs_attention(f["status"]):
                lines.append(
                    f"      {f['status']:5} {plain(f['id'], 40)} {plain(f['message'], 200)}"
                )
        ch = t.get("change")
        if ch and ch["baseline"]:
            for word, items in (("worse", ch["worse"]), ("fixed", ch["better"])):
                if items:
                    lines.append(
                        f"      {word}: " + "; ".join(plain(_change_words(i)) for i in items)
                    )
        elif ch:
            lines.append("      new: not in the baseline")
    if c["baseline"] and c["baseline"]["missing_now"]:
        lines.append("")
        lines.append(
            "not in this run: " + ", ".join(plain(k, 60) for k in c["baseline"]["missing_now"])
        )
    return "\n".join(lines) + "\n"


def render_markdown(c: dict[str, Any]) -> str:
    s = c["summary"]
    out = [
        f"### {Status(s['status']).icon} Pooling readiness: {s['status'].upper()} "
        f"({s['targets']} environment{'s' if s['targets'] != 1 else ''})",
        "",
        "| Environment | Verdict | max_connections | Available | Pooler | TLS | Failing / warnings |",
        "|---|---|---:|---:|---|---|---|",
    ]
    for t in c["targets"]:
        n = t["counts"]
        out.append(
            f"| {md(t['key'], 80)} | {Status(t['status']).icon} {md(t['status'], 5)} "
            f"| {_num(t['max_connections'])} | {_num(t['available_connections'])} "
            f"| {md(_pooler(t), 80)} | {md(t['tls'] or 'none', 40)} "
            f"| {n['fail'] + n['error']} / {n['warn']} |"
        )
    out.append("")
    if c["baseline"] is not None:
        out += ["#### Since the baseline", ""]
        for t in c["targets"]:
            ch = t["change"]
            if not ch["baseline"]:
                out.append(f"- **{md(t['key'], 80)}**: new, not in the baseline")
                continue
            parts = [
                f"{Status.FAIL.icon} worse: " + ", ".join(md(_change_words(i)) for i in ch["worse"])
                if ch["worse"]
                else "",
                f"{Status.PASS.icon} fixed: "
                + ", ".join(md(_change_words(i)) for i in ch["better"])
                if ch["better"]
                else "",
            ]
            text = "; ".join(p for p in parts if p) or "no change"
            out.append(
                f"- **{md(t['key'], 80)}** ({md(ch['status'][0], 5)} → "
                f"{md(ch['status'][1], 5)}): {text}"
            )
        for k in c["baseline"]["missing_now"]:
            out.append(f"- **{md(k, 80)}**: in the baseline, not in this run")
        out.append("")
    for t in c["targets"]:
        bad = [f for f in t["findings"] if needs_attention(f["status"])]
        if not bad:
            continue
        out += [
            f"<details><summary>{md(t['key'], 80)}: {len(bad)} to look at</summary>",
            "",
            "| | Check | Result |",
            "|---|---|---|",
        ]
        out += [
            f"| {icon(f['status'])} | {_link(f)} {md(f['title'])} | {md(f['message'])} |"
            for f in bad
        ]
        out += ["", "</details>", ""]
    out += [f"{c['tool']['name']} {c['tool']['version']} · {c['generated_at']}", ""]
    return "\n".join(out)


def render_junit(c: dict[str, Any]) -> str:
    """One testsuite per target, one testcase per finding (and one for the baseline)."""
    suites = ET.Element("testsuites", {"name": "pooling-advisor"})
    for t in c["targets"]:
        n = t["counts"]
        suite = ET.SubElement(
            suites,
            "testsuite",
            {
                "name": plain(t["key"], 200),
                "tests": str(len(t["findings"])),
                "failures": str(n["fail"]),
                "errors": str(n["error"]),
                "skipped": str(n["skip"]),
                "timestamp": plain(t["generated_at"], 30),
            },
        )
        for f in t["findings"]:
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": f"advisor.{slug(t['key']) or 'target'}",
                    "name": f"{plain(f['id'], 40)} {plain(f['title'])}",
                },
            )
            message = plain(f["message"], 1000)
            if f["status"] == Status.FAIL:
                ET.SubElement(
                    case, "failure", {"message": message, "type": plain(f["severity"], 20)}
                ).text = plain(f["docs_url"])
            elif f["status"] == Status.ERROR:
                ET.SubElement(case, "error", {"message": message}).text = plain(f["docs_url"])
            elif f["status"] == Status.SKIP:
                ET.SubElement(case, "skipped", {"message": message})
            else:
                prefix = "WARNING: " if f["status"] == Status.WARN else ""
                ET.SubElement(case, "system-out").text = prefix + message
        ch = t.get("change")
        if ch and ch["baseline"]:
            suite.set("tests", str(len(t["findings"]) + 1))
            case = ET.SubElement(
                suite,
                "testcase",
                {
                    "classname": f"advisor.{slug(t['key']) or 'target'}",
                    "name": "no regression since the baseline",
                },
            )
            if ch["worse"]:
                suite.set("failures", str(n["fail"] + 1))
                ET.SubElement(
                    case,
                    "failure",
                    {
                        "message": plain("; ".join(_change_words(i) for i in ch["worse"]), 1000),
                        "type": "regression",
                    },
                )
    for attr in ("tests", "failures", "errors", "skipped"):
        suites.set(attr, str(sum(int(s.attrib[attr]) for s in suites)))
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def render(c: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(c, indent=2) + "\n"
    return {"text": render_text, "markdown": render_markdown, "junit": render_junit}[fmt](c)
