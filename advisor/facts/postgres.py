"""Facts from a live PostgreSQL server (or a pooler in front of it).

The only module that talks to PostgreSQL. It opens ONE connection, works inside a
read-only transaction with a statement timeout, runs two statements (the timeout and
one facts query), rolls back and closes, whatever happens. Every name the statements
use is qualified with pg_catalog, so a role's own functions, operators or views cannot
stand in for the built-ins even where no transaction can pin search_path. All of it,
pool-mode detection included, ends by one deadline made from --timeout.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Literal

from ..errors import ProbeFailed
from ..log import log
from ..target import Target
from . import dns, libpq, pooler, session
from .deadline import Deadline
from .model import ClientTLS, EndpointFacts, HostAttempt, PoolerFacts, PostgresFacts

if TYPE_CHECKING:
    import ctypes

    import psycopg
    from psycopg.pq.abc import PGconn

# Cancelling a statement after time ran out must fit in the second --timeout allows.
CANCEL_S = 0.5

EQ = "OPERATOR(pg_catalog.=)"  # `=` itself is looked up on search_path like any operator
FACTS_SQL = f"""
SELECT
  pg_catalog.current_setting('server_version') AS server_version,
  pg_catalog.current_setting('server_version_num')::int AS server_version_num,
  pg_catalog.current_setting('max_connections')::int AS max_connections,
  pg_catalog.current_setting('superuser_reserved_connections')::int AS superuser_reserved,
  coalesce(pg_catalog.current_setting('reserved_connections', true), '0')::int AS reserved_extra,
  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity
    WHERE backend_type {EQ} 'client backend')::int AS in_use,
  current_user AS role_name,
  r.rolconnlimit AS role_connlimit,
  r.rolsuper AS role_superuser,
  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity
    WHERE backend_type {EQ} 'client backend' AND usename {EQ} current_user)::int AS role_in_use,
  pg_catalog.current_database() AS database_name,
  d.datconnlimit AS db_connlimit,
  (SELECT pg_catalog.count(*) FROM pg_catalog.pg_stat_activity
    WHERE backend_type {EQ} 'client backend'
      AND datname {EQ} pg_catalog.current_database())::int AS db_in_use,
  pg_catalog.pg_backend_pid() AS backend_pid,
  pg_catalog.inet_server_port() AS server_port,
  pg_catalog.host(pg_catalog.inet_server_addr()) AS server_addr,
  pg_catalog.current_setting('ssl') AS ssl_setting,
  s.ssl AS session_ssl, s.version AS session_ssl_version, s.cipher AS session_ssl_cipher,
  pg_catalog.current_setting('transaction_read_only') AS read_only
