"""`advisor report`: read report JSON files, combine them, compare with a baseline run.

The combined object (`--format json`, documented on the site's CI page) is built by
`combine()`; render/combined.py renders it for the terminal, Markdown and JUnit, and
render/site.py builds the site's readiness pages from the same object. A report file is
input like any other: it is validated against the published schema before anything reads
it, and every value from it goes through render/safe.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Never, cast

from . import __version__
from .errors import EXIT_FINDINGS, EXIT_OK, EXIT_PROBE, UsageError
from .render.safe import slug
from .status import ORDER, Status, rank, worst

COMBINED_VERSION = 1
SCHEMA_FILE = Path(__file__).parent / "schema" / "report-v1.json"


# --------------------------------------------------------------------------- reading


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "integer": "a whole number",
    "number": "a number",
}
# The keywords validate() checks, and those that only describe. Any other keyword in the
# schema file is an error, so the schema cannot grow a rule this code silently skips.
_CHECKS = {
    "type",
    "const",
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "$ref",
}
_ANNOTATIONS = {"$schema", "$id", "$defs", "title", "description", "format"}


def _is(value: object, name: str) -> bool:
    if name in ("integer", "number"):  # bool is an int in Python, never in JSON
        kinds = int if name == "integer" else (int, float)
        return isinstance(value, kinds) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def validate(value: Any, schema: dict[str, Any], where: str = "the report") -> None:
    """The subset of JSON Schema 2020-12 that report-v1.json uses; ValueError names the
    failing field and what it should be, never the value (a report may hold anything)."""
    if "$ref" in schema:  # only local references: "#/$defs/name"
        target = _schema()
        for part in schema["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        validate(value, target, where)
    unknown = schema.keys() - _CHECKS - _ANNOTATIONS
    if unknown:
        raise RuntimeError(f"report schema keyword(s) {', '.join(sorted(unknown))} not supported")
    types = schema.get("type")
    if types is not None:
        names = [types] if isinstance(types, str) else types
        if not any(_is(value, n) for n in names):
            raise ValueError(f"{where} must be {' or '.join(_WORDS[n] for n in names)}")
    if "const" in schema and not _same(value, schema["const"]):
        raise ValueError(f"{where} must be {json.dumps(schema['const'])}")
    if "enum" in schema and not any(_same(value, v) for v in schema["enum"]):
        raise ValueError(
            f"{where} must be one of {', '.join(json.dumps(v) for v in schema['enum'])}"
        )
    if (
        isinstance(value, str)
        and "pattern" in schema
        and not re.search(schema["pattern"], value, re.ASCII)
    ):
        raise ValueError(f"{where} does not have the expected form")
    if _is(value, "number"):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            raise ValueError(
                f"{where} must be between {schema.get('minimum', '-∞')} and "
                f"{schema.get('maximum', '∞')}"
            )
    if isinstance(value, dict):
        missing = [k for k in schema.get("required", ()) if k not in value]
        if missing:
            raise ValueError(f"{where} misses {', '.join(missing)}")
        named = schema.get("properties", {})
        for key, sub in named.items():
            if key in value:
                validate(value[key], sub, key if where == "the report" else f"{where}.{key}")
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):  # a schema for every key `properties` does not name
            for key in value.keys() - named.keys():
                validate(value[key], extra, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], f"{where}[{i}]")


def _same(a: object, b: object) -> bool:
    """JSON equality: 1 is not true, 1 is 1.0."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def validate_report(d: object) -> None:
    """Validate against schema v1 (advisor/schema/report-v1.json); ValueError says what is
    wrong. `advisor report` reads files with this: every field it uses has its type."""
    if not isinstance(d, dict) or d.get("schema_version") != 1:
        raise ValueError("not an advisor report (schema_version 1 expected)")
    validate(d, _schema())


REQUIRED = {
    "": (
        "schema_version",
        "kind",
        "tool",
        "generated_at",
        "target",
        "facts",
        "findings",
        "summary",
    ),
    "target": ("url", "engine", "host", "port", "database", "provider"),
    "summary": ("status", *(s.value for s in ORDER)),
}
FINDING_KEYS = ("id", "title", "severity", "status", "message", "remediation", "docs_url")


