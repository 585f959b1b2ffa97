"""What sits in front of PostgreSQL: pool mode from an ordinary login, pgpool-II, and
PgBouncer's admin console when the user gives it.

Statements here go through libpq's asynchronous interface so that every wait has a
deadline: a client queued by a full pool must not hang the probe.
"""

from __future__ import annotations

import select
import time

STATEMENT_MODE_ERROR = "transaction blocks not allowed in statement pooling mode"


class Timeout(Exception):
    pass


class QueryError(Exception):
    pass


def _results(pgconn, sql: str, seconds: float) -> list[tuple[list, list]]:
    """Send `sql` (simple protocol, may hold several statements) and collect every
    result as (column names, rows). Timeout when no complete answer arrives in time,
    QueryError on a server error."""
    from psycopg import OperationalError, pq

    pgconn.send_query(sql.encode())  # raises psycopg.OperationalError on a dead connection
    deadline = time.monotonic() + seconds
    results, error = [], None
    while True:
        while pgconn.is_busy():
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout(sql)
            select.select([pgconn.socket], [], [], left)
            try:
                pgconn.consume_input()
            except OperationalError as exc:  # e.g. the pooler closed us with its reason
                raise QueryError(str(exc).removeprefix("consuming input failed: ")) from None
        res = pgconn.get_result()
        if res is None:
            break
        if res.status == pq.ExecStatus.TUPLES_OK:
            names = [_text(res.fname(i)) for i in range(res.nfields)]
            rows = [[_text(res.get_value(r, c)) for c in range(res.nfields)] for r in range(res.ntuples)]
            results.append((names, rows))
        elif res.status == pq.ExecStatus.FATAL_ERROR:
            error = (res.error_message or b"").decode(errors="replace").strip()
    if error is not None:
        raise QueryError(error)
    return results


def run(pgconn, sql: str, seconds: float) -> list[list]:
    """Rows of the last result of `sql`."""
    results = _results(pgconn, sql, seconds)
    return results[-1][1] if results else []


def _text(value):
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def _pid(pgconn, seconds: float, sql: str = "SELECT pg_backend_pid()") -> int:
    return int(run(pgconn, sql, seconds)[0][0])


def detect_pool_mode(a, open_b, seconds: float = 2.0, rounds: int = 2) -> tuple[str | None, list[str]]:
    """Tell session from transaction mode with two client connections.

    `a` is the probe's libpq connection (idle, not in a transaction); `open_b()` opens
    the second one. In session mode a client keeps its server for the whole session
    and no other client ever gets it; in transaction mode servers go back to the pool
    after each transaction. Any observed sharing or change is therefore proof of
    transaction pooling; "session" is concluded only after every round shows none.
    """
    evidence: list[str] = []
    b = None
    try:
        for _ in range(rounds):
            a1 = _pid(a, seconds)
            a2 = _pid(a, seconds)
            if a1 != a2:
                return "transaction", [f"one client's consecutive statements ran on server PIDs "
                                       f"{a1} and {a2}: servers are handed out per transaction"]
            if b is None:
                b = open_b()
            try:
                b1 = _pid(b.pgconn, seconds, "BEGIN; SELECT pg_backend_pid()")
            except Timeout:
                return "session", [f"a second client waited for a server while the first sat idle "
                                   f"on PID {a1}: idle clients keep their server (session mode, "
                                   "pool full)"]
            except QueryError as exc:
                if STATEMENT_MODE_ERROR in str(exc):
                    return "statement", [f"the pooler refused a transaction block: {STATEMENT_MODE_ERROR}"]
                raise
            if b1 == a2:
                run(b.pgconn, "ROLLBACK", seconds)
                return "transaction", [f"a second client's transaction got server PID {b1}, which "
                                       "the first client had just used: server connections are "
                                       "shared between clients"]
            try:
                a3 = _pid(a, seconds)
            except Timeout:
                return "transaction", ["the first client had to wait for a server while the second "
                                       "held a transaction: it did not own one (transaction mode)"]
            run(b.pgconn, "ROLLBACK", seconds)
            if a3 != a2:
                return "transaction", [f"the first client moved from server PID {a2} to {a3} while "
                                       "another client held a transaction"]
            evidence = [f"the first client kept server PID {a1} across statements while a second "
                        f"client held its own server (PID {b1}): servers are bound to sessions"]
        return "session", evidence
    finally:
        if b is not None:
            b.close()


def pgpool_version(pgconn, seconds: float) -> str | None:
    """pgpool-II answers `SHOW pool_version`; PostgreSQL itself rejects it."""
    try:
        rows = run(pgconn, "SHOW pool_version", seconds)
    except QueryError:
        return None
    return rows[0][0] if rows and rows[0] else None


ADMIN_SETTINGS = ("pool_mode", "default_pool_size", "min_pool_size", "reserve_pool_size",
                  "max_client_conn", "max_db_connections", "max_user_connections",
                  "max_prepared_statements", "server_round_robin", "query_wait_timeout")


def read_admin_console(target, seconds: float) -> dict:
    """SHOW VERSION / CONFIG / POOLS / DATABASES on PgBouncer's admin console."""
    import psycopg

    from .postgres import pinned_kwargs

    conn = psycopg.connect(**pinned_kwargs(target, seconds), autocommit=True)
    try:
        pg = conn.pgconn
        version = run(pg, "SHOW VERSION", seconds)[0][0]
        config = _table(pg, "SHOW CONFIG", seconds)
        pools = _table(pg, "SHOW POOLS", seconds)
        databases = _table(pg, "SHOW DATABASES", seconds)
    finally:
        conn.close()
    settings = {row["key"]: row["value"] for row in config if row.get("key") in ADMIN_SETTINGS}
    return {
        "version": version,
        "version_number": _version_number(version),
        "settings": {k: _int_or(v) for k, v in settings.items()},
        "clients_waiting": sum(int(p.get("cl_waiting") or 0) for p in pools),
        "clients_active": sum(int(p.get("cl_active") or 0) for p in pools),
        "servers": sum(int(p.get(k) or 0) for p in pools for k in ("sv_active", "sv_idle", "sv_used")),
        "pools": [{"database": p.get("database"), "user": p.get("user"), "pool_mode": p.get("pool_mode"),
                   "cl_waiting": _int_or(p.get("cl_waiting"))} for p in pools if p.get("database") != "pgbouncer"],
        "databases": [{"name": d.get("name"), "pool_size": _int_or(d.get("pool_size")),
                       "reserve_pool": _int_or(d.get("reserve_pool")),
                       "max_connections": _int_or(d.get("max_connections")),
                       "pool_mode": d.get("pool_mode") or None}
                      for d in databases if d.get("name") != "pgbouncer"],
    }


def _table(pgconn, sql: str, seconds: float) -> list[dict]:
    return [dict(zip(names, row)) for names, rows in _results(pgconn, sql, seconds) for row in rows]


def _int_or(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _version_number(text: str) -> tuple | None:
    import re
    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return [int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)] if m else None
