"""The audit's facts from a live PostgreSQL server: what the workload does with session
state, and who holds the connection slots.

ONE connection, as the probe's: the facts query (postgres.read_facts, its own read-only
transaction), then one read-only transaction with a statement timeout and search_path
pinned to pg_catalog that reads pg_stat_activity, pg_locks and pg_class, and, where
pg_stat_statements is installed and loaded, that view in the extension's own schema. It
never creates or alters an extension. Every name is qualified (pg_catalog., the
extension's schema); every operator is OPERATOR(pg_catalog.x).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..errors import ProbeFailed
from ..log import log
from ..target import Target
from . import libpq, postgres
from .deadline import Deadline

if TYPE_CHECKING:
    from psycopg.pq.abc import PGconn

    from .model import PostgresFacts

EQ = "OPERATOR(pg_catalog.=)"
MINUS = "OPERATOR(pg_catalog.-)"
# Query texts longer than this are read cut, and a cut text is never classified.
MAX_QUERY = 4000
MAX_STATEMENTS = 5000

LEDGER_SQL = f"""
SELECT coalesce(a.application_name, '') AS application_name, a.usename AS role,
  a.datname AS database, pg_catalog.host(a.client_addr) AS client_addr,
  coalesce(a.state, 'unknown') AS state, pg_catalog.count(*)::int AS connections,
  pg_catalog.max(pg_catalog.date_part('epoch',
    pg_catalog.now() {MINUS} a.backend_start))::bigint AS max_age_s,
  pg_catalog.max(pg_catalog.date_part('epoch',
    pg_catalog.now() {MINUS} a.state_change))::bigint AS max_state_s,
  pg_catalog.sum(CASE WHEN a.pid {EQ} pg_catalog.pg_backend_pid() THEN 1 ELSE 0 END)::int AS own
FROM pg_catalog.pg_stat_activity a
WHERE a.backend_type {EQ} 'client backend'
GROUP BY 1, 2, 3, 4, 5
ORDER BY 6 DESC, 1, 2, 3
"""
LOCKS_SQL = f"""
SELECT coalesce(a.application_name, '') AS application_name, a.usename AS role,
  a.datname AS database, a.pid, pg_catalog.count(*)::int AS locks,
  pg_catalog.max(pg_catalog.date_part('epoch',
    pg_catalog.now() {MINUS} a.state_change))::bigint AS idle_s
FROM pg_catalog.pg_locks l
JOIN pg_catalog.pg_stat_activity a ON a.pid {EQ} l.pid
WHERE l.locktype {EQ} 'advisory' AND l.granted AND a.state {EQ} 'idle'
GROUP BY 1, 2, 3, 4
ORDER BY 5 DESC
LIMIT 100
"""
TEMP_SQL = f"""
SELECT pg_catalog.count(DISTINCT c.relnamespace)::int AS sessions,
  pg_catalog.count(*)::int AS tables
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid {EQ} c.relnamespace
WHERE c.relpersistence {EQ} 't' AND c.relkind {EQ} ANY (ARRAY['r', 'p']::pg_catalog."char"[])
  AND pg_catalog.starts_with(n.nspname::pg_catalog.text, 'pg_temp_')
  AND n.oid OPERATOR(pg_catalog.<>) pg_catalog.pg_my_temp_schema()
"""
EXTENSION_SQL = f"""
SELECT n.nspname AS schema, e.extversion AS version,
  pg_catalog.current_setting('pg_stat_statements.max', true) AS loaded_max,
  (SELECT r.rolsuper OR pg_catalog.pg_has_role(r.oid, 'pg_read_all_stats', 'USAGE')
     FROM pg_catalog.pg_roles r WHERE r.rolname {EQ} current_user) AS sees_all
FROM (SELECT 1) one
LEFT JOIN pg_catalog.pg_extension e ON e.extname {EQ} 'pg_stat_statements'
LEFT JOIN pg_catalog.pg_namespace n ON n.oid {EQ} e.extnamespace
"""


def statements_sql(schema: str) -> str:
    quoted = '"' + schema.replace('"', '""') + '"'
    return f"""
SELECT r.rolname AS role, d.datname AS database, s.calls::bigint AS calls,
  pg_catalog.left(s.query, {MAX_QUERY}) AS query,
  pg_catalog.length(s.query) AS length
