"""The soak: many probes in one process, then what the servers and the process are left with.

Shared by the bench (1,000 probes per server kind, `bench/run.py`) and the live test
(tests/test_soak.py, fewer). `run_probes` calls the probe in-process, as a long-lived
caller would (a fleet run, an agent), with a fresh Context each time, and reads the
process's objects, resident memory, open files and threads at two marks; the
`*_leftovers` functions ask each server or pooler, through its own views, what the probes
left there. Run as a script (`python bench/soak.py N FIRST_MARK`, URL in
ADVISOR_SOAK_URL) it prints run_probes as JSON: the bench runs it with the advisor as
users install it.
"""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import subprocess
import sys
import threading
import time

# What the marks may differ by (see docs/contributors/performance.md, "Soak"). The probes up to the
# first mark warm every cache (imports, the check catalog, psycopg's adapters); after it
# a probe must keep nothing. Objects: Python's count of allocated memory blocks after a
# full collection; measured, about 10 more after 900 probes (CPython's own bookkeeping).
# A probe that kept anything would keep at least one object (a str, a dict, a guard, a
# report: one block or more each), so fewer than one block per ten probes means no probe
# keeps anything. Outside Python's heap: a connection not freed keeps at least libpq's
# two 16 KiB buffers, so 1 MiB of resident memory is under 1.2 KiB a probe over 900;
# a socket not closed is an open file; a thread not ended is a thread.
# tracemalloc is not used: its own tables made resident memory grow by 0.3-0.5 MB over
# 900 probes, which is the very thing measured.
BLOCKS_PER_PROBE = 0.1
RSS_BOUND = 1024 * 1024


def _rss() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _state() -> dict:
    gc.collect()
    # CPython's attribute cache keeps up to 4,096 names looked up last, some of them
    # strings a probe made: a bounded cache, emptied before counting.
    getattr(sys, "_clear_type_cache", lambda: None)()
    return {
        "blocks": sys.getallocatedblocks(),
        "rss_bytes": _rss(),
        "open_files": len(os.listdir("/proc/self/fd")),
        "threads": threading.active_count(),
    }


def run_probes(url: str, probes: int, first_mark: int = 100, timeout: float = 10.0) -> dict:
    """`probes` probes of `url` in this process; the state at probe `first_mark` and at
    the last one."""
    from advisor import checks
    from advisor.probe import probe
    from advisor.target import parse_target

    target = parse_target(url)
    errors: dict[str, int] = {}
    marks = {}
    started = time.perf_counter()
    for i in range(1, probes + 1):
        report = probe(target, checks.Context(), timeout)
        error = report.facts.get("probe", {}).get("error")
        if error is not None:
            errors[error] = errors.get(error, 0) + 1
        del report
        if i in (first_mark, probes):
            marks[i] = _state()
    seconds = time.perf_counter() - started
    first, last = marks[first_mark], marks[probes]
    return {
        "probes": probes,
        "failed": sum(errors.values()),
        "errors": errors,
        "seconds": round(seconds, 1),
        "ms_per_probe": round(seconds / probes * 1000, 1),
        "marks": [first_mark, probes],
        "at_first_mark": first,
        "at_last_mark": last,
        **{f"{k}_growth": last[k] - first[k] for k in first},
    }


def memory_stable(run: dict) -> bool:
    between = run["marks"][1] - run["marks"][0]
    return (
        run["blocks_growth"] < BLOCKS_PER_PROBE * between
        and run["rss_bytes_growth"] < RSS_BOUND
        and run["open_files_growth"] <= 0
        and run["threads_growth"] <= 0
    )


# -- what the servers are left with -----------------------------------------------------
# Each kind's probes carry their own application_name (a URL parameter the probe keeps),
# so that sessions of other tests or of a pooler's earlier clients are not counted.


def soak_url(url: str, name: str) -> str:
    return url + ("&" if "?" in url else "?") + f"application_name={name}"


