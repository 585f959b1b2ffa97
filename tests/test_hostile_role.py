"""A hostile role cannot make the advisor run its code: nothing is written, anywhere.

On a real PostgreSQL, role `app` gets, in database `trapdb`, a search_path that puts its
own schema `trap` first. `trap` holds a function, aggregate, operator or view named like
every built-in the advisor's statements use (pg_backend_pid, current_setting, count(*),
`=` on text, name and int, pg_stat_activity, ...); each records its call in `trap.hits`.
The advisor's statements, run bare (no transaction block, so no pinned search_path),
reach no trap. The probe then runs directly, through PgBouncer in transaction, session
and statement mode (so pool-mode detection runs too), with the admin console and a
direct URL, through pgpool-II, and as a burst: `trap.hits` stays empty. A trap
called inside the probe's read-only transaction could not insert, but would fail the
probe: so each run must also succeed.
"""

from __future__ import annotations

import json

import psycopg
import pytest

from advisor.facts import pooler, postgres, session, workload
from tests.support import servers
from tests.support.cli import run_advisor
from tests.support.live import running_all

pytestmark = pytest.mark.live
DB = "trapdb"

# trap name -> a statement that reaches it when the built-in's name is written unqualified
TRAPS = {
    "pg_backend_pid": "SELECT pg_backend_pid()",
    "current_setting": "SELECT current_setting('server_version')",
    "current_setting/2": "SELECT current_setting('ssl', true)",
    "inet_server_port": "SELECT inet_server_port()",
    "inet_server_addr": "SELECT inet_server_addr()",
    "host": "SELECT host('127.0.0.1'::inet)",
    "current_database": "SELECT current_database()",
    "count": "SELECT count(*) FROM (VALUES (1)) v",
    "= text": "SELECT 'a'::text = 'b'",
    "= name": "SELECT current_user = 'x'::name",
    "= int": "SELECT 1 = 2",
    "pg_stat_activity": "SELECT 1 FROM pg_stat_activity LIMIT 1",
    "pg_roles": "SELECT 1 FROM pg_roles LIMIT 1",
    "pg_database": "SELECT 1 FROM pg_database LIMIT 1",
    "pg_stat_ssl": "SELECT 1 FROM pg_stat_ssl LIMIT 1",
    # advisor audit's statements (facts/workload.py)
    "now": "SELECT now()",
    "date_part": "SELECT date_part('epoch', '1 hour'::interval)",
    "max": "SELECT max(x) FROM (VALUES (1.0::float8)) v(x)",
    "sum": "SELECT sum(x) FROM (VALUES (1)) v(x)",
    "starts_with": "SELECT starts_with('ab', 'a')",
    "- timestamptz": "SELECT '2020-01-02'::timestamptz - '2020-01-01'::timestamptz",
    "<> oid": "SELECT 1::oid <> 2::oid",
    "pg_locks": "SELECT 1 FROM pg_locks LIMIT 1",
    "pg_class": "SELECT 1 FROM pg_class LIMIT 1",
    "pg_namespace": "SELECT 1 FROM pg_namespace LIMIT 1",
    "pg_extension": "SELECT 1 FROM pg_extension LIMIT 1",
}

