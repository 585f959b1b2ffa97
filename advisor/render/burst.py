"""Text, JSON and Markdown for an `advisor burst` result (a plain dict)."""

from __future__ import annotations

import json
from typing import Any

from .safe import markdown as md
from .safe import plain

LABELS = {
    "too_many_clients": "too many clients",
    "reserved_slots": "reserved slots",
    "timeout": "timeout",
    "auth": "authentication",
    "other": "other",
}


def _rows(d: dict[str, Any]) -> list[tuple[str, list[str]]]:
    legs = d["legs"]
    rows = [
        ("target", [plain(leg["target"], 80) for leg in legs]),
        ("succeeded", [f"{leg['succeeded']} / {leg['clients']}" for leg in legs]),
        ("failed", [str(leg["failed"]) for leg in legs]),
    ]
    for key, label in LABELS.items():
        if any(key in leg["errors"] for leg in legs):
            rows.append(
                (f"  {label}", [str(leg["errors"].get(key, {}).get("count", 0)) for leg in legs])
            )
    for p in ("p50", "p95", "p99"):
        rows.append((f"connect {p} (ms)", [_ms(leg["connect_ms"][p]) for leg in legs]))
    rows.append(("wall time (ms)", [_ms(leg["wall_ms"]) for leg in legs]))
    return rows


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _intro(d: dict[str, Any]) -> tuple[str, str]:
    s = d["server_slots"]
    return (
        f"Burst: {d['clients']} clients at once; each connects, runs SELECT 1, holds "
        f"{d['hold_ms']} ms and closes (timeout {d['timeout_s']:g} s).",
        f"Server before the burst: max_connections {s['max_connections']}, reserved "
        f"{s['reserved']}, in use {s['in_use']}: {s['free']} free slots.",
    )


def _words(d: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    return [
        (leg["name"], LABELS.get(key, key), words, n)
        for leg in d["legs"]
        for key, e in leg["errors"].items()
        for words, n in e["messages"].items()
    ]


def render_text(d: dict[str, Any]) -> str:
    rows = _rows(d)
    names = [leg["name"] for leg in d["legs"]]
    width = max(len(r[0]) for r in rows) + 2
    cols = [max(len(n), *(len(r[1][i]) for r in rows)) + 2 for i, n in enumerate(names)]
    out = [
        *_intro(d),
        "",
        " " * width + "".join(n.ljust(c) for n, c in zip(names, cols, strict=False)),
    ]
    out += [
        label.ljust(width) + "".join(v.ljust(c) for v, c in zip(values, cols, strict=False))
        for label, values in rows
    ]
    words = _words(d)
    if words:
        out += ["", "What the server said:"]
        out += [f"  {leg}, {label} x{n}: {plain(w, 200)}" for leg, label, w, n in words]
    return "\n".join(line.rstrip() for line in out) + "\n"


def render_markdown(d: dict[str, Any]) -> str:
    intro = _intro(d)
    out = [
        f"### Connection burst: {d['clients']} clients",
        "",
        md(intro[0]),
        "",
        md(intro[1]),
        "",
        "| | " + " | ".join(md(leg["name"]) for leg in d["legs"]) + " |",
        "|---|" + "---:|" * len(d["legs"]),
    ]
    for label, values in _rows(d):
        cells = [f"`{v.replace('`', '')}`" if label == "target" else md(v) for v in values]
        out.append(f"| {md(label.strip())} | " + " | ".join(cells) + " |")
    words = _words(d)
    if words:
        out += ["", "| Leg | Error | Count | Server's words |", "|---|---|---:|---|"]
        out += [f"| {md(leg)} | {md(label)} | {n} | {md(w)} |" for leg, label, w, n in words]
    out += ["", f"{d['tool']['name']} {d['tool']['version']} · {d['generated_at']}", ""]
    return "\n".join(out)


def render_burst(d: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(d, indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(d)
    return render_text(d)