def wait_until(predicate, seconds: float = 5.0):
    """Closed connections leave the server asynchronously: poll until `predicate()` is
    falsy (returns it) or the time is up (returns the last value)."""
    deadline = time.monotonic() + seconds
    while True:
        value = predicate()
        if not value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def psql_rows(port: int, user: str, db: str, command: str) -> list[dict]:
    """One statement over TCP with psql (the simple query protocol, which PgBouncer's
    admin console and pgpool-II's SHOW commands speak), rows as dicts."""
    from tests.support.servers import PASSWORD, pg_bindir

    r = subprocess.run(
        [
            str(pg_bindir() / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-U",
            user,
            "-d",
            db,
            "-X",
            "--csv",
            "-c",
            command,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PGPASSWORD": PASSWORD},
        timeout=30,
    )
    if r.returncode != 0:
        raise RuntimeError(f"{command} failed: {r.stderr.strip()}")
    return list(csv.DictReader(io.StringIO(r.stdout)))


def _sessions(pg, name: str) -> list[int]:
    return [
        int(x)
        for x in pg.psql(
            f"SELECT pid FROM pg_catalog.pg_stat_activity WHERE application_name = '{name}'"
        ).split()
    ]


def pg_server_state(pg, name: str, pooled: set[int] = frozenset()) -> dict:
    """Over the superuser's socket: the probes' sessions (by application_name) and those
    of them no pooler owns; sessions idle in a transaction; locks of other sessions;
    prepared transactions."""
    pids = set(_sessions(pg, name))
    one = lambda sql: int(pg.psql(sql))  # noqa: E731
    return {
        "advisor_sessions": len(pids),
        "advisor_sessions_outside_pools": len(pids - set(pooled)),
        "idle_in_transaction": one(
            "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE state "
            "LIKE 'idle in transaction%' AND pid <> pg_catalog.pg_backend_pid()"
        ),
        "locks": one(
            "SELECT count(*) FROM pg_catalog.pg_locks "
            "WHERE pid IS DISTINCT FROM pg_catalog.pg_backend_pid()"
        ),
        "prepared_transactions": one("SELECT count(*) FROM pg_catalog.pg_prepared_xacts"),
    }


def pg_leftovers(pg, name: str) -> dict:
    """Direct: no session of the probes may be left, so none can hold a prepared statement
    (pg_prepared_statements belongs to a session)."""
    wait_until(lambda: _sessions(pg, name))
    return {**pg_server_state(pg, name), "prepared_statements": 0}


def prepared_per_server(url: str, servers: int) -> dict[int, int]:
    """pg_prepared_statements of each server connection behind a pooler: `servers`
    clients, each inside a transaction at the same time, so that each holds a server of
    its own (a pooler hands out an idle one first) while it reads that session's view."""
    import psycopg

    conns, seen = [], {}
    try:
        for _ in range(servers):
            conn = psycopg.connect(url, prepare_threshold=None, connect_timeout=10)
            conns.append(conn)
            pid, count = conn.execute(
                "SELECT pg_catalog.pg_backend_pid(), count(*) "
                "FROM pg_catalog.pg_prepared_statements"
            ).fetchone()
            seen[pid] = count
        return seen
    finally:
        for conn in conns:
            conn.rollback()
            conn.close()


def _pooled_state(pg, name: str, pooled: set[int], prepared: dict[int, int], clients: int) -> dict:
    return {
        **pg_server_state(pg, name, pooled),
        "pooler_clients": clients,
        "pool_servers": len(pooled),
        "servers_checked": len(set(prepared) & pooled),
        "prepared_statements": sum(prepared.values()),
    }


def pgbouncer_leftovers(pg, bouncer, name: str) -> dict:
    """The pool keeps its server connections (that is its job): the probes' clients must
    be gone (SHOW CLIENTS), every session they left on the server must be one of the
    pool's (SHOW SERVERS), and none may hold a transaction or a prepared statement."""
    admin = lambda cmd: psql_rows(bouncer.port, "pgb_admin", "pgbouncer", cmd)  # noqa: E731
    mine = lambda: [c for c in admin("SHOW CLIENTS") if c["application_name"] == name]  # noqa: E731
    clients = len(wait_until(mine))
    pooled = {int(s["remote_pid"]) for s in admin("SHOW SERVERS")}
    prepared = prepared_per_server(soak_url(bouncer.url(), name), len(pooled))
    return _pooled_state(pg, name, pooled, prepared, clients)


def _rows(url: str, command: str) -> list[dict]:
    import psycopg

    with psycopg.connect(url, connect_timeout=10) as conn:
        cur = conn.execute(command)
        names = [d.name for d in cur.description]
        return [dict(zip(names, map(str, row), strict=False)) for row in cur.fetchall()]


def pgpool_leftovers(pg, pool, name: str) -> dict:
    """pgpool-II caches one backend connection per child for a given startup packet (and
    resets it with DISCARD ALL by default): SHOW pool_processes lists the children serving
    a client, SHOW pool_pools the cached backends. The prepared-statement check connects
    as the probes did (same driver, same parameters) to reach those backends."""
    # Over psql: pgpool answers SHOW pool_processes over the simple protocol only.
    serving = lambda: sum(  # noqa: E731
        r["status"] != "Wait for connection" and r["pool_pid"].isdigit()
        for r in psql_rows(pool.port, "app", "app", "SHOW pool_processes")
    )
    clients = max(0, wait_until(lambda: serving() - 1))  # minus psql itself
    url = soak_url(pool.url(), name)
    prepared = {}
    if not clients:  # else every child may be taken: the clients are the finding
        prepared = prepared_per_server(url, pool.children)
    pooled = {
        int(r["pool_backendpid"])
        for r in _rows(url, "SHOW pool_pools")
        if r["pool_backendpid"].isdigit() and int(r["pool_backendpid"])
    }
    return _pooled_state(pg, name, pooled, prepared, clients)


def mariadb_leftovers(mariadb) -> dict:
    """No session of the app account left, no open InnoDB transaction, no prepared
    statement anywhere (Prepared_stmt_count is global), no XA transaction."""
    sessions = lambda: int(  # noqa: E731
        mariadb.sql("SELECT count(*) FROM information_schema.PROCESSLIST WHERE USER = 'app'")
    )
    wait_until(sessions)
    return {
        "advisor_sessions": sessions(),
        "transactions": int(mariadb.sql("SELECT count(*) FROM information_schema.INNODB_TRX")),
        "prepared_statements": mariadb.status("Prepared_stmt_count"),
        "xa_transactions": len([ln for ln in mariadb.sql("XA RECOVER").splitlines() if ln]),
    }


NONZERO_ALLOWED = ("advisor_sessions", "pool_servers", "servers_checked")


def problems(left: dict) -> list[str]:
    """What is left that must not be: every count is zero, except the pool's own server
    sessions, and every one of those was checked for prepared statements."""
    bad = [f"{k} = {v}" for k, v in left.items() if v and k not in NONZERO_ALLOWED]
    if "pool_servers" not in left and left.get("advisor_sessions"):
        bad.append(f"advisor_sessions = {left['advisor_sessions']}")
    if left.get("servers_checked", 0) != left.get("pool_servers", 0):
        bad.append(f"only {left['servers_checked']} of {left['pool_servers']} pool servers checked")
    return bad


# -- the bench's soak: 1,000 probes per kind, with the advisor as users install it ----------

BENCH_PROBES, BENCH_FIRST_MARK = 1000, 100


def bench_soak(python: str, cwd: str, log=print) -> dict:
    """Every kind on servers of its own; the probes run in `python` (the installed advisor)
    as this file run as a script, the leftovers are read from here."""
    from tests.support import servers, servers_mysql

    def probes(url: str) -> dict:
        r = subprocess.run(
            [python, __file__, str(BENCH_PROBES), str(BENCH_FIRST_MARK)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env={**os.environ, "ADVISOR_SOAK_URL": url},
        )
        if r.returncode != 0:
            raise RuntimeError(f"soak exited {r.returncode}: {r.stderr[-2000:]}")
        return json.loads(r.stdout)

    pg = servers.PostgresServer("bench-soak", max_connections=30, superuser_reserved=3).start()
    started = [pg]
    out = {
        "probes": BENCH_PROBES,
        "marks": [BENCH_FIRST_MARK, BENCH_PROBES],
        "bounds": {"blocks_per_probe": BLOCKS_PER_PROBE, "rss_bytes": RSS_BOUND},
        "kinds": {},
    }
    try:
        txn = servers.PgBouncer(pg, pool_mode="transaction", name="pgbouncer-soak-txn").start()
        started.append(txn)
        session = servers.PgBouncer(
            pg, pool_mode="session", default_pool_size=2, name="pgbouncer-soak-session"
        ).start()
        started.append(session)
        pool = servers.Pgpool(pg, num_init_children=2).start()
        started.append(pool)
        maria = servers_mysql.MariaDBServer("bench-soak").start()
        started.append(maria)
        kinds = {
            "postgresql": (pg.url(), lambda n: pg_leftovers(pg, n)),
            "pgbouncer_transaction": (txn.url(), lambda n: pgbouncer_leftovers(pg, txn, n)),
            "pgbouncer_session": (session.url(), lambda n: pgbouncer_leftovers(pg, session, n)),
            "pgpool": (pool.url(), lambda n: pgpool_leftovers(pg, pool, n)),
            "mariadb": (maria.url(), lambda n: mariadb_leftovers(maria)),
        }
        for kind, (url, leftovers) in kinds.items():
            name = f"advisor-soak-{kind}"
            run = probes(soak_url(url, name) if kind != "mariadb" else url)
            left = leftovers(name)
            out["kinds"][kind] = {
                **run,
                "left": left,
                "problems": problems(left),
                "memory_stable": memory_stable(run),
            }
            log(
                f"soak {kind}: {run['probes']} probes in {run['seconds']} s, {run['failed']} "
                f"failed, left {problems(left) or 'nothing'}, objects +{run['blocks_growth']}, "
                f"RSS +{run['rss_bytes_growth'] // 1024} KiB"
            )
        return out
    finally:
        for server in reversed(started):
            server.stop()


if __name__ == "__main__":
    url = os.environ["ADVISOR_SOAK_URL"]
    probes, first = int(sys.argv[1]), int(sys.argv[2])
    print(json.dumps(run_probes(url, probes, first)))