SETUP = r"""
CREATE SCHEMA trap AUTHORIZATION app;
CREATE TABLE trap.hits (name text, query text);
GRANT INSERT ON trap.hits TO app;
CREATE FUNCTION trap.hit(what text) RETURNS boolean LANGUAGE sql AS $$
  INSERT INTO trap.hits VALUES (what, pg_catalog.current_query()); SELECT true $$;
CREATE FUNCTION trap.pg_backend_pid() RETURNS int LANGUAGE sql AS
  $$ SELECT trap.hit('pg_backend_pid'); SELECT pg_catalog.pg_backend_pid() $$;
CREATE FUNCTION trap.current_setting(text) RETURNS text LANGUAGE sql AS
  $$ SELECT trap.hit('current_setting'); SELECT pg_catalog.current_setting($1) $$;
CREATE FUNCTION trap.current_setting(text, boolean) RETURNS text LANGUAGE sql AS
  $$ SELECT trap.hit('current_setting/2'); SELECT pg_catalog.current_setting($1, $2) $$;
CREATE FUNCTION trap.inet_server_port() RETURNS int LANGUAGE sql AS
  $$ SELECT trap.hit('inet_server_port'); SELECT pg_catalog.inet_server_port() $$;
CREATE FUNCTION trap.inet_server_addr() RETURNS inet LANGUAGE sql AS
  $$ SELECT trap.hit('inet_server_addr'); SELECT pg_catalog.inet_server_addr() $$;
CREATE FUNCTION trap.host(inet) RETURNS text LANGUAGE sql AS
  $$ SELECT trap.hit('host'); SELECT pg_catalog.host($1) $$;
CREATE FUNCTION trap.current_database() RETURNS name LANGUAGE sql AS
  $$ SELECT trap.hit('current_database'); SELECT pg_catalog.current_database() $$;
CREATE FUNCTION trap.count_step(bigint) RETURNS bigint LANGUAGE sql AS
  $$ SELECT trap.hit('count'); SELECT $1 OPERATOR(pg_catalog.+) 1 $$;
CREATE AGGREGATE trap.count(*) (SFUNC = trap.count_step, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION trap.text_eq(text, text) RETURNS boolean LANGUAGE sql AS
  $$ SELECT trap.hit('= text'); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR trap.= (LEFTARG = text, RIGHTARG = text, FUNCTION = trap.text_eq);
CREATE FUNCTION trap.name_eq(name, name) RETURNS boolean LANGUAGE sql AS
  $$ SELECT trap.hit('= name'); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR trap.= (LEFTARG = name, RIGHTARG = name, FUNCTION = trap.name_eq);
CREATE FUNCTION trap.int_eq(int, int) RETURNS boolean LANGUAGE sql AS
  $$ SELECT trap.hit('= int'); SELECT $1 OPERATOR(pg_catalog.=) $2 $$;
CREATE OPERATOR trap.= (LEFTARG = int, RIGHTARG = int, FUNCTION = trap.int_eq);
CREATE VIEW trap.pg_stat_activity AS
  SELECT * FROM pg_catalog.pg_stat_activity WHERE trap.hit('pg_stat_activity');
CREATE VIEW trap.pg_roles AS SELECT * FROM pg_catalog.pg_roles WHERE trap.hit('pg_roles');
CREATE VIEW trap.pg_database AS SELECT * FROM pg_catalog.pg_database WHERE trap.hit('pg_database');
CREATE VIEW trap.pg_stat_ssl AS SELECT * FROM pg_catalog.pg_stat_ssl WHERE trap.hit('pg_stat_ssl');
CREATE FUNCTION trap.now() RETURNS timestamptz LANGUAGE sql AS
  $$ SELECT trap.hit('now'); SELECT pg_catalog.now() $$;
CREATE FUNCTION trap.date_part(text, interval) RETURNS double precision LANGUAGE sql AS
  $$ SELECT trap.hit('date_part'); SELECT pg_catalog.date_part($1, $2) $$;
CREATE FUNCTION trap.max_step(float8, float8) RETURNS float8 LANGUAGE sql AS
  $$ SELECT trap.hit('max'); SELECT $2 $$;
CREATE AGGREGATE trap.max(float8) (SFUNC = trap.max_step, STYPE = float8);
CREATE FUNCTION trap.sum_step(bigint, int) RETURNS bigint LANGUAGE sql AS
  $$ SELECT trap.hit('sum'); SELECT $1 OPERATOR(pg_catalog.+) $2 $$;
CREATE AGGREGATE trap.sum(int) (SFUNC = trap.sum_step, STYPE = bigint, INITCOND = '0');
CREATE FUNCTION trap.starts_with(text, text) RETURNS boolean LANGUAGE sql AS
  $$ SELECT trap.hit('starts_with'); SELECT pg_catalog.starts_with($1, $2) $$;
CREATE FUNCTION trap.tstz_mi(timestamptz, timestamptz) RETURNS interval LANGUAGE sql AS
  $$ SELECT trap.hit('- timestamptz'); SELECT $1 OPERATOR(pg_catalog.-) $2 $$;
CREATE OPERATOR trap.- (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = trap.tstz_mi);
CREATE FUNCTION trap.oid_ne(oid, oid) RETURNS boolean LANGUAGE sql AS
  $$ SELECT trap.hit('<> oid'); SELECT $1 OPERATOR(pg_catalog.<>) $2 $$;
CREATE OPERATOR trap.<> (LEFTARG = oid, RIGHTARG = oid, FUNCTION = trap.oid_ne);
CREATE VIEW trap.pg_locks AS SELECT * FROM pg_catalog.pg_locks WHERE trap.hit('pg_locks');
CREATE VIEW trap.pg_class AS SELECT * FROM pg_catalog.pg_class WHERE trap.hit('pg_class');
CREATE VIEW trap.pg_namespace AS
  SELECT * FROM pg_catalog.pg_namespace WHERE trap.hit('pg_namespace');
CREATE VIEW trap.pg_extension AS
  SELECT * FROM pg_catalog.pg_extension WHERE trap.hit('pg_extension');
GRANT USAGE ON SCHEMA trap TO app;
GRANT SELECT ON ALL TABLES IN SCHEMA trap TO app;
"""