FROM pg_catalog.pg_roles r
JOIN pg_catalog.pg_database d ON d.datname {EQ} pg_catalog.current_database()
LEFT JOIN pg_catalog.pg_stat_ssl s ON s.pid {EQ} pg_catalog.pg_backend_pid()
WHERE r.rolname {EQ} current_user
"""


INTS = (
    "server_version_num",
    "max_connections",
    "superuser_reserved",
    "reserved_extra",
    "in_use",
    "role_connlimit",
    "role_in_use",
    "db_connlimit",
    "db_in_use",
    "backend_pid",
    "server_port",
)
BOOLS = ("role_superuser", "session_ssl")


def gather(
    target: Target,
    timeout: Deadline | float = 10.0,
    detect_mode: bool = True,
    session_features: bool = False,
    endpoint: EndpointFacts | None = None,
) -> PostgresFacts:
    """Return the server facts for `target`; raise ProbeFailed with a scrubbed message.
    `timeout` is seconds, or the command's Deadline (shared with its other URLs).
    `session_features`: also measure them (facts/session.py), on the same connection.
    `endpoint`: the catalog's word on this host and port (urlfacts.endpoint_facts), for
    naming the pooler; looked up here, only when a pooler answers, if not given."""
    import psycopg  # imported here: `advisor --help` and `advisor lint` must not pay for it

    deadline = Deadline.of(timeout)
    if deadline.expired():
        raise ProbeFailed(
            f"not probed: --timeout {deadline.seconds:g} s was used up before", kind="timeout"
        )
    started = time.monotonic()
    opened = 0
    addresses: list[Any] = [None]  # None: libpq finds the server itself (socket, IP, hostaddr)
    per_attempt = libpq.url_connect_timeout(target)

    def connect(extra: dict[str, str] | None = None) -> psycopg.Connection[Any]:
        """Log in (each address in turn) within the deadline; Timeout when it passes.
        `extra`: more libpq keywords for this login."""
        nonlocal opened
        error: Exception | None = None
        for address in list(addresses):
            if deadline.expired():
                break
            kw = {**libpq.connect_kwargs(target, deadline.seconds), **(extra or {})}
            if address is not None:
                kw["hostaddr"] = address  # `host` stays: TLS checks the certificate against it
            log.debug(
                "connecting to %s%s (%.1f s left, sslmode=%s)",
                target.display,
                f" at {address}" if address else "",
                deadline.left(),
                kw.get("sslmode", "prefer"),
            )
            try:
                conn = libpq.connect(kw, deadline.within(per_attempt))
            except (psycopg.Error, libpq.Timeout) as exc:
                log.debug(
                    "connection attempt failed: %s", (str(exc).strip().splitlines() or [""])[0]
                )
                error = exc
                continue
            opened += 1
            addresses[:] = [address]  # later connections go where this one got in
            log.debug(
                "connected in %.0f ms: backend pid %s, TLS %s",
                (time.monotonic() - started) * 1000,
                conn.info.backend_pid,
                "on" if conn.pgconn.ssl_in_use else "off",
            )
            return conn
        if isinstance(error, psycopg.Error):
            raise error
        raise libpq.Timeout("connecting")

    startup: dict[str, Any] = {"outcome": None, "shown": None, "options": False}

    def separately() -> None:
        """The raw startup-parameter probe (facts/startup.py), once, to where the probe's
        login got in: the one connection session features may add to detection's two."""
        nonlocal opened
        if startup["outcome"] is not None or conn is None:
            return
        outcome = session.probe_separately(conn.pgconn, deadline.within(3.0))
        startup["outcome"] = outcome
        opened += int(outcome.ran)
        log.debug("startup parameters of their own: %s", outcome.reply)

    def second() -> psycopg.Connection[Any]:
        """Detection's second client; with session features the raw probe runs first, and
        this client carries options (facts/session.py) only when the raw probe saw the
        pooler take it at startup, so it is not refused: no login is retried."""
        if not session_features:
            return connect()
        separately()
        outcome = startup["outcome"]
        carry = outcome is not None and outcome.state("options") == "accepted"
        extra = dict(session.STARTUP_KWARGS) if carry else {"application_name": session.STARTUP_APP}
        try:
            b = connect(extra)
        except psycopg.Error as exc:
            # Taken at startup yet refused at login: not PgBouncer's way; once more without.
            if not carry or "unsupported" not in str(exc):
                raise
            carry = False
            b = connect({"application_name": session.STARTUP_APP})
        startup["options"] = carry
        try:
            startup["shown"] = session.read_startup(b.pgconn, deadline.within(2.0))
        except (libpq.QueryError, libpq.Timeout):
            pass  # detection goes on; the parameters are reported as not read back
        return b

    conn = None
    candidates = target.each_host()
    attempts: list[HostAttempt] = []
    try:
        # libpq's multi-host form: each host in order until one takes the login (and fits
        # target_session_attrs, which libpq checks per host); every later connection of
        # the probe then goes to that host only, as one pooled client's would.
        for i, one in enumerate(candidates):
            target, addresses[:] = one, [None]
            try:
                host = target.host
                if host and libpq.needs_lookup(target):
                    log.debug("resolving %s (at most %.1f s)", host, deadline.left())
                    addresses[:] = dns.resolve(host, target.effective_port, deadline.left())
                    log.debug("%s resolves to %s", host, ", ".join(addresses))
                conn = connect()
            except (psycopg.Error, libpq.Timeout, ProbeFailed) as exc:
                if i == len(candidates) - 1 or deadline.expired():
                    raise
                reason = (target.scrub(str(exc)).strip().splitlines() or ["timed out"])[0][:200]
                attempts.append(_attempt(target, "failed", reason))
                continue
            attempts.append(_attempt(target, "answered"))
            attempts += [_attempt(rest, "not tried") for rest in candidates[i + 1 :]]
            break
        assert conn is not None
        connect_ms = (time.monotonic() - started) * 1000
        evidence_extra, statement_mode = [], False
        try:
            row = read_facts(conn.pgconn, deadline)
        except libpq.QueryError as exc:
            if pooler.STATEMENT_MODE_ERROR not in str(exc):
                raise
            # Statement mode refuses BEGIN and drops the client: log in once more and run
            # the single SELECT on its own (it only reads, and names only pg_catalog).
            conn.close()
            conn = connect()
            row = read_facts(conn.pgconn, deadline, transaction=False)
            statement_mode = True
            evidence_extra.append(
                f"the pooler refused a read-only transaction block ({pooler.STATEMENT_MODE_ERROR})"
            )
        facts = build_facts(
            row, _client_tls(conn, target), conn.info.backend_pid, target, connect_ms=connect_ms
        )
        if len(candidates) > 1:
            facts["hosts"] = attempts
        pool = facts["pooler"]
        pool["evidence"] += evidence_extra
        # With several hosts the URL's catalog match may be another host's: look it up
        # for the one that answered.
        signals = _naming_signals(
            conn, target, endpoint if len(candidates) == 1 else None, pool["detected"]
        )
        if statement_mode:
            pool.update({"detected": True, "kind": pooler.UNKNOWN, "pool_mode": "statement"})
            signals["statement_mode"] = True
        elif pool["detected"] and detect_mode:
            mode, why = pooler.detect_pool_mode(conn.pgconn, second, deadline, pids=signals["pids"])
            pool["pool_mode"] = mode
            pool["evidence"] += why
            signals["statement_mode"] = mode == "statement"  # a refusal worded by PgBouncer
        elif facts["session"]["server_port"] != facts["session"]["dialed_port"]:
            version = pooler.pgpool_version(conn.pgconn, deadline)
            if version:
                pool.update({"detected": True, "pool_mode": "session"})
                signals["pgpool_version"] = version
                pool["evidence"].append(
                    f"SHOW pool_version answered {version!r}: pgpool-II "
                    "(each client is bound to one pgpool child and its "
                    "cached backend connection)"
                )
                signals["pids"] = []  # pgpool relays the backend's own cancel key

        def login(dbname: str) -> str:
            """One login for naming the pooler (pooler.identify): the pooler answers it
            itself, so it opens no server connection. Its error text, or
            "ok:<server_version>" when the pooler let us in (then closed at once)."""
            nonlocal opened
            try:
                other = connect({"dbname": dbname})
            except psycopg.Error as exc:
                return str(exc)
            opened -= 1  # the pooler's own console: no server connection behind it
            try:
                return "ok:" + (other.info.parameter_status("server_version") or "")
            finally:
                other.close()

        pooler.identify(conn.pgconn, pool, signals, deadline, login)
        if session_features:
            facts["session_features"] = session.measure(
                conn.pgconn, pool["detected"], pool["pool_mode"], pool["evidence"], deadline
            )
            if pool["detected"] and pool["kind"] != "pgpool-ii":
                separately()  # when detection needed no second client (or none ran)
            facts["startup_parameters"] = session.startup_parameters(
                startup["outcome"],
                startup["shown"],
                startup["options"],
                pool["detected"],
                pool["kind"],
            )
    except psycopg.Error as exc:
        raise _probe_failed(exc, target, deadline.left()) from None
    except libpq.Timeout:
        raise ProbeFailed(_timed_out(deadline, per_attempt), kind="timeout") from None
    except libpq.QueryError as exc:
        if "statement timeout" in str(exc):  # the server's own deadline, same as ours
            raise ProbeFailed(
                f"timed out after {deadline.seconds:g} s: the server cancelled "
                "the facts query (statement_timeout)",
                kind="timeout",
            ) from None
        raise ProbeFailed(target.scrub(str(exc)).splitlines()[0][:300], kind="query") from None
    finally:
        if conn is not None:
            _close(conn)
    facts["probe"].update(
        {"connections_opened": opened, "total_ms": round((time.monotonic() - started) * 1000, 1)}
    )
    return facts


