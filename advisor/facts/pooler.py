"""What sits in front of PostgreSQL: pool mode from an ordinary login, pgpool-II, and
PgBouncer's admin console when the user gives it.

Statements here go through libpq's asynchronous interface so that every wait has a
deadline: a client queued by a full pool must not hang the probe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from ..errors import ProbeFailed
from .deadline import Deadline
from .libpq import QueryError, Timeout, connect, pinned_kwargs, read_only, results, run
from .model import AdminConsole, AdminSettings, PoolerFacts, PoolMode, pgbouncer_like

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
    pids: list[int] | None = None,
) -> tuple[PoolMode | None, list[str]]:
    """Tell session from transaction mode with two client connections.

    `a` is the probe's libpq connection (idle, not in a transaction); `open_b()` opens
    the second one. In session mode a client keeps its server for the whole session
    and no other client ever gets it; in transaction mode servers go back to the pool
    after each transaction. Any observed sharing or change is therefore proof of
    transaction pooling; "session" is concluded only after every round shows none.
    `pids` (if given) gets the second client's cancel-key PID, for naming the pooler.
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
                if pids is not None:
                    pids.append(b.info.backend_pid)
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


# -- naming the pooler from the client side ------------------------------------------
#
# Each rule below names a pooler only on evidence that pooler alone shows a client; the
# shape of the cancel key only narrows the candidates. Sources (checked 2026-12-02):
#   PgBouncer  src/admin.c admin_post_login() ("not allowed") and admin_setup()
#              (console ParameterStatus server_version = "<version>/bouncer");
#              NEWS.md 1.21.0, PR #945 (cancel-key PID positive since 1.21)
#              https://github.com/pgbouncer/pgbouncer/blob/master/src/admin.c
#   Supavisor  lib/supavisor/db_handler.ex (backend logins use application_name
#              "Supavisor"; their ParameterStatus is cached per tenant and replayed to
#              every client), lib/supavisor/protocol/server.ex backend_key_data()
#              (PID = System.unique_integer([:positive, :monotonic]))
#              https://github.com/supabase/supavisor
#   PgCat      src/query_router.rs CUSTOM_SQL_REGEXES (SHOW PRIMARY READS answered by
#              PgCat itself, one column "primary reads"), src/client.rs (PID =
#              rand::random::<i32>()) https://github.com/postgresml/pgcat
#   PgDog      pgdog/src/frontend/router/parser/query/show.rs (SHOW pgdog.shards),
#              net/messages/error_response.rs ErrorResponse::auth (unknown database),
#              net/messages/frontend_pid.rs (PID = a counter from 0)
#              https://github.com/pgdogdev/pgdog
#   Odyssey    sources/frontend.c od_frontend_error_fwd() ("odyssey: c<id>: ..." on
#              every error it relays or raises), "route for '%s.%s' is not found",
#              cancel key = client id halves from machine_lrand48() (sources/include/id.h)
#              https://github.com/yandex/odyssey
#   Hosts      advisor/catalog/providers.toml (Supabase, Neon, Azure, AWS, Google).

PID_MAX = 4_194_304  # Linux's highest pid_max (2^22): a PostgreSQL backend PID is below it
UNKNOWN = "unknown"
PGCAT_SHOW = "SHOW PRIMARY READS"
PGDOG_SHOW = "SHOW pgdog.shards"
PGBOUNCER_DB = "pgbouncer"  # PgBouncer's console: it answers a login there itself
# Catalog endpoint (provider, pooler) -> the name the report uses.
CATALOG_NAMES = {
    ("azure", "pgbouncer"): "azure-pgbouncer",
    ("neon", "pgbouncer"): "neon",
    ("vercel", "pgbouncer"): "neon",
}
CATALOG_POOLERS = {
    "pgbouncer": "pgbouncer",
    "supavisor": "supavisor",
    "rds-proxy": "rds-proxy",
    "pgpool-ii": "pgpool-ii",
    "cloud-sql-mcp": "cloud-sql-pooling",
}


def pid_candidates(pids: list[int]) -> tuple[list[str], str]:
    """Which poolers hand out cancel keys of this shape, and the sentence saying so."""
    if any(p < 0 for p in pids):
        return ["pgbouncer", "pgcat"], (
            f"cancel-key PID {min(pids)} is negative: a random 32-bit key "
            "(PgBouncer before 1.21, or PgCat)"
        )
    if all(p >= PID_MAX for p in pids):
        return ["pgbouncer", "pgcat", "odyssey"], (
            f"cancel-key PID {pids[0]} is above any PostgreSQL backend PID (> {PID_MAX}): "
            "a random key (PgBouncer, PgCat, Odyssey)"
        )
    return ["supavisor", "pgdog", "odyssey", "pgbouncer", "pgcat"], (
        f"cancel-key PID {pids[0]} is small: a counter (Supavisor, PgDog) or a random "
        "key that happened to be small"
    )


