"""The audit's facts from a live MySQL or MariaDB server: the statement digests of
performance_schema and the processlist ledger.

The same ONE connection and read-only transaction as the probe's (facts/mysql.py reads its
facts first, then calls read_workload on the same cursor). Every statement carries the
engine's own time limit (MariaDB's max_statement_time, MySQL's MAX_EXECUTION_TIME); the
probe's socket guard bounds the rest. A table the account may not read is reported as
not readable, never worked around.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..log import log
from . import mysql
from .deadline import Deadline

if TYPE_CHECKING:
    from ..target import Target
    from .model import EndpointFacts, MySQLFacts

MAX_QUERY = 4000
MAX_STATEMENTS = 5000

SETTINGS_SQL = "SELECT @@performance_schema AS ps, @@performance_schema_max_digest_length AS len"
# Named locks show in metadata_locks only while this instrument is on (off by default in
# MariaDB, on in MySQL 8).
MDL_SQL = """
SELECT ENABLED AS enabled FROM performance_schema.setup_instruments
WHERE NAME = 'wait/lock/metadata/sql/mdl'
"""
# A session is idle in a transaction when it sleeps while InnoDB has a transaction for it
# (INNODB_TRX needs the PROCESS privilege: without it, LEDGER_PLAIN_SQL).
LEDGER_SQL = """
SELECT COALESCE(a.ATTR_VALUE, '') AS application_name, p.USER AS role, p.DB AS `database`,
  SUBSTRING_INDEX(p.HOST, ':', 1) AS client_addr,
  CASE WHEN p.COMMAND <> 'Sleep' THEN 'active'
       WHEN t.trx_id IS NOT NULL THEN 'idle in transaction' ELSE 'idle' END AS state,
  COUNT(*) AS connections, NULL AS max_age_s, MAX(p.TIME) AS max_state_s,
  SUM(p.ID = CONNECTION_ID()) AS own
FROM information_schema.PROCESSLIST p
LEFT JOIN performance_schema.session_connect_attrs a
  ON a.PROCESSLIST_ID = p.ID AND a.ATTR_NAME = 'program_name'
LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID
WHERE p.COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Killed')
  AND p.USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user')
GROUP BY 1, 2, 3, 4, 5
ORDER BY 6 DESC
"""
LEDGER_PLAIN_SQL = """
SELECT '' AS application_name, p.USER AS role, p.DB AS `database`,
  SUBSTRING_INDEX(p.HOST, ':', 1) AS client_addr,
  CASE WHEN p.COMMAND <> 'Sleep' THEN 'active' ELSE 'idle' END AS state,
  COUNT(*) AS connections, NULL AS max_age_s, MAX(p.TIME) AS max_state_s,
  SUM(p.ID = CONNECTION_ID()) AS own
FROM information_schema.PROCESSLIST p
WHERE p.COMMAND NOT IN ('Daemon', 'Binlog Dump', 'Killed')
  AND p.USER NOT IN ('system user', 'event_scheduler', 'unauthenticated user')
GROUP BY 1, 2, 3, 4, 5
ORDER BY 6 DESC
"""
DIGESTS_SQL = f"""
SELECT SCHEMA_NAME AS `database`, COUNT_STAR AS calls,
  LEFT(DIGEST_TEXT, {MAX_QUERY}) AS query, CHAR_LENGTH(DIGEST_TEXT) AS length
FROM performance_schema.events_statements_summary_by_digest
WHERE DIGEST_TEXT IS NOT NULL
ORDER BY COUNT_STAR DESC
LIMIT {MAX_STATEMENTS}
"""
# Named locks (GET_LOCK) held by sleeping sessions: what stops ProxySQL multiplexing.
NAMED_LOCKS_SQL = """
SELECT COALESCE(a.ATTR_VALUE, '') AS application_name, p.USER AS role, p.DB AS `database`,
  COUNT(*) AS locks, MAX(p.TIME) AS idle_s