def _attempt(
    target: Target, result: Literal["answered", "failed", "not tried"], error: str | None = None
) -> HostAttempt:
    return {"host": target.host, "port": target.effective_port, "result": result, "error": error}


def _timed_out(deadline: Deadline, per_attempt: int | None) -> str:
    if not deadline.expired() and per_attempt is not None:
        return f"timed out after {per_attempt} s connecting (connect_timeout in the URL)"
    return f"timed out after {deadline.seconds:g} s waiting for the server"


def _close(conn: psycopg.Connection[Any]) -> None:
    """Close, cancelling first a statement still running (timeout, Ctrl-C): otherwise the
    server would keep the session busy until its statement_timeout."""
    from psycopg import pq

    try:
        if conn.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            log.debug("cancelling the running statement")
            conn.cancel_safe(timeout=CANCEL_S)
    except Exception as exc:  # best effort: closing below still ends the session
        log.debug("cancel failed: %s", type(exc).__name__)
    finally:
        conn.close()
        log.debug("connection closed")


# Server strings longer than this are cut: a report is no place for megabytes.
MAX_TEXT = 1000


def read_facts(
    pgconn: PGconn, deadline: Deadline | float, transaction: bool = True
) -> dict[str, Any]:
    """One round trip: BEGIN READ ONLY, a statement timeout, the facts query, ROLLBACK.
    search_path is pinned to pg_catalog as well (defence in depth: the query qualifies
    every name it uses)."""
    deadline = Deadline.of(deadline)
    sql = libpq.read_only(FACTS_SQL, deadline) if transaction else FACTS_SQL
    log.debug(
        "running the facts query in a read-only transaction (%.1f s left)"
        if transaction
        else "running the facts query (no transaction block, %.1f s left)",
        deadline.left(),
    )
    found = libpq.results(pgconn, sql, deadline)
    try:
        names, rows = next((n, r) for n, r in found if "max_connections" in n)
        row = {
            k: (v[: MAX_TEXT - 1] + "…" if isinstance(v, str) and len(v) > MAX_TEXT else v)
            for k, v in zip(names, rows[0], strict=False)
        }
        for key in INTS:
            row[key] = int(row[key]) if row[key] is not None else None
        for key in BOOLS:
            row[key] = row[key] == "t" if row[key] is not None else None
    except (StopIteration, IndexError, KeyError, ValueError):
        raise libpq.QueryError("unexpected reply to the facts query: is this PostgreSQL?") from None
    return row


