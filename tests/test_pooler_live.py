"""Pool mode from an ordinary login, pgpool-II, the admin console, and the pooler checks."""

from __future__ import annotations

import json
import time

import pytest

from advisor.facts import postgres
from advisor.target import parse_target
from tests.support import servers
from tests.support.cli import run_advisor
from tests.support.live import running, running_all

pytestmark = pytest.mark.live

CONFIGS = {
    # name: (pool_mode, default_pool_size, extra settings, expected mode)
    "session-1": ("session", 1, {}, "session"),
    "session-3": ("session", 3, {}, "session"),
    "transaction-1": ("transaction", 1, {}, "transaction"),
    "transaction-3": ("transaction", 3, {}, "transaction"),
    "transaction-rr": ("transaction", 3, {"server_round_robin": 1}, "transaction"),
    "statement-2": ("statement", 2, {}, "statement"),
}


@pytest.fixture(scope="session")
def pg_pooled():
    """A server of its own: the poolers here keep server connections open for the session."""
    with running(lambda: servers.PostgresServer("pooled", max_connections=30).start()) as server:
        yield server


@pytest.fixture(scope="session")
def bouncers(pg_pooled):
    factories = {
        name: (
            lambda name=name, mode=mode, size=size, extra=extra: servers.PgBouncer(
                pg_pooled,
                pool_mode=mode,
                default_pool_size=size,
                settings=extra,
                name=f"pgbouncer-{name}",
            ).start()
        )
        for name, (mode, size, extra, _) in CONFIGS.items()
    }
    with running_all(factories) as started:
        yield started


@pytest.fixture(scope="session")
def pgpool(pg_pooled):
    with running(lambda: servers.Pgpool(pg_pooled).start()) as pool:
        yield pool


@pytest.fixture(scope="session")
def big_pool_bouncer(pg_pooled):
    """A pool larger than the server allows (PG204 must fail)."""
    with running(
        lambda: servers.PgBouncer(
            pg_pooled, pool_mode="transaction", default_pool_size=40, name="pgbouncer-big"
        ).start()
    ) as bouncer:
        yield bouncer


def admin_rows(bouncer, command: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(bouncer.admin_url(), autocommit=True) as conn:
        return conn.execute(command).fetchall()


@pytest.mark.parametrize("name", list(CONFIGS))
def test_pool_mode_detected_and_stable(bouncers, pg_pooled, name):
    bouncer, expected = bouncers[name], CONFIGS[name][3]
    target = parse_target(bouncer.url())
    verdicts = set()
    for _ in range(20):
        facts = postgres.gather(target, timeout=5)
        pooler = facts["pooler"]
        verdicts.add((pooler["detected"], pooler["kind"], pooler["pool_mode"]))
        assert facts["probe"]["connections_opened"] <= 2
    assert verdicts == {(True, "pgbouncer", expected)}
    # Nothing left behind: no client in PgBouncer, no open transaction on the server.
    # (A client queued behind a full session pool is let go as soon as the pooler reads
    # its Terminate, which it does once a server frees up: allow a moment.)
    deadline = time.monotonic() + 5
    while (
        clients := [r for r in admin_rows(bouncer, "SHOW CLIENTS") if r[1] != "pgb_admin"]
    ) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert clients == []
    in_tx = pg_pooled.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE usename = 'app' "
        "AND state LIKE 'idle in transaction%'"
    )
    assert in_tx == "0"


def test_pgpool_detected_by_show_pool_version(pgpool):
    r = run_advisor("probe", pgpool.url(), "--format", "json")
    pooler = json.loads(r.stdout)["facts"]["pooler"]
    assert pooler["detected"] is True and pooler["kind"] == "pgpool-ii"
    assert pooler["pool_mode"] == "session"
    assert any("pool_version" in e for e in pooler["evidence"])