FROM performance_schema.metadata_locks m
JOIN performance_schema.threads th ON th.THREAD_ID = m.OWNER_THREAD_ID
JOIN information_schema.PROCESSLIST p ON p.ID = th.PROCESSLIST_ID
LEFT JOIN performance_schema.session_connect_attrs a
  ON a.PROCESSLIST_ID = p.ID AND a.ATTR_NAME = 'program_name'
WHERE m.OBJECT_TYPE = 'USER LEVEL LOCK' AND p.COMMAND = 'Sleep'
GROUP BY p.ID, p.USER, p.DB, a.ATTR_VALUE
LIMIT 100
"""


def gather(
    target: Target, timeout: Deadline | float, endpoint: EndpointFacts | None = None
) -> tuple[MySQLFacts, dict[str, Any]]:
    """The probe's facts and the raw workload rows, on one connection."""
    raw: dict[str, Any] = {}

    def also(cur: Any, deadline: Deadline, version: str) -> None:
        raw.update(read_workload(cur, deadline, version))

    facts = mysql.gather(target, timeout, endpoint=endpoint, also=also)
    return facts, raw


def _timed(sql: str, deadline: Deadline, version: str) -> str:
    flavor, _, _ = mysql.parse_version(version)
    left = max(0.1, deadline.left())
    if flavor == "mariadb":
        return f"SET STATEMENT max_statement_time={left:.1f} FOR {sql.strip()}"
    return sql.strip().replace(
        "SELECT ", f"SELECT /*+ MAX_EXECUTION_TIME({int(left * 1000)}) */ ", 1
    )


def _rows(cur: Any, sql: str) -> list[dict[str, Any]]:
    cur.execute(sql)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _error(exc: Exception) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    text = str(args[1]) if len(args) > 1 else str(exc)
    return (text.strip().splitlines() or [type(exc).__name__])[0][:200]


def read_workload(cur: Any, deadline: Deadline, version: str) -> dict[str, Any]:
    """Raw rows: the ledger, the digests (None when not readable) and named locks held by
    sleeping sessions. A statement the account may not run is reported, not retried
    another way, except the ledger, which falls back to the plain processlist."""
    import pymysql

    log.debug("reading the workload (%.1f s left)", deadline.left())
    settings = _rows(cur, _timed(SETTINGS_SQL, deadline, version))[0]
    ps_on = str(settings.get("ps")) in ("1", "ON")
    try:
        ledger = _rows(cur, _timed(LEDGER_SQL, deadline, version))
    except pymysql.err.MySQLError as exc:
        if isinstance(exc, pymysql.err.OperationalError) and "timeout" in str(exc).lower():
            raise
        log.debug("ledger without program_name / INNODB_TRX: %s", _error(exc))
        ledger = _rows(cur, _timed(LEDGER_PLAIN_SQL, deadline, version))
    statements, error, locks, locks_unknown = None, None, [], None
    if ps_on:
        try:
            statements = _rows(cur, _timed(DIGESTS_SQL, deadline, version))
        except pymysql.err.MySQLError as exc:
            error = _error(exc)
        try:
            mdl = _rows(cur, _timed(MDL_SQL, deadline, version))
            if not mdl or str(mdl[0]["enabled"]).upper() != "YES":
                locks_unknown = (
                    "named locks are not recorded: the performance_schema instrument "
                    "wait/lock/metadata/sql/mdl is off"
                )
            else:
                locks = _rows(cur, _timed(NAMED_LOCKS_SQL, deadline, version))
        except pymysql.err.MySQLError as exc:
            locks_unknown = f"named locks could not be read: {_error(exc)}"
    else:
        locks_unknown = "named locks are not recorded: performance_schema is OFF"
    if not ps_on:
        error = "performance_schema is OFF: start the server with performance_schema=ON"
    for row in statements or []:
        row["role"] = None  # digests are not kept per account
    return {
        "ledger": ledger,
        "idle_locks": locks,
        "idle_locks_unknown": locks_unknown,
        "extension": {
            "installed": ps_on,
            "loaded": ps_on,
            "version": None,
            "sees_all": True,
        },
        "statements": statements,
        "statements_error": error,
        "max_digest_length": settings.get("len"),
    }
