"""Statuses have one definition, advisor/status.py: no other module of advisor/ spells a list of
status names, and the enum is the report schema's list, written to JSON as plain strings."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from advisor.report import Finding, Report

PACKAGE = Path(__file__).resolve().parent.parent / "advisor"
NAMES = {"pass", "warn", "fail", "skip", "error"}


def _strings(nodes) -> set[str]:
    return {n.value for n in nodes if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def status_collections(tree: ast.AST) -> list[int]:
    """Line numbers of tuple, list, set or dict literals naming two statuses or more (also
    the literal in a test such as `x in ("warn", "fail")`)."""
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            found = _strings(node.elts)
        elif isinstance(node, ast.Dict):
            found = _strings(k for k in node.keys if k is not None)
        else:
            continue
        if len(found & NAMES) >= 2:
            lines.append(node.lineno)
    return lines


def test_no_status_list_outside_the_enum_module():
    # the scan itself first: each form a status list took before there was one enum
    for src in (
        'STATUSES = ("pass", "warn", "fail", "skip", "error")',
        'RANK = {"pass": 0, "skip": 0, "warn": 1}',
        'bad = [f for f in x if f["status"] in ("warn", "fail", "error")]',
        'counts = {s: 0 for s in ["pass", "warn"]}',
    ):
        assert status_collections(ast.parse(src)), src
    assert not status_collections(ast.parse('x = ("pass", "other"); y = s == "warn"'))
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "status.py":
            continue
        for line in status_collections(ast.parse(path.read_text(), str(path))):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}")
    assert not offenders, "status names spelled outside advisor/status.py: " + ", ".join(offenders)


def test_the_enum_is_the_schema_list_and_json_stays_plain():
    from advisor.status import ORDER, Status, worst

    schema = json.loads((PACKAGE / "schema" / "report-v1.json").read_text())
    enums = []

    def walk(node):
        if isinstance(node, dict):
            if set(node.get("enum", ())) >= {"pass", "warn"}:
                enums.append(node["enum"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(schema)
    # findings: every status; a report's verdict: never skip (skipped checks count as a pass)
    values = {s.value for s in Status}
    assert [set(e) for e in enums] == [values, values - {"skip"}]
    assert worst(["skip"]).value in enums[1]
    assert [s.value for s in ORDER] == ["pass", "warn", "fail", "skip", "error"]
    assert (
        json.dumps({"s": Status.WARN, "l": list(Status)})
        == '{"s": "warn", "l": ["pass", "warn", "fail", "skip", "error"]}'
    )
    assert f"{Status.FAIL}" == "fail" and Status("error") is Status.ERROR


def test_ranks_pick_the_verdict():
    from advisor.status import ORDER, Status, worst

    assert [s.rank for s in ORDER] == [0, 1, 2, 0, 3]
    assert worst(["pass", "skip"]) is Status.PASS and worst(["skip"]) is Status.PASS
    assert worst(["warn", "error", "fail"]) is Status.ERROR and worst([]) is Status.PASS
    report = Report(
        kind="lint",
        target={},
        facts={"engine": "postgresql"},
        findings=[
            Finding("URL101", "t", "high", Status.WARN, "m", "r", "d"),
            Finding("URL102", "t", "high", "skip", "m", "r", "d"),
        ],
    )
    d = report.to_dict()
    assert d["summary"] == {
        "status": "warn",
        "pass": 0,
        "warn": 1,
        "fail": 0,
        "skip": 1,
        "error": 0,
    }
    assert type(d["summary"]["status"]) is str