def test_admin_console_facts_feed_the_checks(bouncers):
    bouncer = bouncers["transaction-3"]
    r = run_advisor(
        "probe",
        bouncer.url(),
        "--format",
        "json",
        "--orm",
        "prisma",
        "--pooler-admin-url",
        bouncer.admin_url(),
    )
    report = json.loads(r.stdout)
    pooler = report["facts"]["pooler"]
    admin = pooler["admin"]
    assert pooler["kind"] == "pgbouncer" and admin["version"].startswith("PgBouncer 1.")
    assert admin["settings"]["default_pool_size"] == 3
    assert admin["settings"]["pool_mode"] == "transaction"
    assert admin["settings"]["max_client_conn"] == 100
    assert admin["clients_waiting"] == 0
    findings = {f["id"]: f for f in report["findings"]}
    # Debian's PgBouncer 1.18 cannot track prepared statements: Prisma needs pgbouncer=true.
    # The stack is named, so STK101 judges it (PG203's generic advice steps aside).
    assert "PG203" not in findings
    assert findings["STK101"]["status"] == "fail", findings["STK101"]
    assert 'prepared statement "s0"' in findings["STK101"]["message"]
    assert "pgbouncer=true" in findings["STK101"]["message"]
    assert findings["PG204"]["status"] == "pass"
    assert findings["PG205"]["status"] == "pass"
    with_flag = json.loads(
        run_advisor(
            "probe",
            bouncer.url(pgbouncer="true"),
            "--format",
            "json",
            "--orm",
            "prisma",
            "--pooler-admin-url",
            bouncer.admin_url(),
        ).stdout
    )
    assert {f["id"]: f for f in with_flag["findings"]}["STK101"]["status"] == "pass"


def test_pool_bigger_than_server_fails(big_pool_bouncer, pg_pooled):
    r = run_advisor(
        "probe",
        big_pool_bouncer.url(),
        "--format",
        "json",
        "--pooler-admin-url",
        big_pool_bouncer.admin_url(),
    )
    pg204 = {f["id"]: f for f in json.loads(r.stdout)["findings"]}["PG204"]
    assert pg204["status"] == "fail" and "up to 40 server connections" in pg204["message"]
    assert r.returncode == 1


def test_session_mode_warns_for_serverless(bouncers):
    r = run_advisor("probe", bouncers["session-3"].url(), "--format", "json")
    findings = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    assert findings["PG202"]["status"] == "warn"
    assert findings["PG201"]["status"] == "pass"


def test_direct_url_through_pooler_fails_migrations_check(bouncers, pg_pooled):
    pooled = bouncers["transaction-3"].url()
    bad = json.loads(
        run_advisor("probe", pooled, "--format", "json", "--direct-url", pooled).stdout
    )
    good = json.loads(
        run_advisor("probe", pooled, "--format", "json", "--direct-url", pg_pooled.url()).stdout
    )
    assert {f["id"]: f for f in bad["findings"]}["PG206"]["status"] == "fail"
    assert {f["id"]: f for f in good["findings"]}["PG206"]["status"] == "pass"
    env = json.loads(
        run_advisor("probe", pooled, "--format", "json", env={"DIRECT_URL": pooled}).stdout
    )
    assert {f["id"]: f for f in env["findings"]}["PG206"]["status"] == "fail"


def test_capacity_check_uses_concurrency_and_pool_size(pg_pooled, bouncers):
    direct = json.loads(
        run_advisor(
            "probe", pg_pooled.url(), "--format", "json", "--concurrency", "10", "--pool-size", "5"
        ).stdout
    )
    pg207 = {f["id"]: f for f in direct["findings"]}["PG207"]
    assert pg207["status"] == "fail" and "10 instances x pool 5" in pg207["message"]
    small = json.loads(
        run_advisor(
            "probe", pg_pooled.url(connection_limit="1"), "--format", "json", "--concurrency", "3"
        ).stdout
    )
    assert {f["id"]: f for f in small["findings"]}["PG207"]["status"] == "pass"
    bouncer = bouncers["transaction-3"]
    pooled = json.loads(
        run_advisor(
            "probe",
            bouncer.url(),
            "--format",
            "json",
            "--concurrency",
            "50",
            "--pool-size",
            "5",
            "--pooler-admin-url",
            bouncer.admin_url(),
        ).stdout
    )
    pg207 = {f["id"]: f for f in pooled["findings"]}["PG207"]
    assert pg207["status"] == "fail" and "max_client_conn is 100" in pg207["message"]