def _client_tls(conn: psycopg.Connection[Any], target: Target) -> ClientTLS:
    pgconn = conn.pgconn
    in_use = bool(pgconn.ssl_in_use)
    sslmode = _effective_option(pgconn, b"sslmode") or target.sslmode or "prefer"

    return {
        "in_use": in_use,
        "version": _ssl_attribute(pgconn, b"protocol") if in_use else None,
        "cipher": _ssl_attribute(pgconn, b"cipher") if in_use else None,
        "sslmode": sslmode,
        # libpq only completes a verify-ca/verify-full connection after checking the chain.
        "verified": in_use and sslmode in ("verify-ca", "verify-full"),
        "hostname_verified": in_use and sslmode == "verify-full",
    }


def _ssl_attribute(pgconn: PGconn, name: bytes) -> str | None:
    """PQsslAttribute, which psycopg does not wrap: call the libpq psycopg itself loaded."""
    try:
        import ctypes

        lib = _libpq()
        lib.PQsslAttribute.restype = ctypes.c_char_p
        lib.PQsslAttribute.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        ptr = pgconn.pgconn_ptr  # type: ignore[attr-defined]  # not in the pq protocol
        value = lib.PQsslAttribute(ctypes.c_void_p(ptr), name)
        return value.decode() if value else None
    except Exception:  # an unusual libpq build: the server side still reports TLS
        return None


def _libpq() -> ctypes.CDLL:
    import ctypes
    import ctypes.util
    from pathlib import Path

    from psycopg import pq

    if pq.__impl__ == "binary":
        import psycopg_binary

        libs = Path(psycopg_binary.__file__).parent.parent / "psycopg_binary.libs"
        found = sorted(libs.glob("libpq-*.so*"))
        if found:
            return ctypes.CDLL(str(found[0]))
    return ctypes.CDLL(ctypes.util.find_library("pq"))


def _effective_option(pgconn: PGconn, keyword: bytes) -> str | None:
    for option in pgconn.info:
        if option.keyword == keyword and option.val:
            return option.val.decode()
    return None


