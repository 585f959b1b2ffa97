"""`advisor report`: combining recorded reports and comparing them with a baseline (no servers)."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from advisor import combine
from advisor.errors import UsageError
from advisor.render import combined
from tests.support.cli import run_advisor
from tests.support.reports import DOCS, finding, report


@pytest.fixture
def runs(tmp_path) -> dict:
    """Two runs of three environments: production got worse, staging got better, preview is new."""
    old = {
        "production": report(
            "production",
            [finding("PG101", "pass"), finding("PG201", "warn"), finding("URL101", "pass")],
            available=30,
        ),
        "staging": report(
            "staging", [finding("PG101", "fail"), finding("PG301", "warn")], available=5
        ),
        "retired": report("retired", [finding("PG101", "pass")]),
    }
    new = {
        "production": report(
            "production",
            [
                finding("PG101", "warn"),
                finding("PG201", "fail"),
                finding("URL101", "pass"),
                finding("PG302", "warn"),
            ],
            available=12,
        ),
        "staging": report("staging", [finding("PG101", "pass")], available=20),
        "preview": report("preview", [], available=None, host="<b>preview</b>"),
    }
    dirs = {}
    for name, run in (("old", old), ("new", new)):
        d = tmp_path / name
        d.mkdir()
        for label, r in run.items():
            (d / f"{label}.json").write_text(json.dumps(r))
        dirs[name] = d
    return dirs


def test_diff_lists_worse_and_fixed():
    old = report(
        "p",
        [finding("PG101", "pass"), finding("PG201", "warn"), finding("PG301", "fail")],
        available=30,
    )
    new = report(
        "p",
        [finding("PG101", "warn"), finding("PG201", "fail"), finding("PG302", "warn")],
        available=10,
    )
    ch = combine.diff(new, old)
    worse = {(i["id"], i["from"], i["to"]) for i in ch["worse"]}
    better = {(i["id"], i["from"], i["to"]) for i in ch["better"]}
    assert worse == {
        ("PG101", "pass", "warn"),
        ("PG201", "warn", "fail"),
        ("PG302", None, "warn"),
        ("headroom", 30, 10),
    }
    assert better == {("PG301", "fail", None)}
    assert ch["status"] == ["fail", "fail"]


def test_diff_without_baseline_and_unchanged():
    r = report("p", [finding("PG101", "pass")])
    assert combine.diff(r, None) == {
        "baseline": False,
        "worse": [],
        "better": [],
        "status": [None, "pass"],
    }
    same = combine.diff(r, copy.deepcopy(r))
    assert same["baseline"] and not same["worse"] and not same["better"]


def test_combine_object(runs):
    c = combine.combine(combine.load_reports([runs["new"]]), combine.load_reports([runs["old"]]))
    assert c["combined_version"] == 1
    assert c["summary"]["status"] == "fail" and c["summary"]["targets"] == 3
    by = {t["key"]: t for t in c["targets"]}
    assert set(by) == {"production", "staging", "preview"}
    assert (
        by["production"]["max_connections"] == 40
        and by["production"]["available_connections"] == 12
    )
    assert (
        by["production"]["pooler"] == "pgbouncer" and by["production"]["pool_mode"] == "transaction"
    )
    assert by["production"]["tls"] == "TLSv1.3"
    assert len(by["production"]["change"]["worse"]) == 4
    assert {i["id"] for i in by["staging"]["change"]["better"]} == {"PG101", "PG301", "headroom"}
    assert by["preview"]["change"]["baseline"] is False
    assert c["baseline"] == {"reports": 3, "missing_now": ["retired"]}
    json.dumps(c)  # serialisable as is


def test_key_falls_back_to_host_port_database():
    r = report(None, [])
    assert combine.key(r) == "db.example.com:5432/app"
    assert combine.report_name(r["target"], "Production EU") == "production-eu-db-example-com-app"
    assert combine.report_name(r["target"]) == "db-example-com-app"
    assert combine.slug("<script>x</script>") == "script-x-script"


def test_markdown_output(runs):
    c = combine.combine(combine.load_reports([runs["new"]]), combine.load_reports([runs["old"]]))
    out = combined.render_markdown(c)
    assert out.startswith("### ❌ Pooling readiness: FAIL (3 environments)")
    assert (
        "| production | ❌ fail | 40 | 12 | pgbouncer \\(transaction\\) | TLSv1.3 | 1 / 2 |" in out
    )
    assert "#### Since the baseline" in out
    assert "PG101 pass → warn" in out and "available connections 30 → 12" in out
    assert "**staging** (fail → pass)" in out and "fixed: PG101 fail → pass" in out
    assert "**preview**: new, not in the baseline" in out
    assert "**retired**: in the baseline, not in this run" in out
    assert f"[PG201]({DOCS}PG201/)" in out
    assert "<b>" not in out  # the host name stays text


def test_markdown_escapes_server_strings():
    bad = report(
        "<img src=x onerror=alert(1)>",
        [
            finding("PG101", "fail", "<script>alert(1)</script> | [x](javascript:alert(2))"),
            dict(finding("PG201", "warn"), id="PG201](javascript:alert(3)"),
        ],
    )
    out = combined.render_markdown(combine.combine([(Path("bad.json"), bad)]))
    assert "<script>" not in out and "<img" not in out and "](javascript" not in out
    assert "&lt;script&gt;" in out


def test_junit_one_suite_per_target(runs):
    c = combine.combine(combine.load_reports([runs["new"]]), combine.load_reports([runs["old"]]))
    root = ET.fromstring(combined.render_junit(c))
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"production", "staging", "preview"}
    prod = suites["production"]
    assert prod.get("tests") == "5"  # 4 findings + the regression case
    assert prod.get("failures") == "2"  # PG201 fail + the regression
    regression = prod.find("testcase[@name='no regression since the baseline']/failure")
    assert regression is not None and "PG101 pass → warn" in regression.get("message")
    assert (
        suites["staging"].find("testcase[@name='no regression since the baseline']/failure") is None
    )
    assert int(root.get("tests")) == sum(int(s.get("tests")) for s in suites.values())


def test_json_and_text_outputs(runs):
    c = combine.combine(combine.load_reports([runs["new"]]))
    assert json.loads(combined.render(c, "json"))["summary"]["targets"] == 3
    text = combined.render(c, "text")
    assert text.startswith("FAIL: 3 target(s)")
    assert "production  max_connections 40, available 12" in text


def test_check_report_rejects_non_reports(tmp_path):
    for bad in (
        {"schema_version": 2},
        [],
        {"schema_version": 1, "kind": "probe"},
        dict(report("x", []), target={"url": "u"}),
    ):
        with pytest.raises(ValueError):
            combine.check_report(bad)
    (tmp_path / "x.json").write_text("{nope")
    with pytest.raises(UsageError):
        combine.load_reports([tmp_path / "x.json"])


def test_cli_report_formats_and_exit_codes(runs, tmp_path):
    files = sorted(str(p) for p in runs["new"].glob("*.json"))
    r = run_advisor("report", *files, "--baseline", str(runs["old"]), "--format", "markdown")
    assert r.returncode == 1, r.stderr  # production fails
    assert "Since the baseline" in r.stdout
    out = tmp_path / "out" / "readiness.xml"
    r = run_advisor("report", *files, "--format", "junit", "--output", str(out), "--exit-zero")
    assert r.returncode == 0 and out.read_text().startswith("<?xml")
    assert r.stdout.startswith("FAIL: 3 target(s)")  # the text summary still goes to stdout
    r = run_advisor("report", str(runs["new"] / "staging.json"), "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout)["summary"]["status"] == "pass"
    r = run_advisor("report", str(runs["new"] / "preview.json"), "--strict")
    assert r.returncode == 0  # no findings at all


def test_cli_report_bad_input_exit_2(tmp_path):
    not_report = tmp_path / "package.json"
    not_report.write_text('{"name": "app", "version": "1.0.0"}')
    r = run_advisor("report", str(not_report))
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "package.json" in r.stderr and "schema_version" in r.stderr
    r = run_advisor("report", str(tmp_path / "missing.json"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    (tmp_path / "empty").mkdir()
    r = run_advisor("report", str(tmp_path / "empty"))
    assert r.returncode == 2 and "no report JSON files" in r.stderr


def test_cli_empty_baseline_dir_is_a_first_run(runs, tmp_path):
    (tmp_path / "baseline").mkdir()
    r = run_advisor(
        "report",
        str(runs["new"] / "staging.json"),
        "--baseline",
        str(tmp_path / "baseline"),
        "--format",
        "markdown",
    )
    assert r.returncode == 0 and "nothing to compare with" in r.stderr
    assert "Since the baseline" not in r.stdout


def test_probe_output_directory_names_the_file(tmp_path):
    url = "postgresql://u:p@ep-cool-1.us-east-2.aws.neon.tech/db"
    r = run_advisor(
        "lint", url, "--label", "Staging", "--format", "json", "--output", f"{tmp_path}/out/"
    )
    assert r.returncode in (0, 1), r.stderr
    written = tmp_path / "out" / "staging-ep-cool-1-us-east-2-aws-neon-tech-db.json"
    assert json.loads(written.read_text())["label"] == "Staging"
    r = run_advisor("lint", url, "--format", "markdown", "--output", str(tmp_path / "out"))
    assert (tmp_path / "out" / "ep-cool-1-us-east-2-aws-neon-tech-db.md").is_file()
