"""`advisor report` reads files anyone may have written: everything in them is data.

A report whose fields carry HTML, Markdown, pipes, ANSI/OSC escapes, C1 controls, a lone
surrogate and huge numbers comes out escaped in Markdown, well-formed in JUnit, stripped on
the terminal and intact in JSON (checked like tests/test_hostile.py). A report with a field
of the wrong type, or text that is not a JSON report, is one line and exit 2.
"""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from advisor import combine
from tests.support.cli import ROOT, run_advisor

SCHEMA = json.loads((ROOT / "advisor" / "schema" / "report-v1.json").read_text())
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
PAYLOAD = (
    "<script>alert(1)</script><img src=x onerror=alert(2)>**bold**|pipe|`tick`"
    "\x1b[31mRED\x1b]0;title\x07\x9b2J\x1b[2J\ud800"
)
BIG = 2**62


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> dict:
    """A real report (lint --format json) with probe facts added, valid against the schema."""
    out = tmp_path_factory.mktemp("base") / "r.json"
    r = run_advisor(
        "lint",
        "postgresql://app:Pw-Report-In@db.example.com/app",
        "--format",
        "json",
        "--output",
        str(out),
    )
    assert r.returncode in (0, 1), r.stderr
    d = json.loads(out.read_text())
    d["kind"] = "probe"
    d["facts"].update(
        max_connections=100,
        reserved_connections=3,
        connections_in_use=7,
        available_connections=90,
        server_version="16.4",
        pooler={"detected": True, "kind": "pgbouncer", "pool_mode": "transaction", "evidence": []},
        tls={
            "client": {"in_use": True, "version": "TLSv1.3", "cipher": "x", "verified": True},
            "server": {"in_use": True},
        },
    )
    jsonschema.validate(d, SCHEMA)
    return d


def hostile(d: dict, status: str) -> dict:
    d = copy.deepcopy(d)
    d["label"] = "prod " + PAYLOAD + "L" * 3000
    d["tool"]["version"] = PAYLOAD
    d["target"].update(url=PAYLOAD, host="h" + PAYLOAD, database=PAYLOAD, provider=PAYLOAD)
    d["facts"].update(
        max_connections=BIG,
        reserved_connections=BIG,
        connections_in_use=BIG,
        available_connections=-BIG if status == "fail" else BIG,
    )
    d["facts"]["pooler"]["kind"] = PAYLOAD
    d["facts"]["tls"]["client"].update(version=PAYLOAD, cipher=PAYLOAD)
    for f in d["findings"]:
        f.update(
            title=PAYLOAD,
            message=PAYLOAD * 50,
            remediation=PAYLOAD,
            docs_url="https://x.example/|<script>|(x)",
            status=status,
        )
    d["findings"][0]["docs_url"] = "https://x.example/a|b|c|d"
    counts = {
        s: sum(f["status"] == s for f in d["findings"])
        for s in ("pass", "warn", "fail", "skip", "error")
    }
    d["summary"] = {"status": "pass" if status == "pass" else status, **counts}
    jsonschema.validate(d, SCHEMA)
    return d


@pytest.fixture(scope="module")
def outputs(base, tmp_path_factory) -> dict[str, str]:
    """Every format of `advisor report new --baseline old`, to stdout and to a file."""
    tmp = tmp_path_factory.mktemp("hostile-report")
    new, old = tmp / "new.json", tmp / "old"
    old.mkdir()
    new.write_text(json.dumps(hostile(base, "fail")))
    (old / "same.json").write_text(json.dumps(hostile(base, "pass")))
    gone = hostile(base, "pass")
    gone["label"] = "gone " + PAYLOAD
    (old / "gone.json").write_text(json.dumps(gone))
    found = {}
    for fmt in ("text", "json", "markdown", "junit"):
        r = run_advisor("report", str(new), "--baseline", str(old), "--format", fmt)
        assert r.returncode == 1 and r.stderr == "", (fmt, r.returncode, r.stderr[-2000:])
        found[f"{fmt} stdout"] = r.stdout
        path = tmp / f"combined.{fmt}"
        r = run_advisor(
            "report", str(new), "--baseline", str(old), "--format", fmt, "--output", str(path)
        )
        assert r.returncode == 1 and r.stderr == "", (fmt, r.returncode, r.stderr[-2000:])
        found[f"{fmt} file"] = path.read_text(encoding="utf-8")
        found[f"{fmt} file, text stdout"] = r.stdout
    return found


def test_terminal_text_has_no_escapes_and_short_lines(outputs):
    for name in (
        "text stdout",
        "text file",
        *(f"{f} file, text stdout" for f in ("text", "json", "markdown", "junit")),
    ):
        text = outputs[name]
        assert "max_connections" in text, name
        assert not CONTROL.search(text), (name, repr(CONTROL.search(text)))
        assert max(map(len, text.splitlines())) <= 600, name