def build_facts(
    row: dict[str, Any],
    client_tls: ClientTLS,
    startup_pid: int | None,
    target: Target,
    connect_ms: float = 0.0,
    total_ms: float = 0.0,
) -> PostgresFacts:
    """Turn the query row into the report's facts (pure; unit-tested on recorded rows)."""
    reserved = row["superuser_reserved"] + row["reserved_extra"]
    available = row["max_connections"] - reserved - row["in_use"]
    return {
        "server_version": row["server_version"],
        "server_version_num": row["server_version_num"],
        "max_connections": row["max_connections"],
        "reserved_connections": reserved,
        "superuser_reserved_connections": row["superuser_reserved"],
        "reserved_connections_setting": row["reserved_extra"],
        "connections_in_use": row["in_use"],
        "available_connections": available,
        "role": {
            "name": row["role_name"],
            "connection_limit": row["role_connlimit"],
            "connections": row["role_in_use"],
            "superuser": row["role_superuser"],
        },
        "database": {
            "name": row["database_name"],
            "connection_limit": row["db_connlimit"],
            "connections": row["db_in_use"],
        },
        "pooler": pooler_evidence(row, startup_pid, target),
        "tls": {
            "client": client_tls,
            "server": {
                "in_use": bool(row["session_ssl"]),
                "version": row["session_ssl_version"],
                "cipher": row["session_ssl_cipher"],
                "ssl_enabled": row["ssl_setting"] == "on",
                "server_addr": row["server_addr"],
            },
        },
        "session": {
            "backend_pid": row["backend_pid"],
            "startup_pid": startup_pid,
            "server_port": row["server_port"],
            "dialed_port": None if target.is_socket else target.effective_port,
            "read_only": row["read_only"] == "on",
        },
        "probe": {
            "connections_opened": 1,
            "connect_ms": round(connect_ms, 1),
            "total_ms": round(total_ms, 1),
        },
    }


def _naming_signals(
    conn: psycopg.Connection[Any],
    target: Target,
    endpoint: EndpointFacts | None,
    detected: bool,
) -> dict[str, Any]:
    """What this login showed that can name the pooler for free (pooler.name_pooler):
    the cancel-key PID, the application_name reported back, the catalog's endpoint (a
    provider's own host only: a port convention alone names nothing)."""
    if endpoint is None and detected:
        from ..urlfacts import endpoint_facts

        endpoint = endpoint_facts(target)
    catalog = None
    if endpoint and endpoint["host_provider"] and endpoint["pooler"]:
        catalog = {
            "provider": endpoint["provider"],
            "pooler": endpoint["pooler"],
            "endpoint_id": endpoint["endpoint_id"],
        }
    pid = conn.info.backend_pid
    return {
        "pids": [] if pid is None else [pid],
        "app_sent": _effective_option(conn.pgconn, b"application_name"),
        "app_seen": conn.info.parameter_status("application_name"),
        "ps_server_version": conn.info.parameter_status("server_version"),
        "catalog": catalog,
    }


def pooler_evidence(row: dict[str, Any], startup_pid: int | None, target: Target) -> PoolerFacts:
    """Positive evidence only: a TCP forwarder changes the port but not the PID."""
    evidence = []
    pid_differs = startup_pid is not None and startup_pid != row["backend_pid"]
    if pid_differs:
        evidence.append(
            f"backend PID at startup ({startup_pid}) differs from pg_backend_pid() "
            f"({row['backend_pid']}): the cancel key was issued by a pooler, not by PostgreSQL"
        )
    else:
        evidence.append(
            "backend PID at startup matches pg_backend_pid(): "
            "the session talks to PostgreSQL itself"
        )
    dialed = None if target.is_socket else target.effective_port
    if row["server_port"] is not None and dialed is not None and row["server_port"] != dialed:
        evidence.append(
            f"server listens on port {row['server_port']} but port {dialed} was dialled: "
            "a proxy or port forward sits in between"
        )
    detected = pid_differs
    return {
        "detected": detected,
        # A pooler hands out its own cancel keys; which one it is, pooler.identify says.
        "kind": pooler.UNKNOWN if detected else None,
        "pool_mode": None,
        "evidence": evidence,
    }


