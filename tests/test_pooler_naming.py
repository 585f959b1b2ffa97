"""The pooler named from the client side (issue 18, part 1): live PgBouncer 1.18 in each
mode and pgpool-II, stand-ins for the poolers the tests cannot run (tests/support/
fakepoolers.py, each citing the source it follows), and no pooler for a plain server,
direct or behind a TCP forward. No admin console, no server connection of its own."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from advisor.facts import postgres
from advisor.facts.model import pgbouncer_like
from advisor.facts.pooler import name_pooler
from advisor.target import parse_target
from tests.support import fakepoolers, servers
from tests.support.cli import run_advisor
from tests.support.live import running, running_all

RUNS = 20
SCHEMA = json.loads((Path(__file__).parent.parent / "advisor/schema/report-v1.json").read_text())


@pytest.fixture(scope="module")
def pg_named():
    with running(lambda: servers.PostgresServer("named", max_connections=30).start()) as server:
        yield server


@pytest.fixture(scope="module")
def bouncers(pg_named):
    factories = {
        mode: (
            lambda mode=mode: servers.PgBouncer(
                pg_named, pool_mode=mode, default_pool_size=2, name=f"pgbouncer-named-{mode}"
            ).start()
        )
        for mode in ("transaction", "session", "statement")
    }
    with running_all(factories) as started:
        yield started


def _verdicts(url: str, runs: int = RUNS) -> tuple[set, list[dict]]:
    target = parse_target(url)
    seen, all_facts = set(), []
    for _ in range(runs):
        facts = postgres.gather(target, timeout=5)
        pooler = facts["pooler"]
        seen.add((pooler["detected"], pooler["kind"], pooler["pool_mode"]))
        # The probe's own two logins at most; the naming login reaches no server.
        assert facts["probe"]["connections_opened"] <= 2
        all_facts.append(facts)
    return seen, all_facts


@pytest.mark.live
@pytest.mark.parametrize("mode", ["transaction", "session", "statement"])
def test_live_pgbouncer_named_without_admin_console(bouncers, pg_named, mode):
    bouncer = bouncers[mode]
    log_before = pg_named.log_size()
    seen, all_facts = _verdicts(bouncer.url())
    assert seen == {(True, "pgbouncer", mode)}
    for facts in all_facts:
        pooler = facts["pooler"]
        assert "admin" not in pooler
        # PgBouncer's own answers: the console's "not allowed" (src/admin.c
        # admin_post_login) or the statement-mode refusal (src/client.c).
        assert any(
            "'not allowed'" in e or "statement mode" in e for e in pooler["identified_by"]
        ), pooler
        if any("is negative" in e for e in pooler["identified_by"]):
            # 1.18 still hands out negative PIDs (positive since 1.21, PR #945).
            assert pooler["version"] == "< 1.21"
    # The login to database "pgbouncer" never reached PostgreSQL.
    assert "database=pgbouncer" not in pg_named.log_since(log_before)
    assert 'database "pgbouncer"' not in pg_named.log_since(log_before)


@pytest.mark.live
def test_live_pgpool_named(pg_named):
    with running(lambda: servers.Pgpool(pg_named).start()) as pool:
        seen, all_facts = _verdicts(pool.url(), runs=5)
    assert seen == {(True, "pgpool-ii", "session")}
    pooler = all_facts[0]["pooler"]
    assert pooler["version"][:1].isdigit()
    assert any("pool_version" in e for e in pooler["identified_by"])


@pytest.mark.live
def test_plain_server_and_forward_are_no_pooler(pg_named):
    with running(lambda: servers.Forwarder(pg_named.port).start()) as fwd:
        for url in (pg_named.url(), pg_named.url(port=fwd.port)):
            seen, all_facts = _verdicts(url)
            assert seen == {(False, None, None)}, url
            assert "identified_by" not in all_facts[0]["pooler"]


STAND_INS = {
    # kind: (factory, the evidence line that must name it)
    "supavisor": (fakepoolers.supavisor, "application_name is 'Supavisor'"),
    "pgcat": (fakepoolers.pgcat, "SHOW PRIMARY READS was answered"),
    "pgdog": (fakepoolers.pgdog, "PgDog's own wording"),
    "odyssey": (fakepoolers.odyssey, "the prefix Odyssey puts on every error"),
}


@pytest.fixture(scope="module")
def stand_ins():
    with running_all({kind: factory for kind, (factory, _) in STAND_INS.items()}) as fakes:
        yield fakes


@pytest.mark.parametrize("kind", list(STAND_INS))
def test_stand_in_named(stand_ins, kind):
    fake, needle = stand_ins[kind], STAND_INS[kind][1]
    before = len(fake.logins)
    seen, all_facts = _verdicts(f"postgresql://app:pw@127.0.0.1:{fake.port}/app")
    assert seen == {(True, kind, "transaction")}
    assert all(any(needle in e for e in f["pooler"]["identified_by"]) for f in all_facts)
    logins = fake.logins[before:]
    # Two client logins per probe; the console login only where nothing cheaper named it.
    extra = [db for db in logins if db != "app"]
    assert len(logins) == RUNS * 2 + len(extra)
    assert extra == (["pgbouncer"] * RUNS if kind in ("pgdog", "odyssey") else [])


@pytest.mark.parametrize("kind", list(fakepoolers.PROVIDER_HOSTS))
def test_provider_pooler_named_by_host(kind):
    fake, host = fakepoolers.provider(kind)
    try:
        address, port = fake.sock.getsockname()
        url = f"postgresql://app:pw@{host}:{port}/app?hostaddr={address}&sslmode=disable"
        seen, all_facts = _verdicts(url)
    finally:
        fake.stop()
    assert seen == {(True, kind, "transaction")}
    assert any("provider catalog" in e for e in all_facts[0]["pooler"]["identified_by"])
    assert pgbouncer_like(kind) == (kind in ("azure-pgbouncer", "neon"))


def test_candidates_when_nothing_names_it():
    named = name_pooler({"pids": [123456789], "app_sent": "advisor", "app_seen": "advisor"})
    assert named["kind"] == "unknown"
    assert {c["kind"] for c in named["candidates"]} == {"pgbouncer", "pgcat", "odyssey"}
    # A SHOW the server behind the pooler rejected is told from one the pooler refused.
    shows = {
        "SHOW PRIMARY READS": {"error": "x", "from_server": True},
        "SHOW pgdog.shards": {"error": "y", "from_server": False},
    }
    quiet = name_pooler({"pids": [123456789], "app_seen": "advisor", "shows": shows})
    assert quiet["kind"] == "unknown"
    assert "pgcat" not in {c["kind"] for c in quiet["candidates"]}
    assert any("by PostgreSQL behind the pooler" in e for e in quiet["identified_by"])
    assert any("by the pooler itself" in e for e in quiet["identified_by"])
    pooler_schema = SCHEMA["properties"]["facts"]["properties"]["pooler"]
    pooler = {"detected": True, "pool_mode": "transaction", "evidence": [], **named}
    jsonschema.validate(pooler, pooler_schema)
    # A catalog host alone does not make a plain server a pooler (facts.pooler.detected
    # stays as measured): identify() returns before naming when nothing was detected.


@pytest.mark.live
def test_reports_show_the_name(bouncers):
    r = run_advisor("probe", bouncers["transaction"].url(), "--format", "json")
    report = json.loads(r.stdout)
    jsonschema.validate(report, SCHEMA)
    pooler = report["facts"]["pooler"]
    assert pooler["kind"] == "pgbouncer" and pooler["identified_by"]
    text = run_advisor("probe", bouncers["transaction"].url()).stdout
    assert "pooler    pgbouncer" in text and "identified by" in text
    md = run_advisor("probe", bouncers["transaction"].url(), "--format", "markdown").stdout
    assert "pgbouncer" in md and "identified by" in md


@pytest.mark.live
def test_old_pgbouncer_from_its_cancel_key_feeds_pg203(bouncers):
    """PgBouncer 1.18's negative cancel-key PID dates it before 1.21: PG203 then knows that
    named prepared statements break, without the admin console (and without measuring:
    --no-session-features, since a measurement takes precedence). (A run whose PIDs all
    came out positive knows no version: PG203 stays at its generic warning.)"""
    for _ in range(RUNS):
        r = run_advisor(
            "probe", bouncers["transaction"].url(), "--format", "json", "--no-session-features"
        )
        report = json.loads(r.stdout)
        pooler = report["facts"]["pooler"]
        pg203 = next(f for f in report["findings"] if f["id"] == "PG203")
        if pooler.get("version") == "< 1.21":
            assert "before 1.21" in pg203["message"], pg203
            return
        assert pg203["status"] == "warn"
    pytest.fail("20 probes without a negative cancel-key PID (each has a 1-in-2 chance)")


def test_own_server_version_names_pgdog():
    # pgdog/src/net/messages/parameter_status.rs: "<version> (PgDog)" on its own logins.
    named = name_pooler({"pids": [3], "ps_server_version": "0.1.30 (PgDog)"})
    assert named["kind"] == "pgdog" and "PgDog's own" in named["identified_by"][-1]


# -- MySQL -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, kind, needle",
    [
        # ProxySQL answers `select @@version_comment limit 1` itself (lib/MySQL_Session.cpp
        # SELECT_VERSION_COMMENT, github.com/sysown/proxysql).
        ("proxysql", "proxysql", "ProxySQL answers that statement itself"),
        # MaxScale's login OK packet carries connection_metadata, maxscale=<version>
        # (server/core/listener.cc, mariadb_common.cc create_ok_packet;
        # github.com/mariadb-corporation/MaxScale).
        ("maxscale", "maxscale", "MaxScale's connection metadata"),
    ],
)
def test_mysql_proxy_stand_ins_named(mode, kind, needle):
    from advisor.facts import mysql
    from tests.support.fakemysql import MAXSCALE_VERSION, FakeMySQL

    fake = FakeMySQL(mode)
    try:
        target = parse_target(fake.url("pw"))
        seen = set()
        for _ in range(RUNS):
            facts = mysql.gather(target, timeout=5)
            pooler = facts["pooler"]
            seen.add((pooler["detected"], pooler["kind"]))
            assert any(needle in e for e in pooler["identified_by"])
            assert facts["probe"]["connections_opened"] == 1
        assert fake.connections == RUNS  # one login per probe, nothing more
    finally:
        fake.stop()
    assert seen == {(True, kind)}
    if kind == "maxscale":
        assert pooler["version"] == MAXSCALE_VERSION


def test_mysql_plain_stand_in_is_no_proxy():
    from advisor.facts import mysql
    from tests.support.fakemysql import FakeMySQL

    fake = FakeMySQL("serve")
    try:
        for _ in range(RUNS):
            pooler = mysql.gather(parse_target(fake.url("pw")), timeout=5)["pooler"]
            assert (pooler["detected"], pooler["kind"]) == (False, None)
    finally:
        fake.stop()


@pytest.mark.parametrize("ok", [b"", b"\x00", b"\x00\x00\x00\x02\x40\x00\x00\x05\xfe", b"\xff"])
def test_malformed_login_ok_packets_name_nothing(ok):
    from advisor.facts.mysql import login_variables

    assert login_variables(ok) == {}


@pytest.mark.live
def test_live_pgbouncer_124_named(trixie_root, pg_named):
    """PgBouncer 1.24 (Debian 13 root): cancel-key PIDs are always positive since 1.21
    (NEWS.md 1.21.0, PR #945), so only the console's refusal names it."""
    with running(
        lambda: servers.PgBouncer(
            pg_named, pool_mode="transaction", name="pgbouncer-named-124", root=trixie_root
        ).start()
    ) as bouncer:
        assert bouncer.version().startswith("1.24")
        seen, all_facts = _verdicts(bouncer.url())
    assert seen == {(True, "pgbouncer", "transaction")}
    for facts in all_facts:
        pooler = facts["pooler"]
        assert facts["session"]["startup_pid"] > 0 and "version" not in pooler
        assert any("'not allowed'" in e for e in pooler["identified_by"])


def test_pg203_names_the_pooler_it_cannot_judge(stand_ins):
    url = f"postgresql://app:pw@127.0.0.1:{stand_ins['pgcat'].port}/app"
    r = run_advisor("probe", url, "--format", "json", "--no-session-features")
    report = json.loads(r.stdout)
    jsonschema.validate(report, SCHEMA)
    assert report["facts"]["pooler"]["kind"] == "pgcat"
    pg203 = next(f for f in report["findings"] if f["id"] == "PG203")
    # Not PgBouncer: no advice to read a PgBouncer admin console it does not have.
    assert "pgcat: whether it keeps named prepared statements" in pg203["message"]
    assert "--pooler-admin-url" not in pg203["message"]
