"""Session features: what an application that relies on session state gets from this endpoint.

One measurement, on the probe's own connection, in one pipeline that ends with a single
Sync (so the server cannot change in the middle, even in statement mode): prepare a named
statement at the protocol level, run it, ask the server under which name it holds that
statement's text, close it. A pooler that tracks prepared statements per client (PgBouncer
1.21+ with max_prepared_statements > 0, among others) renames it on the way; one that does not
passes the client's name through, so in transaction mode the next transaction may land on a
server without it ("does not exist") and another client's identical name collides ("already
exists"). Nothing outlives the pipeline: the Close is part of it.

The other features are state that lives in the server session (SQL PREPARE, SET, advisory
locks, LISTEN): no pooler carries them from one server connection to another, so they work
exactly when a client keeps its server, which pool-mode detection has just measured. They
are reported as inferred from that measurement, with its evidence, rather than probed by
leaving state on pooled servers that the probe could not reliably clean up.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..options import SESSION_FEATURES
from . import startup
from .deadline import Deadline
from .libpq import QueryError, Timeout, wait_ready
from .model import SessionFeature as Feature
from .model import StartupParameter
from .startup import Outcome

if TYPE_CHECKING:
    from psycopg.pq.abc import PGconn

# What each session-bound feature stands for, to word the inferred evidence.
SESSION_STATE = {
    "sql_prepare": "statements made with SQL PREPARE",
    "session_set": "a session-level SET (search_path, time zone, ...)",
    "advisory_lock": "a session advisory lock",
    "listen_notify": "LISTEN registrations",
    "with_hold_cursors": "cursors declared WITH HOLD",
}
FEATURES = SESSION_FEATURES  # protocol_prepared_statements, then SESSION_STATE's, in order
PROBE_TEXT = b"SELECT 1 AS advisor_session_probe"
LOOKUP = (
    b"SELECT name FROM pg_catalog.pg_prepared_statements WHERE statement OPERATOR(pg_catalog.=) $1"
)


def _collect(pgconn: PGconn, deadline: Deadline) -> list[Any]:
    """Every result up to the pipeline's Sync (the Sync's own result ends the list)."""
    from psycopg import pq

    found: list[Any] = []
    while True:
        while pgconn.is_busy():
            if not wait_ready(pgconn.socket, False, deadline):
                raise Timeout("prepared-statement probe")
            pgconn.consume_input()
        res = pgconn.get_result()
        if res is None:
            continue  # the end of one statement's results
        if res.status == pq.ExecStatus.PIPELINE_SYNC:
            return found
        found.append(res)


def prepared_statement_name(pgconn: PGconn, deadline: Deadline | float) -> tuple[str, str | None]:
    """(the name we used, the name the server holds the statement under, or None when the
    server does not hold it at all). Raises QueryError or Timeout."""
    from psycopg import pq

    deadline = Deadline.of(deadline)
    name = f"advisor_probe_{secrets.token_hex(6)}"
    # One fixed text: a pooler that tracks statements then caches one copy per server
    # connection however many probes run (the random part is only the client's name).
    text = PROBE_TEXT
    pgconn.enter_pipeline_mode()
    try:
        pgconn.send_prepare(name.encode(), text)
        pgconn.send_query_prepared(name.encode(), None)
        pgconn.send_query_params(LOOKUP, [text])
        pgconn.send_close_prepared(name.encode())
        pgconn.pipeline_sync()
        while pgconn.flush():
            if not wait_ready(pgconn.socket, True, deadline):
                raise Timeout("prepared-statement probe")
        results = _collect(pgconn, deadline)
    finally:
        if pgconn.pipeline_status != pq.PipelineStatus.OFF:
            try:
                pgconn.exit_pipeline_mode()
            except Exception:  # results left unread: the connection is closed by the caller
                pass
    for res in results:
        if res.status in (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED):
            message = (res.error_message or b"").decode(errors="replace").strip()
            raise QueryError(message or "the pipeline was aborted")
    rows = results[2]
    names = [
        bytes(rows.get_value(i, 0) or b"").decode(errors="replace") for i in range(rows.ntuples)
    ]
    if name in names:  # another probe's copy may sit on the same server: ours decides
        return name, name
    return name, names[0] if names else None


def measure(
    pgconn: PGconn,
    pooled: bool,
    mode: str | None,
    mode_evidence: list[str],
    deadline: Deadline | float,
) -> dict[str, Feature]:
    """Every feature of FEATURES. `pooled`: a pooler answered (not PostgreSQL itself);
    `mode`: what pool-mode detection measured (None: not known)."""
    keeps_server = not pooled or mode == "session"
    why = "; ".join(mode_evidence) or ("PostgreSQL answered directly" if not pooled else "")
    from psycopg import Error, pq

    out: dict[str, Feature] = {}
    try:
        if (
            pgconn.transaction_status != pq.TransactionStatus.IDLE
            or Deadline.of(deadline).expired()
        ):
            raise Timeout("no time left, or the connection still busy with what timed out")
        ours, held = prepared_statement_name(pgconn, deadline)
    except (QueryError, Timeout, Error) as exc:
        reason = (
            "ran out of time" if isinstance(exc, Timeout) else (str(exc).splitlines() or [""])[0]
        )
        out["protocol_prepared_statements"] = {
            "works": None,
            "how": "measured",
            "evidence": f"the prepared-statement probe failed: {reason}"[:300],
        }
    else:
        out["protocol_prepared_statements"] = _prepared(ours, held, keeps_server, mode, pooled)
    for feature, state in SESSION_STATE.items():
        if keeps_server:
            works: bool | None = True
            evidence = f"{state} stays with this client: it keeps its server ({why})"
        elif mode in ("transaction", "statement"):
            works = False
            evidence = (
                f"{state} stays on the server connection, which goes back to the pool after "
                f"each {mode} and may be handed to another client ({why})"
            )
        else:
            works, evidence = None, f"the pool mode is not known, so neither is this ({why})"
        out[feature] = {"works": works, "how": "inferred", "evidence": evidence[:300]}
    return out


def _prepared(
    ours: str, held: str | None, keeps_server: bool, mode: str | None, pooled: bool
) -> Feature:
    if held is not None and held != ours:
        return {
            "works": True,
            "how": "measured",
            "evidence": f"the pooler renamed the client's named statement to {held}: it "
            "tracks prepared statements per client",
        }
    if held is None:
        return {
            "works": None,
            "how": "measured",
            "evidence": "the server did not report the statement just prepared",
        }
    if keeps_server:
        where = "this client keeps its server" if pooled else "PostgreSQL answered directly"
        return {
            "works": True,
            "how": "measured",
            "evidence": f"the server holds the named statement under its own name and {where}",
        }
    if mode in ("transaction", "statement"):
        return {
            "works": False,
            "how": "measured",
            "evidence": f"the named statement reached the server under its own name and "
            f"servers are handed out per {mode}: the next one may not have it "
            '("does not exist") and another client\'s statement of the same name '
            'collides ("already exists")',
        }
    return {
        "works": None,
        "how": "measured",
        "evidence": "the pooler passes statement names through, but the pool mode is not known",
    }


# -- startup parameters ----------------------------------------------------------------
# Pool-mode detection's second client logs in with these: `options` carrying two settings
# (what a driver's `options`/PGOPTIONS sends) and an application_name of its own. The values
# are harmless and differ from any default, so reading them back tells honoured from ignored.
STARTUP_NAMES = ("options", "search_path", "extra_float_digits", "application_name")
STARTUP_SENT = {"search_path": "pg_catalog, public", "extra_float_digits": "2"}
STARTUP_APP = "advisor-startup"
STARTUP_KWARGS = {
    "options": " ".join(f"-c {k}={v.replace(' ', '')}" for k, v in STARTUP_SENT.items()),
    "application_name": STARTUP_APP,
}
READ_BACK = (
    "SELECT pg_catalog.current_setting('search_path'), "
    "pg_catalog.current_setting('extra_float_digits'), "
    "pg_catalog.current_setting('application_name')"
)


def read_startup(pgconn: PGconn, deadline: Deadline | float) -> dict[str, str]:
    """What the session shows of the settings STARTUP_KWARGS sent. Not through
    libpq.read_only: its SET LOCAL search_path would hide the value under test (READ_BACK
    qualifies every name it uses, so it needs no pinned search_path)."""
    from .libpq import run

    deadline = Deadline.of(deadline)
    ms = max(100, int(deadline.left() * 1000))
    sql = f"BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}; {READ_BACK}; ROLLBACK"
    rows = run(pgconn, sql, deadline)  # the last result with rows: ROLLBACK has none
    if not rows:
        raise QueryError("the startup parameters were not read back")
    row = rows[0]
    return dict(zip(("search_path", "extra_float_digits", "application_name"), row, strict=True))


# The raw StartupMessage probe (facts/startup.py) sends these as parameters of their own,
# in this order (what asyncpg's server_settings, pgx's RuntimeParams, Npgsql's Search Path
# and PgJDBC's currentSchema send). A pooler stops at the first it refuses, so the one most
# often taken goes first: extra_float_digits (PgJDBC before 42.7.5 always sent it, and
# PgBouncer setups commonly list it in ignore_startup_parameters), then search_path, then
# options with the same two settings inside.
SEPARATE = (
    ("extra_float_digits", STARTUP_SENT["extra_float_digits"]),
    ("search_path", STARTUP_SENT["search_path"]),
    ("options", STARTUP_KWARGS["options"]),
)


def probe_separately(pgconn: PGconn, deadline: Deadline | float) -> Outcome:
    """The raw probe, to where the probe's login `pgconn` got in, as its user and database,
    with the TLS it used."""
    info = {o.keyword.decode(): (o.val or b"").decode() for o in pgconn.info}
    host, port = pgconn.host.decode(), int(pgconn.port.decode() or 5432)
    hostaddr = pgconn.hostaddr.decode() if hasattr(pgconn, "hostaddr") else ""
    address: tuple[str, int] | str
    if host.startswith("/") or host.startswith("@"):
        address = f"{host}/.s.PGSQL.{port}"
    else:
        address = (hostaddr or host, port)
    tls = startup.TLS(
        in_use=bool(pgconn.ssl_in_use),
        sslmode=info.get("sslmode") or "prefer",
        rootcert=info.get("sslrootcert") or None,
        cert=info.get("sslcert") or None,
        key=info.get("sslkey") or None,
        crl=info.get("sslcrl") or None,
        direct=info.get("sslnegotiation") == "direct",
    )
    return startup.probe(
        address,
        host,
        pgconn.user.decode(),
        pgconn.db.decode(),
        list(SEPARATE),
        tls,
        deadline,
    )


def _same(name: str, shown: Mapping[str, str]) -> bool:
    return shown[name].replace(" ", "") == STARTUP_SENT[name].replace(" ", "")


def startup_parameters(
    outcome: Outcome | None,
    shown: Mapping[str, str] | None,
    carried_options: bool,
    pooled: bool,
    kind: str | None = None,
) -> dict[str, StartupParameter]:
    """For each of STARTUP_NAMES: {"accepted": "honours" | "ignores" | "rejects" | None,
    "how", "evidence"}. `outcome`: the raw probe's (None: not run); `shown`: what the
    second client's session showed (None: not read back); `carried_options`: it logged in
    with STARTUP_KWARGS' options (only when the raw probe saw options taken at startup).

    A parameter taken at startup is reported with accepted = None: whether the pooler
    applies it or drops it shows only in a session, and libpq cannot log in with
    search_path or extra_float_digits as parameters of their own (only inside options)."""
    out: dict[str, StartupParameter] = {}
    if not pooled:
        for name in STARTUP_NAMES:
            out[name] = {
                "accepted": "honours",
                "how": "inferred",
                "evidence": "PostgreSQL answered directly: it applies every startup parameter",
            }
        return out
    app = (shown or {}).get("application_name")
    out["application_name"] = {
        "accepted": None if app is None else "honours" if app == STARTUP_APP else "ignores",
        "how": "measured",
        "evidence": "not read back: no second client logged in"
        if app is None
        else f"the second client's session shows {app!r}",
    }
    for name, _value in SEPARATE:
        out[name] = _separate(name, outcome, shown, carried_options, kind)
    return {name: out[name] for name in STARTUP_NAMES}


def _separate(
    name: str,
    outcome: Outcome | None,
    shown: Mapping[str, str] | None,
    carried_options: bool,
    kind: str | None,
) -> StartupParameter:
    form = "inside options" if name == "options" else "as a startup parameter of its own"
    if kind == "pgpool-ii":
        return {
            "accepted": None,
            "how": "measured",
            "evidence": "not probed: pgpool-II hands the startup packet on to PostgreSQL",
        }
    if outcome is None:
        return {
            "accepted": None,
            "how": "measured",
            "evidence": "not measured: the startup-parameter probe did not run",
        }
    state = outcome.state(name)
    if state == "rejected":
        return {
            "accepted": "rejects",
            "how": "measured",
            "evidence": f"sent {form}: {outcome.reply}"[:300],
        }
    if state == "unknown":
        why = (
            f"the endpoint refused {outcome.rejected} first and looks no further"
            if outcome.rejected
            else outcome.reply
        )
        return {"accepted": None, "how": "measured", "evidence": f"not measured: {why}"[:300]}
    if name == "options" and carried_options and shown is not None:
        kept = [n for n in ("search_path", "extra_float_digits") if _same(n, shown)]
        return {
            "accepted": "honours" if kept else "ignores",
            "how": "measured",
            "evidence": "taken at startup; the second client logged in with -c search_path "
            "and -c extra_float_digits inside options and its session shows "
            f"{shown['search_path']!r} and {shown['extra_float_digits']!r}",
        }
    seen = ""
    if carried_options and shown is not None and name != "options":
        seen = f"; inside options the session showed {shown[name]!r}"
    return {
        "accepted": None,
        "how": "measured",
        "evidence": f"taken at startup {form} ({outcome.reply}); whether it is applied or "
        f"dropped shows only after a login with it, which the probe does not make{seen}"[:300],
    }


# -- MySQL and MariaDB -------------------------------------------------------------------
# The same question for MySQL's session state. No proxy here hands it from one server
# connection to another: ProxySQL stops multiplexing a connection that uses it, RDS Proxy
# pins the client to its connection, so the state works at the cost of the pooling; what
# the answer rests on is the pooler the probe saw (facts/mysql.py pooler_evidence).
MYSQL_STATE = {
    "server_prepared_statements": "server-side prepared statements (COM_STMT_PREPARE)",
    "user_variables": "user variables (@name)",
    "get_lock": "named locks (GET_LOCK)",
    "temp_tables": "temporary tables",
    "session_set": "a session-level SET",
}
PINNING = {
    "proxysql": "ProxySQL stops multiplexing a connection that uses",
    "rds-proxy": "RDS Proxy pins the client to its server connection when it sees",
}


def mysql_features(detected: bool, kind: str | None) -> dict[str, Feature]:
    out: dict[str, Feature] = {}
    for feature, state in MYSQL_STATE.items():
        if not detected:
            works: bool | None = True
            evidence = f"the server answered directly: {state} stay with this session"
        elif kind in PINNING:
            works, evidence = True, f"{PINNING[kind]} {state}: it works, unpooled from then on"
        else:
            works = None
            evidence = (
                f"a proxy ({kind or 'unknown'}) answered: whether it keeps {state} is not known"
            )
        out[feature] = {"works": works, "how": "inferred", "evidence": evidence}
    return out


# PgBouncer hands these startup parameters on for each client; any other it refuses at login
# ("unsupported startup parameter: NAME") unless ignore_startup_parameters lists it, and
# then drops it (track_extra_parameters adds to the first list, PgBouncer 1.20+).
PGBOUNCER_TRACKED = {"client_encoding", "datestyle", "timezone", "standard_conforming_strings"}
PGBOUNCER_TRACKED |= {"application_name"}


def _names(value: object) -> set[str]:
    return {n.strip().lower() for n in str(value or "").split(",") if n.strip()}


def with_pgbouncer_settings(found: dict[str, Any], settings: Mapping[str, Any]) -> dict[str, Any]:
    """search_path and extra_float_digits as startup parameters of their own (what asyncpg's
    server_settings and PgJDBC send), from the PgBouncer settings the admin console shows;
    the rest of `found` stays as measured."""
    ignored = _names(settings.get("ignore_startup_parameters"))
    tracked = PGBOUNCER_TRACKED | _names(settings.get("track_extra_parameters"))
    shown = (
        f"ignore_startup_parameters = {settings.get('ignore_startup_parameters') or '(empty)'}, "
        f"track_extra_parameters = {settings.get('track_extra_parameters') or '(empty)'}"
    )
    out = dict(found)
    for name in ("search_path", "extra_float_digits"):
        accepted: str | None
        if name in tracked:
            # PgBouncer puts a tracked parameter back on a server only once the server
            # has reported it (src/varcache.c, apply_var): PostgreSQL 15 does not report
            # search_path, and through 1.24 it was dropped (tests/test_startup_params.py).
            accepted = None
            what = (
                "takes it (track_extra_parameters) but applies it only where the server "
                "reports it in ParameterStatus"
            )
        elif name in ignored:
            accepted, what = "ignores", "drops it"
        else:
            accepted, what = "rejects", "refuses the login ('unsupported startup parameter')"
        out[name] = {
            "accepted": accepted,
            "how": "inferred",
            "evidence": f"as a startup parameter of its own, PgBouncer {what} ({shown})",
        }
    return out
