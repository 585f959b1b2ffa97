"""Facts from a live PostgreSQL server (or a pooler in front of it).

The only module that talks to PostgreSQL. It opens ONE connection, works inside a
read-only transaction with a statement timeout, runs two statements (the timeout and
one facts query), rolls back and closes, whatever happens.
"""

from __future__ import annotations

import math
import time

from ..errors import ProbeFailed
from ..log import log
from ..target import Target, is_ip_address
from . import dns

APPLICATION_NAME = "advisor"

FACTS_SQL = """
SELECT
  current_setting('server_version') AS server_version,
  current_setting('server_version_num')::int AS server_version_num,
  current_setting('max_connections')::int AS max_connections,
  current_setting('superuser_reserved_connections')::int AS superuser_reserved,
  coalesce(current_setting('reserved_connections', true), '0')::int AS reserved_extra,
  (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use,
  current_user AS role_name,
  r.rolconnlimit AS role_connlimit,
  r.rolsuper AS role_superuser,
  (SELECT count(*) FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND usename = current_user)::int AS role_in_use,
  current_database() AS database_name,
  d.datconnlimit AS db_connlimit,
  (SELECT count(*) FROM pg_stat_activity
    WHERE backend_type = 'client backend' AND datname = current_database())::int AS db_in_use,
  pg_backend_pid() AS backend_pid,
  inet_server_port() AS server_port,
  host(inet_server_addr()) AS server_addr,
  current_setting('ssl') AS ssl_setting,
  s.ssl AS session_ssl, s.version AS session_ssl_version, s.cipher AS session_ssl_cipher,
  current_setting('transaction_read_only') AS read_only
FROM pg_roles r
JOIN pg_database d ON d.datname = current_database()
LEFT JOIN pg_stat_ssl s ON s.pid = pg_backend_pid()
WHERE r.rolname = current_user
"""


def connect_kwargs(target: Target, timeout: float) -> dict:
    kw = target.libpq_kwargs()
    # The URL's connect_timeout wins when it is stricter than --timeout.
    url_timeout = kw.get("connect_timeout")
    seconds = max(2, math.ceil(timeout))
    if url_timeout and url_timeout.strip().lstrip("-").isdigit() and int(url_timeout) > 0:
        seconds = min(seconds, max(2, int(url_timeout)))
    kw["connect_timeout"] = str(seconds)
    kw.setdefault("application_name", APPLICATION_NAME)
    return kw


def pinned_kwargs(target: Target, seconds: float) -> dict:
    """connect_kwargs with the host name looked up first, within `seconds`: libpq's own
    lookup has no deadline. `host` stays, so TLS still checks the certificate against it."""
    kw = connect_kwargs(target, seconds)
    if needs_lookup(target):
        kw["hostaddr"] = dns.resolve(target.host, target.effective_port, seconds)[0]
    return kw


def needs_lookup(target: Target) -> bool:
    """A host name that libpq would resolve itself (not a socket, an IP or a hostaddr)."""
    host = target.host
    return bool(host) and not target.is_socket and not is_ip_address(host) \
        and "hostaddr" not in target.params


INTS = ("server_version_num", "max_connections", "superuser_reserved", "reserved_extra", "in_use",
        "role_connlimit", "role_in_use", "db_connlimit", "db_in_use", "backend_pid", "server_port")
BOOLS = ("role_superuser", "session_ssl")


