"""`advisor audit` on MariaDB with performance_schema on, live: a workload through PyMySQL
that uses user variables, GET_LOCK, a temporary table and SQL PREPARE; connections held
open (two program names, one idle in a transaction, one holding a named lock).

What must hold: each feature is found in the statement digests (classified by sqlglot's
MySQL dialect) with its rewrite; the processlist ledger has the groups and counts opened;
exactly the safe-concurrency figure of logins fit before the server refuses one; the audit
opens one connection, writes nothing and never prints the password. Without
performance_schema, one finding says so and the ledger still comes.
"""

from __future__ import annotations

import json
import time

import pymysql
import pytest

from tests.support import servers_mysql
from tests.support.cli import run_advisor
from tests.support.live import running

pytestmark = pytest.mark.live
SETTINGS = {
    "performance_schema": "ON",
    "performance_schema_instrument": "wait/lock/metadata/sql/mdl=ON",
}


@pytest.fixture(scope="module")
def maria_ps():
    factory = lambda: servers_mysql.MariaDBServer(  # noqa: E731
        "audit", max_connections=12, settings=SETTINGS
    ).start()
    with running(factory) as m:
        m.sql(
            "GRANT SELECT ON performance_schema.* TO 'app'@'%'; GRANT PROCESS ON *.* TO 'app'@'%'"
        )
        m.sql("CREATE TABLE app.jobs (id INT PRIMARY KEY) ENGINE=InnoDB")
        yield m


def workload(m) -> None:
    c = m.connect(program_name="workload", autocommit=True)
    try:
        cur = c.cursor()
        for sql in (
            "SET @tenant = 42",
            "SELECT @tenant",
            "SELECT GET_LOCK('nightly', 1)",
            "SELECT RELEASE_LOCK('nightly')",
            "CREATE TEMPORARY TABLE scratch (a INT)",
            "DROP TEMPORARY TABLE scratch",
            "PREPARE s FROM 'SELECT 1'",
            "EXECUTE s",
            "SELECT id FROM jobs WHERE id = 7",
        ):
            cur.execute(sql)
    finally:
        c.close()


@pytest.fixture(scope="module")
def audited(maria_ps):
    workload(maria_ps)
    held = [
        maria_ps.connect(program_name=name, autocommit=True) for name in ("web", "web", "worker")
    ]
    try:
        held[1].cursor().execute("BEGIN")
        held[1].cursor().execute("SELECT id FROM jobs FOR UPDATE")  # web: idle in transaction
        held[2].cursor().execute("SELECT GET_LOCK('held', 1)")  # worker: idle, named lock
        time.sleep(2.5)  # idle in transaction for more than the 1 s threshold, in whole seconds
        tables = maria_ps.sql("SELECT COUNT(*) FROM information_schema.TABLES")
        before = maria_ps.status("Connections")
        runs = {
            fmt: run_advisor(
                "audit",
                maria_ps.url(),
                "--format",
                fmt,
                "--pool-size",
                "3",
                "--threshold",
                "AUD203.warn_above_seconds=1",
            )
            for fmt in ("json", "text", "markdown")
        }
        after = maria_ps.status("Connections")
        report = json.loads(runs["json"].stdout)
        safe = report["facts"]["ledger"]["safe_connections"]
        extra, refused = [], None
        try:
            for _ in range(safe):
                extra.append(maria_ps.connect())
            try:
                extra.append(maria_ps.connect())
            except pymysql.err.OperationalError as exc:
                refused = str(exc)
        finally:
            for c in extra:
                c.close()
        yield {
            "runs": runs,
            "report": report,
            "connections": after - before,
            "tables": (tables, maria_ps.sql("SELECT COUNT(*) FROM information_schema.TABLES")),
            "refused": refused,
            "opened": len(extra),
        }
    finally:
        for c in held:
            c.close()


def finding(report, check_id):
    return next(f for f in report["findings"] if f["id"] == check_id)


@pytest.mark.parametrize(
    "check_id, word",
    [
        ("AUD109", "parameter"),
        ("AUD110", "FOR UPDATE"),
        ("AUD106", "protocol-level"),
        ("AUD108", "ON COMMIT DROP"),
    ],
)
def test_each_digest_feature_fails_with_its_rewrite(audited, check_id, word):
    f = finding(audited["report"], check_id)
    assert f["status"] == "fail" and word in f["message"], f


def test_the_digests_are_classified(audited):
    report = audited["report"]
    assert audited["runs"]["json"].returncode == 1, audited["runs"]["json"].stderr
    features = {f["feature"]: f for f in report["facts"]["workload"]["session_features"]}
    assert set(features) == {"sql_prepare", "temp_tables", "user_variables", "get_lock"}
    assert features["user_variables"]["example"] == "SET @? = ?"
    assert features["get_lock"]["calls"] >= 3 and features["get_lock"]["databases"] == ["app"]
    assert finding(report, "AUD101")["status"] == "pass"
    assert finding(report, "AUD001")["status"] == "pass"
    from pathlib import Path

    import jsonschema

    from advisor.facts import model

    schema = Path(model.__file__).resolve().parent.parent / "schema" / "report-v1.json"
    jsonschema.validate(report, json.loads(schema.read_text()))
    assert set(report["facts"]["workload"]) <= (
        model.Workload.__required_keys__ | model.Workload.__optional_keys__
    )


def test_the_processlist_ledger(audited):
    report = audited["report"]
    ledger = report["facts"]["ledger"]
    groups = {(g["application_name"], g["state"]): g["connections"] for g in ledger["groups"]}
    assert groups[("web", "idle")] == 1
    assert groups[("web", "idle in transaction")] == 1
    assert groups[("worker", "idle")] == 1
    assert groups[("advisor", "active")] == 1
    # 12 - the 3 held (the audit's own has closed); the admin slot is not for `app`
    assert ledger["safe_connections"] == 9 == audited["opened"]
    assert "Too many connections" in (audited["refused"] or "")
    assert ledger["safe_instances"] == 3
    assert finding(report, "AUD201")["status"] == "fail"
    assert "worker" in finding(report, "AUD201")["message"]
    assert finding(report, "AUD203")["status"] == "warn"
    assert finding(report, "AUD301")["status"] == "pass"
    assert "Connection ledger" in audited["runs"]["text"].stdout
    assert "| worker |" in audited["runs"]["markdown"].stdout


def test_one_connection_nothing_written_no_secret(audited):
    assert audited["connections"] == 3 + 1  # one per format, plus the status session
    assert audited["tables"][0] == audited["tables"][1]
    for run in audited["runs"].values():
        assert servers_mysql.PASSWORD not in run.stdout + run.stderr


@pytest.fixture(scope="module")
def maria_no_ps():
    with running(lambda: servers_mysql.MariaDBServer("audit-nops", max_connections=8).start()) as m:
        yield m


def test_without_performance_schema_the_ledger_still_comes(maria_no_ps):
    run = run_advisor("audit", maria_no_ps.url(), "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    report = json.loads(run.stdout)
    f = finding(report, "AUD101")
    assert f["status"] == "warn" and "performance_schema" in f["message"]
    assert finding(report, "AUD201")["status"] == "skip"
    assert report["facts"]["ledger"]["groups"]
    assert servers_mysql.PASSWORD not in run.stdout + run.stderr
