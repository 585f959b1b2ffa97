"""What sits in front of PostgreSQL: pool mode from an ordinary login, pgpool-II, and
PgBouncer's admin console when the user gives it.

Statements here go through libpq's asynchronous interface so that every wait has a
deadline: a client queued by a full pool must not hang the probe.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ..errors import ProbeFailed
from .deadline import Deadline
from .libpq import QueryError, Timeout, connect, pinned_kwargs, read_only, results, run
from .model import AdminConsole, AdminSettings, PoolMode

if TYPE_CHECKING:
    import psycopg
    from psycopg.pq.abc import PGconn

    from ..target import Target

STATEMENT_MODE_ERROR = "transaction blocks not allowed in statement pooling mode"
# How long a client may wait for a server before detection calls the pool full.
POOL_WAIT = 2.0
PID_SQL = "SELECT pg_catalog.pg_backend_pid()"


def _pid(pgconn: PGconn, deadline: Deadline, keep_open: bool = False) -> int:
    """The server PID behind this client, read in a read-only transaction (left open
    with `keep_open`, to hold on to the server)."""
    return int(run(pgconn, read_only(PID_SQL, deadline, keep_open), deadline)[0][0])


def detect_pool_mode(
    a: PGconn,
    open_b: Callable[[], psycopg.Connection[Any]],
    deadline: Deadline | float,
    rounds: int = 2,
) -> tuple[PoolMode | None, list[str]]:
    """Tell session from transaction mode with two client connections.

    `a` is the probe's libpq connection (idle, not in a transaction); `open_b()` opens
    the second one. In session mode a client keeps its server for the whole session
    and no other client ever gets it; in transaction mode servers go back to the pool
    after each transaction. Any observed sharing or change is therefore proof of
    transaction pooling; "session" is concluded only after every round shows none.
    A wait is evidence only when it lasted POOL_WAIT within the command's deadline: when
    the deadline cuts detection short, the mode is unknown (None), never a guess.
    """
    deadline = Deadline.of(deadline)
    evidence: list[str] = []
    b: psycopg.Connection[Any] | None = None

    def waited(sql_deadline: Deadline) -> bool:
        """True when a Timeout came from the pool wait, not from the command's deadline."""
        return sql_deadline.at < deadline.at

    try:
        for _ in range(rounds):
            a1 = _pid(a, deadline)
            a2 = _pid(a, deadline)
            if a1 != a2:
                return "transaction", [
                    f"one client's consecutive transactions ran on server PIDs "
                    f"{a1} and {a2}: servers are handed out per transaction"
                ]
            if b is None:
                b = open_b()
            wait = deadline.within(POOL_WAIT)
            try:
                b1 = _pid(b.pgconn, wait, keep_open=True)
            except Timeout:
                if not waited(wait):
                    raise
                return "session", [
                    f"a second client waited {POOL_WAIT:g} s for a server while "
                    f"the first sat idle on PID {a1}: idle clients keep their "
                    "server (session mode, pool full)"
                ]
            except QueryError as exc:
                if STATEMENT_MODE_ERROR in str(exc):
                    return "statement", [
                        f"the pooler refused a transaction block: {STATEMENT_MODE_ERROR}"
                    ]
                raise
            if b1 == a2:
                run(b.pgconn, "ROLLBACK", deadline)
                return "transaction", [
                    f"a second client's transaction got server PID {b1}, which "
                    "the first client had just used: server connections are "
                    "shared between clients"
                ]
            wait = deadline.within(POOL_WAIT)
            try:
                a3 = _pid(a, wait)
            except Timeout:
                if not waited(wait):
                    raise
                return "transaction", [
                    f"the first client waited {POOL_WAIT:g} s for a server while "
                    "the second held a transaction: it did not own one "
                    "(transaction mode)"
                ]
            run(b.pgconn, "ROLLBACK", deadline)
            if a3 != a2:
                return "transaction", [
                    f"the first client moved from server PID {a2} to {a3} while "
                    "another client held a transaction"
                ]
            evidence = [
                f"the first client kept server PID {a1} across transactions while a second "
                f"client held its own server (PID {b1}): servers are bound to sessions"
            ]
        return "session", evidence
    except Timeout:
        return None, [
            f"pool-mode detection ran out of time (--timeout {deadline.seconds:g} s) "
            "before the pooler had answered enough statements: the mode is unknown"
        ]
    finally:
        if b is not None:
            b.close()