def show_answer(pgconn: PGconn, sql: str, deadline: Deadline) -> dict[str, Any]:
    """Run a SHOW that PostgreSQL itself rejects, outside any transaction (a failure
    there costs nothing): {"rows": [...], "columns": [...]} or {"error", "from_server"}.
    `from_server`: the error carries PostgreSQL's file/line/routine fields, so the
    pooler passed the statement on instead of answering it."""
    from psycopg import pq

    pgconn.send_query(sql.encode())
    while pgconn.flush():
        if not _wait(pgconn, True, deadline):
            raise Timeout(sql)
    out: dict[str, Any] = {}
    while True:
        while pgconn.is_busy():
            if not _wait(pgconn, False, deadline):
                raise Timeout(sql)
            pgconn.consume_input()
        res = pgconn.get_result()
        if res is None:
            return out
        if res.status == pq.ExecStatus.TUPLES_OK:
            out = {
                "columns": [(res.fname(i) or b"").decode() for i in range(res.nfields)],
                "rows": [
                    [
                        (res.get_value(r, c) or b"").decode(errors="replace")
                        for c in range(res.nfields)
                    ]
                    for r in range(res.ntuples)
                ],
            }
        elif res.status == pq.ExecStatus.FATAL_ERROR:
            field = res.error_field
            out = {
                "error": (field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"").decode(
                    errors="replace"
                ),
                "sqlstate": (field(pq.DiagnosticField.SQLSTATE) or b"").decode(),
                "from_server": bool(
                    field(pq.DiagnosticField.SOURCE_FILE) and field(pq.DiagnosticField.SOURCE_LINE)
                ),
            }


def _wait(pgconn: PGconn, writing: bool, deadline: Deadline) -> bool:
    from .libpq import wait_ready

    return wait_ready(pgconn.socket, writing, deadline)


def name_pooler(signals: dict[str, Any]) -> dict[str, Any]:
    """Pure: the pooler's name from what a client saw (see the sources above).

    `signals` keys (all optional): pids (cancel-key PIDs seen), app_sent/app_seen
    (application_name sent and reported back), catalog (provider, pooler, endpoint id),
    statement_mode, shows {sql: show_answer()}, login (error text or "ok:<server_version>"
    of a login to PgBouncer's console database), pgpool_version.
    Returns {"kind", "identified_by", "candidates", "version"?}."""
    found: list[tuple[str, str]] = []  # (name, evidence)
    version: str | None = None
    pids = signals.get("pids") or []
    candidates, shape = pid_candidates(pids) if pids else ([], "")
    if signals.get("pgpool_version"):
        found.append(
            ("pgpool-ii", f"SHOW pool_version answered {signals['pgpool_version']!r} (pgpool-II)")
        )
        version = signals["pgpool_version"]
    if signals.get("statement_mode"):
        found.append(
            (
                "pgbouncer",
                f"the pooler refused a transaction block in its own words: "
                f"{STATEMENT_MODE_ERROR!r} (PgBouncer's statement mode)",
            )
        )
    shown = signals.get("ps_server_version") or ""
    if shown.endswith(" (PgDog)"):  # pgdog/src/net/messages/parameter_status.rs
        found.append(("pgdog", f"ParameterStatus server_version is PgDog's own: {_short(shown)!r}"))
    app = signals.get("app_seen")
    if app == "Supavisor" and signals.get("app_sent") != app:
        found.append(
            (
                "supavisor",
                "ParameterStatus application_name is 'Supavisor', not the name "
                "this client sent: Supavisor replays its own server login's parameters",
            )
        )
    elif app is not None:
        candidates = [c for c in candidates if c != "supavisor"]
    shows = signals.get("shows") or {}
    pgcat = shows.get(PGCAT_SHOW) or {}
    if pgcat.get("columns") == ["primary reads"]:
        found.append(
            (
                "pgcat",
                f"{PGCAT_SHOW} was answered ({_short(pgcat['rows'][0][0] if pgcat['rows'] else '')!r}):"
                " a PgCat extension that PostgreSQL rejects",
            )
        )
    elif pgcat.get("error"):
        candidates = [c for c in candidates if c != "pgcat"]  # PgCat always answers it
    rejected = [
        f"{sql} was rejected "
        + (
            "by PostgreSQL behind the pooler (the error has its file/line/routine fields)"
            if answer.get("from_server")
            else "by the pooler itself (the error lacks PostgreSQL's file/line/routine fields)"
        )
        for sql, answer in shows.items()
        if answer.get("error")
    ]
    pgdog = shows.get(PGDOG_SHOW) or {}
    if pgdog.get("columns") == ["shards"]:
        found.append(("pgdog", f"{PGDOG_SHOW} was answered: a PgDog extension"))
    login = signals.get("login")
    if login:
        if login.startswith("ok:") and login.endswith("/bouncer"):
            version = login[3:].removesuffix("/bouncer")
            found.append(
                (
                    "pgbouncer",
                    f"a login to database {PGBOUNCER_DB!r} reached PgBouncer's "
                    f"console, which reports server_version {_short(login[3:])!r}",
                )
            )
        elif re.search(r"FATAL:\s+not allowed\s*$", login):
            found.append(
                (
                    "pgbouncer",
                    f"a login to database {PGBOUNCER_DB!r} was refused with "
                    "PgBouncer's own 'not allowed' (its console, for admin and stats users only)",
                )
            )
        elif "odyssey: " in login:
            found.append(
                (
                    "odyssey",
                    "the pooler's error starts with 'odyssey: ', the prefix Odyssey puts on every error it sends",
                )
            )
        elif "is wrong, or the database does not exist" in login:
            found.append(
                (
                    "pgdog",
                    "an unknown database was refused with PgDog's own wording "
                    "('password ... is wrong, or the database does not exist')",
                )
            )
    odyssey = [a for a in shows.values() if "odyssey: " in (a.get("error") or "")]
    if odyssey:
        found.append(
            (
                "odyssey",
                "the pooler's error starts with 'odyssey: ', the prefix Odyssey puts on every error it sends",
            )
        )
    catalog: dict[str, Any] = signals.get("catalog") or {}
    catalog_name = None
    if catalog and catalog.get("pooler") in CATALOG_POOLERS:
        catalog_name = CATALOG_NAMES.get(
            (catalog["provider"], catalog["pooler"]), CATALOG_POOLERS[catalog["pooler"]]
        )
    names = [n for n, _ in found]
    if catalog_name and (not names or all(_same(n, catalog_name) for n in names)):
        found.append(
            (
                catalog_name,
                f"the host and port match the provider catalog's "
                f"{catalog['provider']} {catalog['endpoint_id']} endpoint",
            )
        )
        names.append(catalog_name)
    if pids and any(p < 0 for p in pids) and "pgbouncer" in names and version is None:
        version = "< 1.21"
    if names:
        # The most specific name: a provider's PgBouncer is more than "pgbouncer".
        kind = max(names, key=lambda n: (n != "pgbouncer", names.index(n)))
        fits = kind in candidates or (pgbouncer_like(kind) and "pgbouncer" in candidates)
        evidence = ([shape] if shape and fits else []) + [e for _, e in found]
        out: dict[str, Any] = {"kind": kind, "identified_by": evidence, "candidates": []}
        if version and (kind == "pgpool-ii" or pgbouncer_like(kind)):
            out["version"] = version
        return out
    return {
        "kind": UNKNOWN,
        "identified_by": ([shape] if shape else []) + rejected,
        "candidates": [{"kind": c, "why": shape} for c in candidates],
    }