def test_markdown_shows_the_payload_as_text(outputs):
    for name in ("markdown stdout", "markdown file"):
        text = outputs[name]
        assert not CONTROL.search(text), name
        for tag in ("<script", "<img"):
            assert tag not in text, (name, tag)
        assert "**bold**" not in text and "](https://x.example" not in text
        for line in text.splitlines():  # a payload never adds a table cell
            if line.startswith("| "):
                assert len(re.findall(r"(?<!\\)\|", line)) in (4, 8), line
        assert max(map(len, text.splitlines())) <= 1500, name
        assert "&lt;script&gt;" in text  # shown, escaped


def test_junit_is_well_formed_xml_without_controls(outputs):
    for name in ("junit stdout", "junit file"):
        xml = outputs[name]
        assert not CONTROL.search(xml)
        root = ET.fromstring(xml)
        messages = [el.get("message") for el in root.iter() if el.get("message")]
        assert messages and all(len(m) <= 1000 for m in messages)
        assert any("<script>" in m for m in messages)  # as data, escaped by the XML writer


def test_json_keeps_the_data(outputs):
    for name in ("json stdout", "json file"):
        raw = outputs[name]
        assert "\x1b" not in raw  # written as \u001b
        combined = json.loads(raw)
        assert combined["targets"][0]["label"].startswith("prod " + PAYLOAD)
        assert combined["targets"][0]["max_connections"] == BIG


def _set(d: dict, path: str, value) -> dict:
    d = copy.deepcopy(d)
    *parents, last = path.split(".")
    node = d
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return d


WRONG = [
    ("findings.0.id", 5),
    ("findings.0.message", ["a"]),
    ("findings", {"a": 1}),
    ("findings.0.status", None),
    ("target", []),
    ("target.port", "5432"),
    ("target.host", 5),
    ("facts", []),
    ("facts.max_connections", "<script>alert(1)</script>"),
    ("facts.max_connections", 1.5e308),
    ("facts.max_connections", True),
    ("facts.available_connections", 2**70),
    ("facts.pooler", "pgbouncer"),
    ("facts.pooler.detected", "yes"),
    ("facts.tls.client", []),
    ("facts.session_features", []),
    (
        "facts.session_features",
        {"sql_prepare": {"works": "yes", "how": "measured", "evidence": ""}},
    ),
    ("facts.session_features", {"sql_prepare": {"works": None, "how": "guessed", "evidence": ""}}),
    ("facts.session_features", {"sql_prepare": {"works": None, "how": "inferred"}}),
    ("summary.pass", -1),
    ("summary", {"status": "fail"}),
    ("summary.status", "<b>x</b>"),
    ("label", {"x": 1}),
    ("generated_at", "\x1b[2J"),
    ("schema_version", True),
    ("tool", "x"),
    ("findings.0.id", "\x1b]0;x\x07PG101"),
]


@pytest.mark.parametrize("path, value", WRONG, ids=[f"{p}={v!r}"[:40] for p, v in WRONG])
def test_wrong_typed_fields_are_one_line_exit_2(base, tmp_path, path, value):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(_set(base, path, value)))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(base))
    for argv in (
        ["report", str(bad), "--format", "markdown"],
        ["report", str(good), "--baseline", str(bad)],
    ):
        r = run_advisor(*argv)
        assert r.returncode == 2, (r.returncode, r.stdout[-500:], r.stderr)
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and "bad.json" in lines[0], r.stderr
        assert "internal error" not in r.stderr and "Traceback" not in r.stderr
        assert "<script" not in r.stderr and "\x1b" not in r.stderr and r.stdout == ""


@pytest.mark.parametrize(
    "text",
    [
        '{"schema_version": 1, "n": ' + "9" * 5000 + "}",  # beyond int()'s digit limit
        '{"schema_version": 1, "n": NaN}',
        '{"schema_version": 1, "n": -Infinity}',
        '{"schema_version": 1, "n": 1e400}',
    ],
    ids=["5000 digits", "NaN", "Infinity", "1e400"],
)
def test_numbers_json_does_not_have(tmp_path, text):
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    r = run_advisor("report", str(bad))
    assert r.returncode == 2 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "internal error" not in r.stderr and "9999" not in r.stderr


def test_not_utf8(tmp_path, base):
    bad = tmp_path / "bad.json"
    bad.write_bytes(json.dumps(base).encode().replace(b'"pooling-advisor"', b'"pooling-\xff"'))
    r = run_advisor("report", str(bad))
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "UTF-8" in r.stderr, r.stderr


@pytest.mark.parametrize("path, value", WRONG, ids=[f"{p}={v!r}"[:40] for p, v in WRONG])
def test_the_validator_agrees_with_jsonschema(base, path, value):
    """combine.validate_report is JSON Schema (the subset the schema file uses), not a guess."""
    report = _set(base, path, value)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(report, SCHEMA)
    with pytest.raises(ValueError):
        combine.validate_report(report)
    combine.validate_report(base)
    jsonschema.validate(base, SCHEMA)