def pgpool_version(pgconn: PGconn, deadline: Deadline | float) -> str | None:
    """pgpool-II answers `SHOW pool_version`; PostgreSQL itself rejects it. SHOW reads a
    setting and calls no function, so it needs no transaction around it."""
    try:
        rows = run(pgconn, "SHOW pool_version", deadline)
    except (QueryError, Timeout):
        return None
    return rows[0][0] if rows and rows[0] else None


# The SHOW CONFIG keys kept: the ones the model declares.
ADMIN_SETTINGS = AdminSettings.__optional_keys__


def read_admin_console(target: Target, deadline: Deadline | float) -> AdminConsole:
    """SHOW VERSION / CONFIG / POOLS / DATABASES on PgBouncer's admin console, within
    what is left of the command's deadline. (The console accepts no transaction block
    and runs no SQL: SHOW is all it knows.)"""
    deadline = Deadline.of(deadline)
    if deadline.expired():
        raise ProbeFailed(
            f"not read: --timeout {deadline.seconds:g} s was used up before", kind="timeout"
        )
    try:
        conn = connect(pinned_kwargs(target, deadline), deadline)
        try:
            pg = conn.pgconn
            version = run(pg, "SHOW VERSION", deadline)[0][0]
            config = _table(pg, "SHOW CONFIG", deadline)
            pools = _table(pg, "SHOW POOLS", deadline)
            databases = _table(pg, "SHOW DATABASES", deadline)
        finally:
            conn.close()
    except Timeout:
        raise ProbeFailed(
            f"timed out: --timeout {deadline.seconds:g} s ran out while reading the admin console",
            kind="timeout",
        ) from None
    settings = {row["key"]: row["value"] for row in config if row.get("key") in ADMIN_SETTINGS}
    return {
        "version": version,
        "version_number": _version_number(version),
        # Only ADMIN_SETTINGS keys, each optional: the AdminSettings shape.
        "settings": cast(AdminSettings, {k: _int_or(v) for k, v in settings.items()}),
        "clients_waiting": sum(int(p.get("cl_waiting") or 0) for p in pools),
        "clients_active": sum(int(p.get("cl_active") or 0) for p in pools),
        "servers": sum(
            int(p.get(k) or 0) for p in pools for k in ("sv_active", "sv_idle", "sv_used")
        ),
        "pools": [
            {
                "database": p.get("database"),
                "user": p.get("user"),
                "pool_mode": p.get("pool_mode"),
                "cl_waiting": _int_or(p.get("cl_waiting")),
            }
            for p in pools
            if p.get("database") != "pgbouncer"
        ],
        "databases": [
            {
                "name": d.get("name"),
                "pool_size": _int_or(d.get("pool_size")),
                "reserve_pool": _int_or(d.get("reserve_pool")),
                "max_connections": _int_or(d.get("max_connections")),
                "pool_mode": d.get("pool_mode") or None,
            }
            for d in databases
            if d.get("name") != "pgbouncer"
        ],
    }


def _table(pgconn: PGconn, sql: str, deadline: Deadline) -> list[dict[str, Any]]:
    return [
        dict(zip(names, row, strict=False))
        for names, rows in results(pgconn, sql, deadline)
        for row in rows
    ]


def _int_or(value: Any) -> Any:  # the int, else the value as it came
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _version_number(text: str) -> list[int] | None:
    import re

    m = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text or "")
    return [int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)] if m else None