@pytest.fixture(scope="module")
def trapped(pg_plain):
    pg_plain.psql(f"CREATE DATABASE {DB} OWNER app")
    try:
        pg_plain.psql(SETUP, db=DB)
        pg_plain.psql(f"ALTER ROLE app IN DATABASE {DB} SET search_path = trap, pg_catalog, public")
        yield pg_plain
    finally:
        pg_plain.psql(f"DROP DATABASE {DB} WITH (FORCE)")


def hits(server) -> list[tuple[str, str]]:
    rows = server.psql("SELECT name || ' <- ' || query FROM trap.hits", db=DB)
    return rows.splitlines() if rows else []


@pytest.fixture(scope="module")
def poolers(trapped):
    """PgBouncer in session and statement mode, and pgpool-II, of our own (small pools:
    pg_plain is shared). Stopped side by side: each takes a while to shut down."""
    factories = {
        mode: (
            lambda mode=mode: servers.PgBouncer(
                trapped, pool_mode=mode, default_pool_size=2, name=f"pgbouncer-trap-{mode}"
            ).start()
        )
        for mode in ("session", "statement")
    }
    factories["pgpool"] = lambda: servers.Pgpool(trapped, num_init_children=2).start()
    with running_all(factories) as started:
        yield started


def probe(url: str, *args) -> dict:
    r = run_advisor("probe", url, "--format", "json", *args)
    assert r.returncode in (0, 1), r.stdout[-1500:] + r.stderr
    return json.loads(r.stdout)["facts"]


def test_nothing_the_advisor_sends_runs_the_roles_code(trapped, pgbouncer_txn, poolers):
    # The harness works: a plain session of the role, writing the built-ins' names
    # unqualified, runs every trap (and so writes).
    with psycopg.connect(trapped.url(db=DB), autocommit=True) as conn:
        for sql in TRAPS.values():
            conn.execute(sql)
    assert {row.split(" <- ")[0] for row in hits(trapped)} == set(TRAPS)
    trapped.psql("TRUNCATE trap.hits", db=DB)
    # The statements themselves name only pg_catalog's objects: even outside a transaction
    # block (where nothing pins search_path) they reach no trap.
    with psycopg.connect(trapped.url(db=DB), autocommit=True) as conn:
        # READ_BACK runs without a pinned search_path (it reads search_path itself).
        for sql in (
            postgres.FACTS_SQL,
            pooler.PID_SQL,
            session.READ_BACK,
            workload.LEDGER_SQL,
            workload.LOCKS_SQL,
            workload.TEMP_SQL,
            workload.EXTENSION_SQL,
        ):
            conn.execute(sql)
    assert hits(trapped) == [], "\n".join(hits(trapped))

    direct = probe(trapped.url(db=DB))
    assert direct["session"]["read_only"] is True and direct["pooler"]["detected"] is False
    for name, bouncer, mode in (
        ("transaction", pgbouncer_txn, "transaction"),
        ("session", poolers["session"], "session"),
        ("statement", poolers["statement"], "statement"),
    ):
        facts = probe(bouncer.url(db=DB))
        assert facts["pooler"]["pool_mode"] == mode, (name, facts["pooler"])
        assert facts["max_connections"] == 23
    facts = probe(
        pgbouncer_txn.url(db=DB),
        "--pooler-admin-url",
        pgbouncer_txn.admin_url(),
        "--direct-url",
        trapped.url(db=DB),
    )
    assert "admin" in facts["pooler"] and facts["direct"]["pooler"]["detected"] is False
    assert probe(poolers["pgpool"].url(db=DB))["pooler"]["kind"] == "pgpool-ii"
    r = run_advisor(
        "burst",
        trapped.url(db=DB),
        "--clients",
        "3",
        "--hold-ms",
        "0",
        "--yes",
        "--via-pooler",
        pgbouncer_txn.url(db=DB),
        "--format",
        "json",
        input_text="",
    )
    assert r.returncode == 0, r.stdout[-800:] + r.stderr
    assert hits(trapped) == [], "\n".join(hits(trapped))
    # advisor audit (no pg_stat_statements here: its statement reads the live catalogs)
    r = run_advisor("audit", trapped.url(db=DB), "--format", "json")
    assert r.returncode in (0, 1), r.stdout[-800:] + r.stderr
    assert json.loads(r.stdout)["facts"]["ledger"]["max_connections"] == 23
    assert hits(trapped) == [], "\n".join(hits(trapped))