def gather(target: Target, timeout: float = 10.0, detect_mode: bool = True) -> dict:
    """Return the server facts for `target`; raise ProbeFailed with a scrubbed message."""
    import psycopg  # imported here: `advisor --help` and `advisor lint` must not pay for it

    from . import pooler

    started = time.monotonic()

    def remaining() -> float:
        return timeout - (time.monotonic() - started)

    def left() -> float:
        return max(0.5, remaining())

    opened = 0
    addresses: list = [None]  # None: libpq finds the server itself (socket, IP, hostaddr)

    def connect():
        nonlocal opened
        error = None
        for address in list(addresses):
            kw = connect_kwargs(target, left())  # connect_timeout from the time left
            if address is not None:
                kw["hostaddr"] = address  # `host` stays: TLS checks the certificate against it
            log.debug("connecting to %s%s (connect_timeout=%s s, sslmode=%s)", target.display,
                      f" at {address}" if address else "", kw["connect_timeout"],
                      kw.get("sslmode", "prefer"))
            try:
                conn = psycopg.connect(**kw, autocommit=True)
            except psycopg.Error as exc:
                log.debug("connection attempt failed: %s", (str(exc).strip().splitlines() or [""])[0])
                error = exc
                if remaining() <= 0.5:
                    break
                continue
            opened += 1
            addresses[:] = [address]  # later connections go where this one got in
            log.debug("connected in %.0f ms: backend pid %s, TLS %s", (time.monotonic() - started)
                      * 1000, conn.info.backend_pid, "on" if conn.pgconn.ssl_in_use else "off")
            return conn
        raise error

    conn = None
    try:
        host = target.host
        if needs_lookup(target):
            log.debug("resolving %s (at most %.1f s)", host, left())
            addresses[:] = dns.resolve(host, target.effective_port, left())
            log.debug("%s resolves to %s", host, ", ".join(addresses))
        conn = connect()
        connect_ms = (time.monotonic() - started) * 1000
        evidence_extra, statement_mode = [], False
        try:
            row = read_facts(conn.pgconn, left())
        except pooler.QueryError as exc:
            if pooler.STATEMENT_MODE_ERROR not in str(exc):
                raise
            # Statement mode refuses BEGIN and drops the client: log in once more and run
            # the single SELECT on its own (read-only by construction: it only reads).
            conn.close()
            conn = connect()
            row = read_facts(conn.pgconn, left(), transaction=False)
            statement_mode = True
            evidence_extra.append(f"the pooler refused a read-only transaction block "
                                  f"({pooler.STATEMENT_MODE_ERROR})")
        facts = build_facts(row, _client_tls(conn, target), conn.info.backend_pid, target,
                            connect_ms=connect_ms)
        pool = facts["pooler"]
        pool["evidence"] += evidence_extra
        if statement_mode:
            pool.update(detected=True, kind="pgbouncer", pool_mode="statement")
        elif pool["detected"] and detect_mode:
            mode, why = pooler.detect_pool_mode(conn.pgconn, connect, seconds=min(2.0, left()))
            pool["pool_mode"] = mode
            pool["evidence"] += why
            if mode == "statement":  # that refusal is worded by PgBouncer
                pool["kind"] = "pgbouncer"
        elif facts["session"]["server_port"] != facts["session"]["dialed_port"]:
            version = pooler.pgpool_version(conn.pgconn, left())
            if version:
                pool.update(detected=True, kind="pgpool-ii", pool_mode="session", version=version)
                pool["evidence"].append(f"SHOW pool_version answered {version!r}: pgpool-II "
                                        "(each client is bound to one pgpool child and its "
                                        "cached backend connection)")
    except psycopg.Error as exc:
        raise _probe_failed(exc, target) from None
    except pooler.Timeout:
        raise ProbeFailed(f"timed out after {timeout:g} s waiting for the server", kind="timeout") from None
    except pooler.QueryError as exc:
        if "statement timeout" in str(exc):  # the server's own deadline, same as ours
            raise ProbeFailed(f"timed out after {timeout:g} s: the server cancelled the facts "
                              "query (statement_timeout)", kind="timeout") from None
        raise ProbeFailed(target.scrub(str(exc)).splitlines()[0][:300], kind="query") from None
    finally:
        if conn is not None:
            _close(conn)
    facts["probe"].update(connections_opened=opened,
                          total_ms=round((time.monotonic() - started) * 1000, 1))
    return facts


def _close(conn) -> None:
    """Close, cancelling first a statement still running (timeout, Ctrl-C): otherwise the
    server would keep the session busy until its statement_timeout."""
    from psycopg import pq
    try:
        if conn.pgconn.transaction_status == pq.TransactionStatus.ACTIVE:
            log.debug("cancelling the running statement")
            conn.cancel_safe(timeout=1.0)
    except Exception as exc:  # best effort: closing below still ends the session
        log.debug("cancel failed: %s", type(exc).__name__)
    finally:
        conn.close()
        log.debug("connection closed")


# Server strings longer than this are cut: a report is no place for megabytes.
MAX_TEXT = 1000