FROM {quoted}.pg_stat_statements s
LEFT JOIN pg_catalog.pg_roles r ON r.oid {EQ} s.userid
LEFT JOIN pg_catalog.pg_database d ON d.oid {EQ} s.dbid
ORDER BY s.calls DESC
LIMIT {MAX_STATEMENTS}
"""


def gather(
    target: Target, timeout: Deadline | float = 10.0
) -> tuple[PostgresFacts, dict[str, Any]]:
    """The server's facts and the raw workload rows (read_workload), on one connection;
    ProbeFailed with a scrubbed message otherwise."""
    import psycopg

    deadline = Deadline.of(timeout)
    if deadline.expired():
        raise ProbeFailed(f"not audited: --timeout {deadline.seconds:g} s was used up", "timeout")
    started = time.monotonic()
    conn = None
    try:
        kw = libpq.pinned_kwargs(target, deadline)
        log.debug("connecting to %s (%.1f s left)", target.display, deadline.left())
        conn = libpq.connect(kw, deadline.within(libpq.url_connect_timeout(target)))
        connect_ms = (time.monotonic() - started) * 1000
        row = postgres.read_facts(conn.pgconn, deadline)
        facts = postgres.build_facts(
            row,
            postgres.client_tls(conn, target),
            conn.info.backend_pid,
            target,
            connect_ms=connect_ms,
        )
        raw = read_workload(conn.pgconn, deadline)
    except psycopg.Error as exc:
        raise postgres.login_failed(exc, target, deadline.left()) from None
    except libpq.Timeout:
        raise ProbeFailed(
            f"timed out after {deadline.seconds:g} s waiting for the server", kind="timeout"
        ) from None
    except libpq.QueryError as exc:
        if "statement timeout" in str(exc):
            raise ProbeFailed(
                f"timed out after {deadline.seconds:g} s: the server cancelled the audit's "
                "query (statement_timeout)",
                kind="timeout",
            ) from None
        raise ProbeFailed(target.scrub(str(exc)).splitlines()[0][:300], kind="query") from None
    finally:
        if conn is not None:
            postgres.close(conn)
    facts["probe"].update(
        {"connections_opened": 1, "total_ms": round((time.monotonic() - started) * 1000, 1)}
    )
    return facts, raw


def _rows(found: list[tuple[list[Any], list[Any]]], marker: str) -> list[dict[str, Any]]:
    for names, rows in found:
        if marker in names:
            return [dict(zip(names, r, strict=True)) for r in rows]
    raise libpq.QueryError(f"unexpected reply to the audit's query (no {marker})")


def read_workload(pgconn: PGconn, deadline: Deadline) -> dict[str, Any]:
    """Raw rows: ledger groups, idle sessions holding advisory locks, temp relations, the
    pg_stat_statements state and its statements (when readable)."""
    sql = "; ".join((LEDGER_SQL, LOCKS_SQL, TEMP_SQL, EXTENSION_SQL))
    log.debug("reading the workload in a read-only transaction (%.1f s left)", deadline.left())
    found = libpq.results(pgconn, libpq.read_only(sql, deadline, keep_open=True), deadline)
    ext = _rows(found, "loaded_max")[0]
    out: dict[str, Any] = {
        "ledger": _rows(found, "max_state_s"),
        "idle_locks": _rows(found, "locks"),
        "temp": _rows(found, "tables")[0],
        "extension": {
            "installed": ext["schema"] is not None,
            "loaded": ext["loaded_max"] is not None,
            "version": ext["version"],
            "sees_all": ext["sees_all"] == "t",
        },
        "statements": None,
        "statements_error": None,
    }
    try:
        if ext["schema"] is not None and ext["loaded_max"] is not None:
            rows = _rows(libpq.results(pgconn, statements_sql(ext["schema"]), deadline), "calls")
            out["statements"] = rows
    except libpq.QueryError as exc:
        if "statement timeout" in str(exc):
            raise
        out["statements_error"] = (str(exc).strip().splitlines() or ["error"])[0][:200]
    finally:
        libpq.results(pgconn, "ROLLBACK", deadline)
    return out