_REASONS = (
    ("password authentication failed", "authentication", "authentication failed for user {user}"),
    ("authentication failed", "authentication", "authentication failed for user {user}"),
    (
        "no password supplied",
        "authentication",
        "authentication failed: the server wants a password",
    ),
    ("pg_hba.conf", "authentication", None),  # the server's rules refuse this client
    ("root certificate file", "tls", "TLS: the CA file (sslrootcert) cannot be read"),
    (
        "does not match host name",
        "tls",
        "TLS hostname mismatch: the server's certificate does not name the host dialled",
    ),
    ("certificate verify failed", "tls", "{tls}"),
    ("does not exist", "missing-database", None),
    ("timeout expired", "timeout", "timed out after {timeout}"),
    ("canceling statement due to statement timeout", "timeout", "the facts query timed out"),
    ("too many clients", "no-free-slot", None),
    ("remaining connection slots are reserved", "no-free-slot", None),
    ("too many connections", "no-free-slot", None),
    ("could not translate host name", "dns", None),
    ("Name or service not known", "dns", None),
    ("certificate", "tls", None),
    ("SSL", "tls", None),
    ("Connection refused", "unreachable", None),
    ("No such file or directory", "unreachable", None),
)


def _probe_failed(exc: Exception, target: Target, timeout: float | None = None) -> ProbeFailed:
    """One scrubbed line saying why libpq could not log in. `timeout`: the seconds left,
    for a second look at a certificate libpq refused (it only says "certificate verify
    failed"; facts/tlsdiag.py tells expired from unknown CA). With sslmode=prefer (the
    default) libpq tries TLS, and when that login fails tries again in plain text: its
    message then holds both attempts, and so does this one."""
    import re

    from ..pgenv import libpq_option

    text = target.scrub(str(exc)).strip()
    lines = [
        line.strip().removeprefix("connection failed: ")
        for line in text.splitlines()
        if line.strip()
    ] or ["unknown error"]
    attempts: list[list[str]] = []  # libpq starts each attempt's error with this phrase
    for line in lines:
        if line.startswith("connection to server") or not attempts:
            attempts.append([])
        attempts[-1].append(line)
    server = re.compile(
        r'connection to server (?:at "(?P<name>[^"]*)"(?: \((?P<ip>[^)]*)\))?'
        r', port (?P<port>\d+)|on socket "[^"]*") failed: '
    )
    budget = 0.5 if timeout is None else max(0.0, timeout)
    user = target.user or libpq_option(target, "user") or "(default)"

    def explain(part: list[str], bare: bool = False) -> tuple[str, str]:
        """(kind, message) for the lines of one attempt (or all of them)."""
        joined = "\n".join(part)
        first = part[0]
        where = server.match(first)
        if bare and where:
            first = first[where.end() :]
        kind, template = "unreachable", None
        for needle, reason, tmpl in _REASONS:
            if needle in joined:
                kind, template = reason, tmpl
                break
        if not template:
            return kind, first[:300]
        tls = ""
        if "{tls}" in template:
            from . import tlsdiag

            tls = tlsdiag.sentence(target, budget, where)
        message = template.format(user=user, timeout="the connect timeout", tls=tls)
        if kind != "authentication":
            message += f" ({first[:200]})"
        return kind, message

    mode = libpq_option(target, "sslmode") or "prefer"
    legs = {"prefer": ("TLS", "plain text"), "allow": ("plain text", "TLS")}.get(mode)
    heads = [m for m in (server.match(a[0]) for a in attempts) if m]
    if legs and len(attempts) == 2 == len(heads) and heads[0].groups() == heads[1].groups():
        (kind1, said1), (kind2, said2) = explain(attempts[0], True), explain(attempts[1], True)
        where = heads[0].group()[: -len(" failed: ")]
        message = (
            f"{where}: tried {legs[0]} first, then {legs[1]} (sslmode={mode}), and both "
            f"failed: over {legs[0]}, {said1}; in {legs[1]}, {said2}"
        )
        return ProbeFailed(message[:600], kind=kind2 if kind2 != "unreachable" else kind1)
    kind, message = explain(lines)
    return ProbeFailed(message, kind=kind)


# -- for the audit's facts (facts/workload.py), which log in once the same way ---------


def client_tls(conn: psycopg.Connection[Any], target: Target) -> ClientTLS:
    return _client_tls(conn, target)


def login_failed(exc: Exception, target: Target, timeout: float | None = None) -> ProbeFailed:
    return _probe_failed(exc, target, timeout)


def close(conn: psycopg.Connection[Any]) -> None:
    _close(conn)