def read_facts(pgconn, seconds: float, transaction: bool = True) -> dict:
    """One round trip: BEGIN READ ONLY, a statement timeout, the facts query, ROLLBACK.
    search_path is pinned to pg_catalog so that a role's own functions cannot shadow
    the built-ins the query calls."""
    from . import pooler

    ms = max(500, int(seconds * 1000))
    sql = (f"BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}; "
           f"SET LOCAL search_path = pg_catalog; {FACTS_SQL}; ROLLBACK"
           if transaction else FACTS_SQL)
    log.debug("running the facts query in a read-only transaction (statement_timeout=%d ms)"
              if transaction else "running the facts query (no transaction block)", ms)
    results = pooler._results(pgconn, sql, seconds)
    names, rows = next((n, r) for n, r in results if "max_connections" in n)
    row = {k: (v[:MAX_TEXT - 1] + "…" if isinstance(v, str) and len(v) > MAX_TEXT else v)
           for k, v in zip(names, rows[0])}
    for key in INTS:
        row[key] = int(row[key]) if row[key] is not None else None
    for key in BOOLS:
        row[key] = row[key] == "t" if row[key] is not None else None
    return row


def _client_tls(conn, target: Target) -> dict:
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


def _ssl_attribute(pgconn, name: bytes) -> str | None:
    """PQsslAttribute, which psycopg does not wrap: call the libpq psycopg itself loaded."""
    try:
        import ctypes

        lib = _libpq()
        lib.PQsslAttribute.restype = ctypes.c_char_p
        lib.PQsslAttribute.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        value = lib.PQsslAttribute(ctypes.c_void_p(pgconn.pgconn_ptr), name)
        return value.decode() if value else None
    except Exception:  # an unusual libpq build: the server side still reports TLS
        return None


def _libpq():
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


def _effective_option(pgconn, keyword: bytes) -> str | None:
    for option in pgconn.info:
        if option.keyword == keyword and option.val:
            return option.val.decode()
    return None


def build_facts(row: dict, client_tls: dict, startup_pid: int | None, target: Target,
                connect_ms: float = 0.0, total_ms: float = 0.0) -> dict:
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
        "role": {"name": row["role_name"], "connection_limit": row["role_connlimit"],
                 "connections": row["role_in_use"], "superuser": row["role_superuser"]},
        "database": {"name": row["database_name"], "connection_limit": row["db_connlimit"],
                     "connections": row["db_in_use"]},
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
        "probe": {"connections_opened": 1, "connect_ms": round(connect_ms, 1),
                  "total_ms": round(total_ms, 1)},
    }


def pooler_evidence(row: dict, startup_pid: int | None, target: Target) -> dict:
    """Positive evidence only: a TCP forwarder changes the port but not the PID."""
    evidence = []
    pid_differs = startup_pid is not None and startup_pid != row["backend_pid"]
    if pid_differs:
        evidence.append(
            f"backend PID at startup ({startup_pid}) differs from pg_backend_pid() "
            f"({row['backend_pid']}): the cancel key was issued by a pooler, not by PostgreSQL")
    else:
        evidence.append("backend PID at startup matches pg_backend_pid(): "
                        "the session talks to PostgreSQL itself")
    dialed = None if target.is_socket else target.effective_port
    if row["server_port"] is not None and dialed is not None and row["server_port"] != dialed:
        evidence.append(
            f"server listens on port {row['server_port']} but port {dialed} was dialled: "
            "a proxy or port forward sits in between")
    detected = pid_differs
    return {
        "detected": detected,
        # PgBouncer and the poolers modelled on it hand out their own cancel keys.
        "kind": "pgbouncer-compatible" if detected else None,
        "pool_mode": None,
        "evidence": evidence,
    }


_REASONS = (
    ("password authentication failed", "authentication",
     "authentication failed for user {user}"),
    ("authentication failed", "authentication", "authentication failed for user {user}"),
    ("no password supplied", "authentication", "authentication failed: the server wants a password"),
    ("root certificate file", "tls", "TLS: the CA file (sslrootcert) cannot be read"),
    ("does not match host name", "tls",
     "TLS hostname mismatch: the server's certificate does not name the host dialled"),
    ("certificate verify failed", "tls",
     "TLS certificate not trusted: unknown CA (not signed by the sslrootcert CA)"),
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
    text = target.scrub(str(exc)).strip()
    first = next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")
    first = first.removeprefix("connection failed: ")
    kind, template = "unreachable", None
    for needle, reason, tmpl in _REASONS:
        if needle in text:
            kind, template = reason, tmpl
            break
    if template:
        message = template.format(user=target.user or "(default)", timeout="the connect timeout")
        if kind != "authentication":
            message += f" ({first[:200]})"
    else:
        message = first[:300]
    return ProbeFailed(message, kind=kind)
