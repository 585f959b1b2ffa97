"""facts.session_features, live: direct, through a TCP forward, pgpool-II, PgBouncer 1.18 in
transaction (pool of 1, and 2 with round robin), session and statement mode, and PgBouncer
1.24 (a Debian 13 root, tests/support/trixie.py) with max_prepared_statements 200 and 0.

What must hold: the measured answer for protocol prepared statements follows what the pooler
really does (1.24 with tracking renames the statement, 1.18 and 1.24 with 0 do not), the
session-bound features follow the pool mode, twenty runs never flip, the measurement opens at
most one connection of its own (the raw startup-parameter probe, never direct to PostgreSQL),
and nothing is left behind on any server connection.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from advisor.facts import postgres
from advisor.target import parse_target
from tests.support import servers
from tests.support.live import running_all

SESSION_BOUND = (
    "sql_prepare",
    "session_set",
    "advisory_lock",
    "listen_notify",
    "with_hold_cursors",
)
RUNS = 20


def url(port: int) -> str:
    return f"postgresql://app:{servers.PASSWORD}@127.0.0.1:{port}/app"


@pytest.fixture(scope="module")
def endpoints(pg_plain, pgbouncer_txn, forwarder, trixie_root):
    """name -> (port, expected protocol_prepared_statements, expected session-bound, mode)."""
    root = trixie_root

    def bouncer(mode, size=2, settings=None, root=None):
        return lambda: servers.PgBouncer(
            pg_plain, pool_mode=mode, default_pool_size=size, settings=settings, root=root
        ).start()

    factories = {
        "txn-1": bouncer("transaction", size=1),
        "txn-2-rr": bouncer("transaction", settings={"server_round_robin": 1}),
        "session": bouncer("session"),
        "statement": bouncer("statement"),
        "pgpool": lambda: servers.Pgpool(pg_plain, num_init_children=2).start(),
        "1.24-txn-200": bouncer(
            "transaction", settings={"max_prepared_statements": 200}, root=root
        ),
        "1.24-txn-0": bouncer("transaction", settings={"max_prepared_statements": 0}, root=root),
        "1.24-txn-1": bouncer("transaction", size=1, root=root),  # 1.24's default: tracking on
        "ignore-options": bouncer("transaction", settings={"ignore_startup_parameters": "options"}),
    }
    with running_all(factories) as started:
        p = {name: s.port for name, s in started.items()}
        yield {
            "direct": (pg_plain.port, True, True, None),
            "forward": (forwarder.port, True, True, None),
            "pgbouncer-txn": (pgbouncer_txn.port, False, False, "transaction"),
            "txn-1": (p["txn-1"], False, False, "transaction"),
            "txn-2-rr": (p["txn-2-rr"], False, False, "transaction"),
            "session": (p["session"], True, True, "session"),
            "statement": (p["statement"], False, False, "statement"),
            "pgpool": (p["pgpool"], True, True, "session"),
            "1.24-txn-200": (p["1.24-txn-200"], True, False, "transaction"),
            "1.24-txn-0": (p["1.24-txn-0"], False, False, "transaction"),
            "1.24-txn-1": (p["1.24-txn-1"], True, False, "transaction"),
            "ignore-options": (p["ignore-options"], False, False, "transaction"),
        }


def gather(port: int, session_features: bool = True) -> dict:
    return postgres.gather(parse_target(url(port)), 10, session_features=session_features)


def test_every_endpoint_answers_as_the_pooler_behaves(endpoints):
    for name, (port, prepared, session_bound, mode) in endpoints.items():
        facts = gather(port)
        assert facts["pooler"]["pool_mode"] == mode, name
        features = facts["session_features"]
        assert set(features) == {"protocol_prepared_statements", *SESSION_BOUND}, name
        ps = features["protocol_prepared_statements"]
        assert (ps["works"], ps["how"]) == (prepared, "measured"), (name, ps)
        if name.startswith("1.24") and prepared:
            assert re.search(r"renamed .* to PGBOUNCER_\d+", ps["evidence"]), (name, ps)
        for feature in SESSION_BOUND:
            got = features[feature]
            assert (got["works"], got["how"]) == (session_bound, "inferred"), (name, feature)
            assert got["evidence"] and len(got["evidence"]) <= 300


def test_twenty_runs_never_flip(endpoints):
    for name in ("txn-1", "txn-2-rr", "1.24-txn-200", "1.24-txn-0", "session", "direct"):
        port = endpoints[name][0]
        seen = {
            tuple(sorted((k, v["works"]) for k, v in gather(port)["session_features"].items()))
            for _ in range(RUNS)
        }
        assert len(seen) == 1, (name, seen)


def test_at_most_one_connection_of_its_own(endpoints, pg_plain):
    """The issue's budget: one client connection beyond pool-mode detection's (the raw
    startup-parameter probe, which never logs in); none at all direct to PostgreSQL."""
    for name in ("direct", "pgbouncer-txn", "1.24-txn-200", "statement", "ignore-options"):
        port = endpoints[name][0]
        with_features, without = gather(port), gather(port, session_features=False)
        extra = name != "direct"
        assert (
            with_features["probe"]["connections_opened"]
            == without["probe"]["connections_opened"] + extra
        ), name
        assert "session_features" not in without
    offset = pg_plain.log_size()
    gather(endpoints["direct"][0])
    assert (
        len(re.findall(r"connection received: host=127\.0\.0\.1", pg_plain.log_since(offset))) == 1
    )


def _server_state(pg_plain) -> dict:
    """What the probe could leave on the server, seen directly (a superuser session)."""
    locks = pg_plain.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")
    busy = pg_plain.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' "
        "AND state IS DISTINCT FROM 'idle' AND backend_type = 'client backend'"
    )
    return {"advisory_locks": int(locks), "busy_sessions": int(busy)}


def test_nothing_is_left_behind(endpoints, pg_plain):
    for name, (port, *_rest) in endpoints.items():
        for _ in range(3):
            gather(port)
        # Every server connection behind this endpoint: sample many transactions, each
        # asks the server it runs on for statements the probe prepared under its name. (A
        # pooler that tracks statements keeps its own copy, PGBOUNCER_<n>, in its cache, as
        # it does for every client: that cache is the pooler's, and the probe leaves it be;
        # one fixed text keeps it at one copy per server connection, however many probes.)
        leftovers, copies = set(), 0
        with psycopg.connect(url(port), autocommit=True, prepare_threshold=None) as conn:
            for _ in range(12):
                rows = conn.execute(
                    "SELECT name FROM pg_catalog.pg_prepared_statements "
                    "WHERE statement LIKE '%advisor_session_probe%'"
                ).fetchall()
                leftovers |= {r[0] for r in rows if r[0].startswith("advisor_probe")}
                copies = max(copies, len(rows))
        assert not leftovers, (name, leftovers)
        assert copies <= 1, (name, copies)
        assert _server_state(pg_plain) == {"advisory_locks": 0, "busy_sessions": 0}, name


# What each endpoint does with the startup parameters (tests/test_startup_params.py has
# more PgBouncer settings and checks each answer against a real client). The raw probe
# sends extra_float_digits, search_path and options in that order and the pooler stops at
# the first it refuses; these PgBouncers ignore extra_float_digits (servers.PgBouncer's
# default) and refuse search_path, except "ignore-options", whose list names only options.
HONOURS = dict.fromkeys(
    ("options", "search_path", "extra_float_digits", "application_name"), "honours"
)
REFUSES_SEARCH_PATH = {
    "options": None,
    "search_path": "rejects",
    "extra_float_digits": None,
    "application_name": "honours",
}
STARTUP = {
    "direct": HONOURS,
    "forward": HONOURS,
    "pgbouncer-txn": REFUSES_SEARCH_PATH,
    "session": REFUSES_SEARCH_PATH,
    "statement": REFUSES_SEARCH_PATH,
    "1.24-txn-200": REFUSES_SEARCH_PATH,
    "ignore-options": {
        "options": None,
        "search_path": None,
        "extra_float_digits": "rejects",
        "application_name": "honours",
    },
    "pgpool": dict.fromkeys(HONOURS, None),  # not probed: pgpool-II hands the packet on
}


def test_startup_parameters(endpoints, pg_plain):
    for name, expected in STARTUP.items():
        port = endpoints[name][0]
        offset = pg_plain.log_size()
        facts = gather(port)
        got = {k: v["accepted"] for k, v in facts["startup_parameters"].items()}
        assert got == expected, (name, facts["startup_parameters"])
        assert all(v["evidence"] for v in facts["startup_parameters"].values())
        # Never a failed authentication: a refused parameter is refused before or after a
        # login with the right password, and the retry logs in without it.
        log = pg_plain.log_since(offset)
        assert "password authentication failed" not in log, name


def test_mysql_features_follow_the_proxy_seen():
    """MySQL's session state through each kind of proxy (advisor/facts/session.py): kept by
    the server itself, pinned by ProxySQL and RDS Proxy, not known behind another proxy."""
    from advisor.facts.session import MYSQL_STATE, mysql_features

    direct = mysql_features(False, None)
    assert set(direct) == set(MYSQL_STATE) and all(v["works"] for v in direct.values())
    for kind in ("proxysql", "rds-proxy"):
        pinned = mysql_features(True, kind)
        assert all(v["works"] is True for v in pinned.values())
        assert all("unpooled" in v["evidence"] for v in pinned.values())
    assert all(v["works"] is None for v in mysql_features(True, "vitess").values())


def test_separate_startup_parameters_from_the_admin_console(pg_plain):
    """With --pooler-admin-url, search_path and extra_float_digits as startup parameters of
    their own follow PgBouncer's settings; asyncpg, which sends them that way
    (server_settings), shows that the answer is what a real client meets."""
    import asyncio

    import asyncpg

    from advisor.checks import Context
    from advisor.probe import probe

    settings = {"ignore_startup_parameters": "extra_float_digits"}
    with running_all(
        {"b": lambda: servers.PgBouncer(pg_plain, settings=settings).start()}
    ) as started:
        bouncer = started["b"]
        report = probe(
            parse_target(bouncer.url()), Context(), admin_target=parse_target(bouncer.admin_url())
        )
        found = report.facts["startup_parameters"]
        assert (found["search_path"]["accepted"], found["search_path"]["how"]) == (
            "rejects",
            "inferred",
        )
        assert found["extra_float_digits"]["accepted"] == "ignores"
        assert found["application_name"]["accepted"] == "honours"  # still as measured

        async def connect(name: str, value: str):
            conn = await asyncpg.connect(bouncer.url(), server_settings={name: value})
            try:
                return await conn.fetchval(f"SHOW {name}")
            finally:
                await conn.close()

        def run(coro):
            """In a thread of its own: the session's browser keeps an event loop running here."""
            with ThreadPoolExecutor(1) as pool:
                return pool.submit(asyncio.run, coro).result()

        with pytest.raises(Exception, match="unsupported startup parameter: search_path"):
            run(connect("search_path", "pg_catalog"))
        assert run(connect("extra_float_digits", "2")) == "1"  # dropped: the default
