"""`advisor probe --targets`: the CI workflow end to end against throwaway servers, a fleet of
50, and the targets file's validation."""

from __future__ import annotations

import io
import json
import re
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import psycopg
import pytest

from advisor.fleet import Progress
from tests.support import servers
from tests.support.cli import ROOT, run_advisor
from tests.support.live import running
from tests.support.site import build_site, text_of

GITHUB = ROOT / "examples" / "github-actions" / "readiness.yml"
GITLAB = ROOT / "examples" / "gitlab-ci" / "readiness.gitlab-ci.yml"


def commands_in(path: Path) -> str:
    """The workflow's text with continued lines joined and spaces collapsed."""
    return re.sub(r"\s+", " ", path.read_text().replace("\\\n", " "))


def toml_value(v) -> str:
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    return json.dumps(v)


def write_targets(path: Path, entries: list[dict]) -> Path:
    lines = []
    for e in entries:
        lines.append("[[target]]")
        lines += [f"{k} = {toml_value(v)}" for k, v in e.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


# --------------------------------------------------------------------------- the workflow


@pytest.mark.live
def test_workflow_against_live_servers(pg_plain, pgbouncer_txn, silent_listener, tmp_path):
    """The commands of examples/*: probe three targets (one never answers), combine, build."""
    github, gitlab = commands_in(GITHUB), commands_in(GITLAB)
    probe_cmd = "advisor probe --targets .github/readiness-targets.toml --jobs 4 --format json --output reports/"
    assert probe_cmd in github and "--format json --output reports/" in gitlab
    assert "advisor report reports/*.json --baseline reports/baseline --format markdown" in github
    assert "advisor report reports/*.json --baseline reports/baseline --format junit" in gitlab
    assert "GITHUB_STEP_SUMMARY" in github and "ADVISOR_REPORTS_DIR" in github + gitlab
    assert "mkdocs build --strict" in github and "mkdocs build --strict" in gitlab

    targets = write_targets(
        tmp_path / "targets.toml",
        [
            {"name": "pg-direct", "label": "direct", "url_env": "DIRECT_DB_URL"},
            {
                "name": "pg-bouncer",
                "label": "pooled",
                "url_env": "POOLED_DB_URL",
                "concurrency": 10,
                "pool_size": 1,
            },
            {"name": "silent", "label": "unreachable", "url_env": "SILENT_DB_URL", "timeout": 1},
        ],
    )
    env = {
        "DIRECT_DB_URL": pg_plain.url(),
        "POOLED_DB_URL": pgbouncer_txn.url(),
        "SILENT_DB_URL": f"postgresql://app:pw@127.0.0.1:{silent_listener.port}/app",
    }
    reports = tmp_path / "reports"

    def probe_run() -> tuple[int, dict]:
        r = run_advisor(
            "probe",
            "--targets",
            str(targets),
            "--jobs",
            "4",
            "--format",
            "json",
            "--output",
            "reports/",
            env=env,
            cwd=tmp_path,
        )
        assert r.returncode == 3, r.stderr  # the unreachable target is the worst
        assert "s3cr3t" not in r.stdout + r.stderr
        return r.returncode, json.loads(r.stdout)

    # The previous run becomes the baseline, as the workflows keep it.
    probe_run()
    (reports / "baseline").mkdir()
    for f in reports.glob("*.json"):
        shutil.move(str(f), reports / "baseline" / f.name)
    held = [psycopg.connect(pg_plain.url()) for _ in range(3)]  # fewer free slots this time
    try:
        _, combined = probe_run()
    finally:
        for conn in held:
            conn.close()
    assert sorted(p.name for p in reports.glob("*.json")) == [
        "pg-bouncer.json",
        "pg-direct.json",
        "silent.json",
    ]
    by = {t["key"]: t for t in combined["targets"]}
    assert [t["key"] for t in combined["targets"]] == ["direct", "pooled", "unreachable"]
    assert by["direct"]["max_connections"] == 23 and by["pooled"]["pooler"]
    assert by["unreachable"]["status"] == "error" and combined["summary"]["status"] == "error"

    files = sorted(str(p.relative_to(tmp_path)) for p in reports.glob("*.json"))
    r = run_advisor(
        "report",
        *files,
        "--baseline",
        "reports/baseline",
        "--format",
        "markdown",
        "--output",
        "readiness.md",
        "--exit-zero",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    summary = (tmp_path / "readiness.md").read_text()
    assert "| direct | ❌ fail | 23 |" in summary or "| direct | ⚠️ warn | 23 |" in summary
    assert re.search(
        r"\*\*direct\*\* \(\w+ → \w+\): ❌ worse: available connections \d+ → \d+", summary
    )
    r = run_advisor(
        "report",
        *files,
        "--baseline",
        "reports/baseline",
        "--format",
        "junit",
        "--output",
        "readiness.xml",
        "--exit-zero",
        cwd=tmp_path,
    )
    suites = ET.parse(tmp_path / "readiness.xml").getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == ["pooled", "direct", "unreachable"]  # file order
    assert suites[2].get("errors") == "1"
    r = run_advisor("report", *files, cwd=tmp_path)  # the gate step
    assert r.returncode == 3

    site = tmp_path / "site"
    build_site(site, reports)
    body = (site / "readiness" / "index.html").read_text()
    text = text_of(body)
    for slug in ("direct", "pooled", "unreachable"):
        assert f'href="{slug}/"' in body
    assert re.search(r"direct \(127\.0\.0\.1\) ✖ fail 23 \d+ none detected", text) or re.search(
        r"direct \(127\.0\.0\.1\) ⚠ warn 23 \d+", text
    ), text[:2000]
    assert re.search(r"max_connections:?\s+23\b", text)
    assert "Since the previous run" in text
    direct = json.loads((reports / "pg-direct.json").read_text())
    page = (site / "readiness" / "direct" / "index.html").read_text()
    ptext = text_of(page)
    assert re.search(r"max_connections 23\b", ptext)
    assert direct["facts"]["server_version"] in ptext
    assert direct["tool"]["version"] in ptext and direct["generated_at"] in ptext
    for f in direct["findings"]:
        assert f'href="../../checks/{f["id"]}/"' in page
        assert f["message"][:60] in ptext
    assert re.search(r"available connections \d+ → \d+", ptext)
    pooled = text_of((site / "readiness" / "pooled" / "index.html").read_text())
    assert "transaction mode" in pooled or "pgbouncer" in pooled
    gone = text_of((site / "readiness" / "unreachable" / "index.html").read_text())
    assert "✖ error" in gone and "PG001" in gone and "timed out" in gone


# --------------------------------------------------------------------------- a fleet of 50


@pytest.fixture
def own_bouncer(pg_tls):
    """A PgBouncer of this test's own: its idle server connections go when the test ends."""
    with running(lambda: servers.PgBouncer(pg_tls, name="pgbouncer-fleet").start()) as bouncer:
        yield bouncer


@pytest.mark.live
def test_fleet_of_50_with_10_jobs(pg_tls, own_bouncer, tmp_path):
    """25 targets straight at pg_tls (max_connections 31), 25 through a PgBouncer in front of it."""
    entries = []
    for i in range(50):
        if i % 2:
            entries.append({"name": f"tls-{i:02}", "url_env": "TLS_URL", "timeout": 20})
        else:
            entries.append({"name": f"bouncer-{i:02}", "url_env": "POOLED_URL", "timeout": 20})
    targets = write_targets(tmp_path / "fleet.toml", entries)
    env = {"TLS_URL": pg_tls.url(sslmode="require"), "POOLED_URL": own_bouncer.url()}
    times = {}
    for jobs in ("10", "1"):
        out = tmp_path / f"jobs-{jobs}"
        started = time.monotonic()
        r = run_advisor(
            "probe",
            "--targets",
            str(targets),
            "--jobs",
            jobs,
            "--format",
            "json",
            "--output",
            str(out),
            env=env,
            timeout=300,
        )
        times[jobs] = time.monotonic() - started
        assert r.returncode == 1, r.stderr  # direct TLS server: no pooler (fail); none unreachable
        combined = json.loads(r.stdout)
        assert combined["summary"]["targets"] == 50 and combined["summary"]["error"] == 0
        assert len(list(out.glob("*.json"))) == 50
        assert {t["max_connections"] for t in combined["targets"]} == {31}
        assert len([t for t in combined["targets"] if t["pooler"]]) == 25
        # Not a terminal: one plain line per target, no progress bar.
        assert "\r" not in r.stderr and "[#" not in r.stderr and "[." not in r.stderr
        assert len(re.findall(r"^advisor: \d+/50 ", r.stderr, re.M)) == 50
    print(f"\nfleet of 50: --jobs 10 {times['10']:.1f} s, --jobs 1 {times['1']:.1f} s")


# --------------------------------------------------------------------------- no servers


def test_progress_bar_only_on_a_terminal():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    bar, lines = Tty(), io.StringIO()
    for stream in (bar, lines):
        p = Progress(2, stream)
        p.step("a", "pass")
        p.step("b", "fail")
    assert "\r[" in bar.getvalue() and "2/2 probed, 1 failing" in bar.getvalue()
    assert lines.getvalue() == "advisor: 1/2 a: pass\nadvisor: 2/2 b: fail\n"


def test_exit_code_is_the_worst(tmp_path):
    """Closed ports: every target is an error (3); lint-like fails alone would be 1."""
    targets = write_targets(
        tmp_path / "t.toml",
        [
            {"name": "a", "url": "postgresql://u@127.0.0.1:1/db", "timeout": 2},
            {"name": "b", "url": "postgresql://u@127.0.0.1:2/db", "timeout": 2},
        ],
    )
    r = run_advisor("probe", "--targets", str(targets), "--output", str(tmp_path / "out"))
    assert r.returncode == 3
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.txt", "b.txt"]
    assert r.stdout.startswith("ERROR: 2 target(s)")


@pytest.mark.parametrize(
    "entries, env, message",
    [
        ([{"name": "a", "url": "postgresql://h/db", "colour": "red"}], {}, "unknown key(s) colour"),
        ([{"name": "a", "url_env": "NOT_SET_ANYWHERE"}], {}, "NOT_SET_ANYWHERE is not set"),
        ([{"name": "a", "url": "postgresql://h/db", "url_env": "X"}], {}, "not both"),
        ([{"url": "postgresql://h/db"}], {}, "needs a name"),
        ([{"name": "a"}], {}, "needs url or url_env"),
        (
            [{"name": "a", "url": "postgresql://h/db"}, {"name": "A", "url": "postgresql://h/db"}],
            {},
            "share the file name",
        ),
        ([{"name": "a", "url": "nosuch://h/db"}], {}, "target 'a'"),
        ([{"name": "a", "url": "postgresql://h/db", "timeout": -1}], {}, "timeout"),
        (
            [{"name": "a", "url": "postgresql://h/db", "orm": "activejdbc"}],
            {},
            "orm must be one of",
        ),
        (
            [{"name": "a", "url": "postgresql://h/db", "thresholds": {"PG101.nope": 1}}],
            {},
            "unknown threshold",
        ),
        ([{"name": "a", "url": "postgresql://h/db", "driver": "nope"}], {}, "unknown driver"),
        (
            [{"name": "a", "url": "postgresql://h/db", "uses": ["listen_notify"]}],
            {},
            "need driver or orm",
        ),
        (
            [{"name": "a", "url": "postgresql://h/db", "driver": "asyncpg", "uses": ["x"]}],
            {},
            "uses must be a list of",
        ),
        (
            [{"name": "a", "url": "postgresql://h/db", "driver": "pgx", "driver_options": []}],
            {},
            "driver_options must be a table",
        ),
    ],
)
def test_targets_file_mistakes_are_usage_errors(tmp_path, entries, env, message):
    targets = write_targets(tmp_path / "t.toml", entries)
    r = run_advisor("probe", "--targets", str(targets), env=env)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and r.stderr.count("\n") == 1


def test_targets_excludes_a_url_argument(tmp_path):
    targets = write_targets(tmp_path / "t.toml", [{"name": "a", "url": "postgresql://h/db"}])
    r = run_advisor("probe", "postgresql://h/db", "--targets", str(targets))
    assert r.returncode == 2 and "--targets takes the URLs from the file" in r.stderr
    r = run_advisor("probe", "--targets", str(tmp_path / "missing.toml"))
    assert r.returncode == 2 and "cannot read" in r.stderr
    (tmp_path / "bad.toml").write_text("[[target]\n")
    r = run_advisor("probe", "--targets", str(tmp_path / "bad.toml"))
    assert r.returncode == 2 and "not valid TOML" in r.stderr


def test_example_targets_file_parses(tmp_path):
    """examples/targets.toml is valid: with its variables set it gets as far as connecting."""
    env = {
        "PRODUCTION_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/prod",
        "PRODUCTION_DIRECT_URL": "postgresql://u:p@127.0.0.1:1/prod",
        "STAGING_DATABASE_URL": "postgresql://u:p@127.0.0.1:1/staging",
    }
    r = run_advisor(
        "probe",
        "--targets",
        str(ROOT / "examples" / "targets.toml"),
        "--timeout",
        "2",
        "--format",
        "json",
        "--output",
        str(tmp_path),
        env=env,
    )
    assert r.returncode == 3, r.stderr
    assert sorted(p.name for p in tmp_path.glob("*.json")) == ["production.json", "staging.json"]


def test_targets_file_names_each_targets_stack(tmp_path, pgbouncer_txn):
    """driver / driver_options / uses per target: the same verdict as on the command line."""
    url = pgbouncer_txn.url()
    targets = write_targets(
        tmp_path / "t.toml",
        [
            {"name": "plain", "url": url, "driver": "asyncpg"},
            {
                "name": "fixed",
                "url": url,
                "driver": "asyncpg",
                "driver_options": {"statement_cache_size": "0"},
            },
        ],
    )
    out = tmp_path / "out"
    r = run_advisor("probe", "--targets", str(targets), "--format", "json", "--output", f"{out}/")
    assert r.returncode in (0, 1), r.stderr
    verdicts = {}
    for name in ("plain", "fixed"):
        report = json.loads(next(out.glob(f"{name}*.json")).read_text())
        verdicts[name] = {f["id"]: f["status"] for f in report["findings"]}["STK101"]
    assert verdicts == {"plain": "fail", "fixed": "pass"}


# --------------------------------------------------------------------------- shards
@pytest.mark.live
def test_shards_split_the_file_and_report_merges_them(pg_plain, tmp_path):
    """--shard I/N: every target in exactly one shard, shares differ by at most one, and
    `advisor report` over the shards' directory gives the unsharded fleet's targets."""
    entries = [{"name": "live", "url_env": "LIVE_DB_URL"}] + [
        {"name": f"closed-{i}", "url": f"postgresql://u@127.0.0.1:{i}/db", "timeout": 2}
        for i in range(1, 7)
    ]
    targets = write_targets(tmp_path / "fleet.toml", entries)
    env, out = {"LIVE_DB_URL": pg_plain.url()}, tmp_path / "reports"
    seen: list[str] = []
    for i in (1, 2, 3):
        r = run_advisor(
            "probe", "--targets", str(targets), "--shard", f"{i}/3", "--format", "json",
            "--output", str(out / f"shard-{i}"), env=env,
        )  # fmt: skip
        assert r.returncode == 3, r.stderr  # each shard holds a closed port
        names = [p.stem for p in (out / f"shard-{i}").glob("*.json")]
        assert len(names) in (2, 3) and f"of {len(entries)})" in r.stderr
        seen += names
    assert sorted(seen) == sorted(e["name"] for e in entries)  # each exactly once
    merged = run_advisor("report", str(out / "shard-1"), str(out / "shard-2"), str(out / "shard-3"),
                         "--format", "json", "--exit-zero")  # fmt: skip
    assert merged.returncode == 0, merged.stderr
    combined = json.loads(merged.stdout)
    assert combined["summary"]["targets"] == len(entries)
    assert combined["summary"]["error"] == len(entries) - 1  # the live one was probed
    # A shard past the file's end is empty, not an error: CI matrices may be wider than a fleet.
    r = run_advisor("probe", "--targets", str(targets), "--shard", "9/9", env=env)
    assert r.returncode == 0 and "shard 9/9 has no targets (the file has 7)" in r.stderr


@pytest.mark.parametrize("value", ["0/3", "4/3", "a/b", "1/0", "2", "1/100000"])
def test_bad_shard_is_a_usage_error(tmp_path, value):
    targets = write_targets(tmp_path / "t.toml", [{"name": "a", "url": "postgresql://h/db"}])
    r = run_advisor("probe", "--targets", str(targets), "--shard", value)
    assert r.returncode == 2 and "--shard" in r.stderr and r.stderr.count("\n") == 1, r.stderr


def test_shard_needs_targets():
    r = run_advisor("probe", "postgresql://u@127.0.0.1:1/db", "--shard", "1/2")
    assert r.returncode == 2 and "give --targets FILE" in r.stderr and r.stderr.count("\n") == 1


def test_sharded_examples_and_own_workflows():
    """The sharded examples call --shard with the CI's own index/total and merge with
    `advisor report`; this repository's workflows run the README's commands."""
    import yaml

    sharded = ROOT / "examples" / "github-actions" / "readiness-sharded.yml"
    flow = yaml.safe_load(sharded.read_text())
    shards = flow["jobs"]["probe"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, int(flow["env"]["SHARDS"]) + 1))
    text = commands_in(sharded)
    assert "--shard ${{ matrix.shard }}/${{ env.SHARDS }}" in text
    assert "merge-multiple: true" in text and "advisor report reports/ --format markdown" in text
    assert '--shard "$CI_NODE_INDEX/$CI_NODE_TOTAL"' in commands_in(GITLAB)
    test = yaml.safe_load((ROOT / ".github" / "workflows" / "test.yml").read_text())
    steps = [s.get("run", "") for s in test["jobs"]["test"]["steps"]]
    assert "bash .ci/run" in steps and test["jobs"]["test"]["container"]["image"] == "debian:12"
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    pages = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    build = pages["jobs"]["build"]
    assert "make site" in [s.get("run") for s in build["steps"]]
    assert "ADVISOR_DOCS_BASE" in build["env"]
    assert "mkdocs build --strict" in (ROOT / "Makefile").read_text()