def _short(text: str, limit: int = 60) -> str:
    """A pooler's own words, cut: evidence is no place for whatever it sends."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _same(a: str, b: str) -> bool:
    return a == b or (pgbouncer_like(a) and pgbouncer_like(b))


def needs_login(signals: dict[str, Any]) -> bool:
    """A login to database "pgbouncer" tells PgBouncer, Odyssey and PgDog apart without a
    server connection; it is tried only when nothing else named the pooler and no
    remaining candidate would take it for something else (PgCat checks that database's
    login against its admin password; Supavisor would pass it to its server)."""
    named = name_pooler(signals)
    if named["kind"] != UNKNOWN:
        return False
    left = {c["kind"] for c in named["candidates"]}
    return bool(left) and not left & {"pgcat", "supavisor"}


def identify(
    pgconn: PGconn,
    pool: PoolerFacts,
    signals: dict[str, Any],
    deadline: Deadline,
    login: Callable[[str], str],
) -> None:
    """Name the pooler in `pool` (facts.pooler), in place. `signals` holds the free
    evidence (see name_pooler); here the SHOWs are added when that was not enough, and
    as a last resort `login(dbname)` (the error text, or "ok:<server_version>", of one
    login that opens no server connection). Nothing here may fail the probe."""
    if not pool["detected"]:
        return  # a catalog host alone, with no sign of a pooler, names nothing
    named = name_pooler(signals)
    if named["kind"] == UNKNOWN:
        shows: dict[str, Any] = {}
        for sql in (PGCAT_SHOW, PGDOG_SHOW):
            try:
                shows[sql] = show_answer(pgconn, sql, deadline.within(2.0))
            except Exception:  # a pooler that drops us here has told us nothing
                break
            signals["shows"] = shows
            if name_pooler(signals)["kind"] != UNKNOWN:
                break
        if needs_login(signals):
            try:
                signals["login"] = login(PGBOUNCER_DB)
            except Exception:
                pass
        named = name_pooler(signals)
    pool["kind"] = named["kind"]
    pool["identified_by"] = named["identified_by"]
    if named["candidates"]:
        pool["candidates"] = named["candidates"]
    if "version" in named:
        pool["version"] = named["version"]
