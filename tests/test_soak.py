"""Soak: many probes in one process leave nothing behind, on every server kind and pooler.

The probe is called in-process (`advisor.probe.probe`, a fresh Context each time), as a
long-lived caller would. Afterwards the server, through its own views, shows no session
of the probes (a pooler keeps its own server connections, and none of them is left in a
transaction or with a prepared statement), no lock, no prepared transaction; and the
process's objects, resident memory, open files and threads have not grown between the
first mark and the last (bounds in bench/soak.py). The bench runs 1,000 probes per
kind (docs/contributors/performance.md, "Soak"), about 90 s in all; here 200 per kind, about 17 s.
"""

from __future__ import annotations

import logging

import pytest

from bench import soak
from tests.support import servers, servers_mysql
from tests.support.live import running

pytestmark = pytest.mark.live
PROBES, FIRST_MARK = 200, 50


@pytest.fixture(scope="module", autouse=True)
def quiet_logger():
    """The probes' memory, not pytest's: with the `advisor` logger at DEBUG (left so by an
    earlier in-process test), pytest's log capture would keep every record of 200 probes."""
    logger = logging.getLogger("advisor")
    level = logger.level
    logger.setLevel(logging.WARNING)
    yield
    logger.setLevel(level)


@pytest.fixture(scope="module")
def bouncer_session(pg_plain):
    with running(
        lambda: servers.PgBouncer(
            pg_plain, pool_mode="session", default_pool_size=2, name="pgbouncer-soak"
        ).start()
    ) as bouncer:
        yield bouncer


@pytest.fixture(scope="module")
def pgpool(pg_plain):
    with running(lambda: servers.Pgpool(pg_plain, num_init_children=2).start()) as pool:
        yield pool


@pytest.fixture(scope="module")
def maria():
    with running(lambda: servers_mysql.MariaDBServer("soak").start()) as server:
        yield server


def probes(url: str) -> dict:
    run = soak.run_probes(url, PROBES, FIRST_MARK)
    assert run["failed"] == 0, run["errors"]
    assert soak.memory_stable(run), {k: v for k, v in run.items() if k.endswith("_growth")}
    return run


def test_postgres_direct(pg_plain):
    name = "advisor-soak-direct"
    probes(soak.soak_url(pg_plain.url(), name))
    left = soak.pg_leftovers(pg_plain, name)
    assert soak.problems(left) == [], (soak.problems(left), left)


def test_pgbouncer_transaction_mode(pg_plain, pgbouncer_txn):
    name = "advisor-soak-txn"
    probes(soak.soak_url(pgbouncer_txn.url(), name))
    left = soak.pgbouncer_leftovers(pg_plain, pgbouncer_txn, name)
    assert soak.problems(left) == [], (soak.problems(left), left)
    assert 1 <= left["pool_servers"] <= pgbouncer_txn.default_pool_size


def test_pgbouncer_session_mode(pg_plain, bouncer_session):
    name = "advisor-soak-session"
    probes(soak.soak_url(bouncer_session.url(), name))
    left = soak.pgbouncer_leftovers(pg_plain, bouncer_session, name)
    assert soak.problems(left) == [], (soak.problems(left), left)
    assert 1 <= left["pool_servers"] <= bouncer_session.default_pool_size


def test_pgpool(pg_plain, pgpool):
    name = "advisor-soak-pgpool"
    probes(soak.soak_url(pgpool.url(), name))
    left = soak.pgpool_leftovers(pg_plain, pgpool, name)
    assert soak.problems(left) == [], (soak.problems(left), left)
    assert left["pool_servers"] <= pgpool.children


def test_mariadb(maria):
    probes(maria.url())
    left = soak.mariadb_leftovers(maria)
    assert soak.problems(left) == [], (soak.problems(left), left)