def check_report(d: object) -> None:
    """The shape only (the site's readiness page shows what passes, escaped, and lists the
    rest as skipped); ValueError says what is wrong. validate_report() is the full check."""
    if not isinstance(d, dict) or d.get("schema_version") != 1:
        raise ValueError("not an advisor report (schema_version 1 expected)")
    for where, keys in REQUIRED.items():
        obj = d[where] if where else d
        if not isinstance(obj, dict):
            raise ValueError(f"{where} is not an object")
        missing = [k for k in keys if k not in obj]
        if missing:
            raise ValueError(
                f"missing {', '.join((where + '.' if where else '') + k for k in missing)}"
            )
    if not isinstance(d["findings"], list) or not all(
        isinstance(f, dict) and all(k in f for k in FINDING_KEYS) for f in d["findings"]
    ):
        raise ValueError("findings is not a list of findings")
    if Status.of(d["summary"]["status"]) is None:
        raise ValueError("summary.status is not a known status")


def read_folder(
    folder: Path | None,
) -> tuple[list[tuple[Path, dict[str, Any]]], list[tuple[str, str]]]:
    """The site's reading of a reports folder: (path, report) for each *.json that passes
    check_report(), and (file name, reason) for each one skipped. Lenient on purpose: the
    readiness page shows what it can and lists the rest, where `advisor report` refuses."""
    reports, skipped = [], []
    for path in sorted(folder.glob("*.json")) if folder and folder.is_dir() else []:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            check_report(d)
            reports.append((path, d))
        except (OSError, ValueError) as exc:
            skipped.append((path.name, str(exc)))
    return reports, skipped


def _no_constant(name: str) -> Never:
    raise ValueError(f"{name} is not a JSON number")


def _integer(text: str) -> int:
    if len(text) > 30:  # far beyond any count; int() of thousands of digits is slow
        raise ValueError("a number has too many digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError("a number is too large")
    return value


def load_report(path: Path) -> dict[str, Any]:
    """One report file: a regular file, JSON, valid against the schema; else UsageError."""
    from .sources import read_input

    data = read_input(path, "report")
    try:
        d: dict[str, Any] = json.loads(
            data.decode("utf-8-sig"),
            parse_constant=_no_constant,
            parse_int=_integer,
            parse_float=_float,
        )
        validate_report(d)
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:  # position only: the text may be anything
        raise UsageError(f"{path}: not JSON (line {exc.lineno} column {exc.colno})") from None
    except RecursionError:
        raise UsageError(f"{path}: not a report: nested too deeply") from None
    except ValueError as exc:
        raise UsageError(f"{path}: {exc}") from None
    return d


def load_reports(paths: Sequence[str | Path]) -> list[tuple[Path, dict[str, Any]]]:
    """Files, or directories (their *.json), in the order given."""
    out: list[tuple[Path, dict[str, Any]]] = []
    for p in map(Path, paths):
        files = sorted(p.glob("*.json")) if p.is_dir() else [p]
        out += [(f, load_report(f)) for f in files]
    if not out:
        raise UsageError(f"no report JSON files in {', '.join(map(str, paths))}")
    return out


# --------------------------------------------------------------------------- names


def report_name(target: Mapping[str, Any], label: str | None = None) -> str:
    """File name stem for a report: label, host and database."""
    parts = [label, target.get("host") or "socket", target.get("database")]
    return slug("-".join(str(p) for p in parts if p)) or "report"


def key(d: dict[str, Any]) -> str:
    """How a report is matched across runs: its label, else host:port/database."""
    t = d.get("target") or {}
    name = (
        str(d["label"])
        if d.get("label")
        else f"{t.get('host') or 'socket'}:{t.get('port')}/{t.get('database') or ''}"
    )
    return f"{name} (audit)" if d.get("kind") == "audit" else name  # beside its probe


def worst_exit(statuses: Iterable[str], strict: bool = False) -> int:
    code = EXIT_OK
    for s in statuses:
        if s == Status.ERROR:
            return EXIT_PROBE
        if s == Status.FAIL or (strict and s == Status.WARN):
            code = EXIT_FINDINGS
    return code


# --------------------------------------------------------------------------- comparing


def _headroom(d: dict[str, Any]) -> int | None:
    facts = d.get("facts") or {}
    return (
        facts.get("available_connections")
        if isinstance(facts.get("available_connections"), int)
        else None
    )


def diff(new: dict[str, Any], old: dict[str, Any] | None) -> dict[str, Any]:
    """What got worse and what got better since the baseline report of the same target."""
    if old is None:
        return {
            "baseline": False,
            "worse": [],
            "better": [],
            "status": [None, new["summary"]["status"]],
        }
    before = {f["id"]: f for f in old["findings"]}
    after = {f["id"]: f for f in new["findings"]}
    worse: list[dict[str, Any]] = []
    better: list[dict[str, Any]] = []
    for fid in list(after) + [i for i in before if i not in after]:
        was, now = before.get(fid), after.get(fid)
        shown = cast("dict[str, Any]", now or was)  # in one of the two at least
        r0 = rank(was["status"]) if was else None
        r1 = rank(now["status"]) if now else None
        item = {
            "id": fid,
            "title": shown["title"],
            "docs_url": shown["docs_url"],
            "from": was and was["status"],
            "to": now and now["status"],
            "message": shown["message"],
        }
        if r1 is not None and r1 > (r0 or 0):
            worse.append(item)
        elif r0 and (r1 is None or r1 < r0):
            better.append(item)
    h0, h1 = _headroom(old), _headroom(new)
    if h0 is not None and h1 is not None and h1 != h0:
        item = {
            "id": "headroom",
            "title": "available connections",
            "docs_url": None,
            "from": h0,
            "to": h1,
            "message": f"available connections {h0} → {h1}",
        }
        (worse if h1 < h0 else better).append(item)
    return {
        "baseline": True,
        "worse": worse,
        "better": better,
        "status": [old["summary"]["status"], new["summary"]["status"]],
    }


def target_row(path: Path, d: dict[str, Any]) -> dict[str, Any]:
    facts, t = d["facts"], d["target"]
    pooler = facts.get("pooler") if isinstance(facts.get("pooler"), dict) else {}
    client = (
        ((facts.get("tls") or {}).get("client") or {}) if isinstance(facts.get("tls"), dict) else {}
    )
    return {
        "key": key(d),
        "label": d.get("label"),
        "file": str(path),
        "kind": d["kind"],
        "status": d["summary"]["status"],
        "url": t["url"],
        "engine": t["engine"],
        "host": t["host"],
        "port": t["port"],
        "database": t["database"],
        "provider": t["provider"],
        "max_connections": facts.get("max_connections"),
        "reserved_connections": facts.get("reserved_connections"),
        "available_connections": facts.get("available_connections"),
        "pooler": pooler.get("kind") if pooler.get("detected") else None,
        "pool_mode": pooler.get("pool_mode"),
        "tls": (client.get("version") or "in use") if client.get("in_use") else None,
        "generated_at": d["generated_at"],
        "tool_version": d["tool"].get("version") if isinstance(d["tool"], dict) else None,
        "counts": {s.value: d["summary"][s.value] for s in ORDER},
        "findings": [
            {k: f[k] for k in ("id", "title", "severity", "status", "message", "docs_url")}
            for f in d["findings"]
        ],
        **_audit_row(d),
    }


def _audit_row(d: dict[str, Any]) -> dict[str, Any]:
    """An audit report's ledger, for the readiness page's chart (kind "audit" only)."""
    ledger = d["facts"].get("ledger") if d["kind"] == "audit" else None
    if not isinstance(ledger, dict) or not isinstance(ledger.get("groups"), list):
        return {}
    groups = [g for g in ledger["groups"] if isinstance(g, dict)][:20]
    return {
        "ledger": {
            "max_connections": ledger.get("max_connections"),
            "safe_connections": ledger.get("safe_connections"),
            "groups": [
                {k: g.get(k) for k in ("application_name", "role", "state", "connections")}
                for g in groups
            ],
        }
    }


def combine(
    reports: list[tuple[Path, dict[str, Any]]],
    baseline: list[tuple[Path, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The combined object: one entry per report, the change since the baseline when given."""
    old = {key(d): d for _, d in baseline or []}
    targets = []
    for path, d in reports:
        row = target_row(path, d)
        if baseline is not None:
            row["change"] = diff(d, old.get(row["key"]))
        targets.append(row)
    statuses = [t["status"] for t in targets]
    keys = {t["key"] for t in targets}
    return {
        "combined_version": COMBINED_VERSION,
        "tool": {"name": "pooling-advisor", "version": __version__},
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": {
            "status": worst(statuses).value,
            "targets": len(targets),
            **{s.value: statuses.count(s.value) for s in ORDER if s != Status.SKIP},
            "worse": sum(len(t.get("change", {}).get("worse", [])) for t in targets),
            "better": sum(len(t.get("change", {}).get("better", [])) for t in targets),
        },
        "baseline": None
        if baseline is None
        else {"reports": len(baseline), "missing_now": sorted(k for k in old if k not in keys)},
        "targets": targets,
    }
