"""Facts from a live MySQL or MariaDB server (or a proxy in front of it).

The only module that talks to MySQL. It opens ONE connection and runs four statements:
SET SESSION TRANSACTION READ ONLY, START TRANSACTION READ ONLY, one SELECT (bounded by
max_statement_time / MAX_EXECUTION_TIME) and one SHOW STATUS; then it closes, which
ends the transaction. TLS follows the mysql client's `ssl-mode`, including PREFERRED's
fallback, which is decided from the server's handshake, so it never needs a second
connection. The whole probe ends by one deadline (a SocketGuard shuts the socket down
when it passes: PyMySQL's read timeout restarts on every byte), the server may send at
most MAX_RECEIVED bytes, and the password is never sent in clear text without TLS.
"""

from __future__ import annotations

import math
import re
import socket
import ssl
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any, Literal, overload

from ..errors import InvalidTarget, ProbeFailed
from ..log import log
from ..target import Target, is_ip_address
from ..urlfacts import endpoint_facts
from . import dns, session
from .deadline import Deadline, SocketGuard
from .model import EndpointFacts, MySQLClientTLS, MySQLFacts, PoolerFacts

PROGRAM_NAME = "advisor"
VERIFYING = ("VERIFY_CA", "VERIFY_IDENTITY")
REQUIRING = ("REQUIRED", *VERIFYING)

STATUS_NAMES = (
    "Threads_connected",
    "Max_used_connections",
    "Max_used_connections_time",
    "Uptime",
    "Aborted_connects",
    "Connections",
    "Connection_errors_max_connections",
    "Ssl_version",
    "Ssl_cipher",
)


# -- URL -> driver options --------------------------------------------------


def tls_settings(target: Target) -> dict[str, Any]:
    """The effective ssl-mode and CA, with the mysql client's defaults and Prisma's spelling."""
    params, client = target.params, target.client_params
    mode, source = params.get("ssl-mode"), "url"
    if mode is None and client.get("sslaccept") == "strict":
        mode, source = "VERIFY_IDENTITY", "sslaccept=strict"
    if mode is None:
        mode, source = "PREFERRED", "default"
    ca = params.get("ssl-ca") or client.get("sslcert")  # Prisma's sslcert is the CA file
    return {"sslmode": mode, "source": source, "ca": ca}


def _ssl_context(target: Target, tls: dict[str, Any]) -> ssl.SSLContext:
    params = target.params
    ctx = (
        ssl.create_default_context(cafile=tls["ca"]) if tls["ca"] else ssl.create_default_context()
    )
    ctx.check_hostname = tls["sslmode"] == "VERIFY_IDENTITY"
    ctx.verify_mode = ssl.CERT_REQUIRED if tls["sslmode"] in VERIFYING else ssl.CERT_NONE
    if params.get("ssl-cert"):
        ctx.load_cert_chain(params["ssl-cert"], params.get("ssl-key"))
    if params.get("ssl-cipher"):
        ctx.set_ciphers(params["ssl-cipher"])
    versions = [v.strip() for v in params.get("tls-version", "").split(",") if v.strip()]
    known = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
    if versions:
        if any(v not in known for v in versions):
            raise InvalidTarget("tls-version must list TLSv1.2 and/or TLSv1.3")
        chosen = sorted(known[v] for v in versions)
        ctx.minimum_version, ctx.maximum_version = chosen[0], chosen[-1]
    return ctx


def _seconds(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    if not re.fullmatch(r"\d+(\.\d+)?", value.strip()):
        raise InvalidTarget(f"{name} must be a number of seconds")
    return float(value) or None  # 0 means "no limit" for Prisma and the mysql client


def connect_kwargs(target: Target, timeout: float) -> dict[str, Any]:
    """Keyword arguments for pymysql.connections.Connection (pure; unit-tested)."""
    url_timeout = min(
        filter(
            None,
            (
                _seconds(target.params.get("connect-timeout"), "connect-timeout"),
                _seconds(target.params.get("connect_timeout"), "connect_timeout"),
            ),
        ),
        default=None,
    )
    connect_s = min(timeout, url_timeout) if url_timeout else timeout
    charset = target.params.get("charset") or "utf8mb4"
    from pymysql.charset import charset_by_name

    try:
        known = charset_by_name(charset) is not None
    except KeyError:  # older PyMySQL raises, newer returns None
        known = False
    if not known:
        raise InvalidTarget(f"unknown charset {charset[:20]!r}")
    kw = {
        "user": target.user,
        "database": target.database,
        # MySQL compares the password's bytes; UTF-8 is what every current client sends.
        "password": (target.password or "").encode("utf-8"),
        "charset": charset,
        "connect_timeout": max(1.0, connect_s),
        # Bound every read and write too: a listener that never answers must not hang us.
        "read_timeout": max(2.0, math.ceil(timeout)),
        "write_timeout": max(2.0, math.ceil(timeout)),
        "autocommit": None,  # no SET autocommit round trip
        "program_name": PROGRAM_NAME,
        "defer_connect": True,
    }
    if target.is_socket:
        kw["unix_socket"] = target.host
    else:
        kw["host"] = target.host or "localhost"
        kw["port"] = target.effective_port
    tls = tls_settings(target)
    if tls["sslmode"] == "DISABLED" or (target.is_socket and tls["sslmode"] == "PREFERRED"):
        kw["ssl_disabled"] = True  # the mysql client does not encrypt a local socket
    else:
        kw["ssl"] = _ssl_context(target, tls)
    return kw


# -- the probe -------------------------------------------------------------

# Plugins that put the password itself on the wire: MySQL's cleartext plugin, and MariaDB's
# `dialog` (PAM), which answers its "Password:" prompt with it.
CLEARTEXT_PLUGINS = (b"mysql_clear_password", b"dialog")
# What one probe connection may receive: the greeting, a one-row SELECT and SHOW STATUS
# are a few KB; a server sending more is not answering the probe.
MAX_RECEIVED = 4 << 20


def _refuse_rsa(plugin: str) -> ProbeFailed:
    return ProbeFailed(
        f"refused to send the password: the server asked for it encrypted with an RSA key "
        f"it would send itself ({plugin}) on a connection without TLS, which an impostor "
        "could read; use ssl-mode=VERIFY_IDENTITY (or REQUIRED)",
        kind="authentication",
    )


def _connection_class(pymysql: ModuleType) -> type[Any]:
    from pymysql.charset import charset_by_name
    from pymysql.constants import CLIENT, CR

    # pymysql is handed in (imported on first use), so its class is Any to the type checker.
    class ProbeConnection(pymysql.connections.Connection):  # type: ignore[misc,name-defined]
        """PyMySQL with the mysql client's TLS decision taken from the handshake, a
        deadline on the socket, a size limit, and no password in clear text."""

        ssl: Any  # PyMySQL's own attribute (the ssl argument), switched off below
        tls_required = False
        server_offers_tls: bool | None = None
        authenticating = False  # logging in on a connection without TLS
        guard: SocketGuard | None = (
            None  # a SocketGuard: armed at the first read, it enforces the deadline
        )
        received = 0
        dial_kwargs: dict[str, Any] = {}  # the connect_kwargs it was made with: where to dial

        def login(self, found: list[str] | None = None) -> None:
            """Dial (`found`: the addresses already looked up) and log in, within the
            guard's deadline."""
            assert self.guard is not None  # new_connection() sets it
            self.connect(dial(self.dial_kwargs, self.guard.deadline, found))

        def watch_with(self, guard: SocketGuard) -> None:
            """Bound what follows on this open connection by a new guard's deadline."""
            self.guard = guard
            guard.arm(self._sock)

        def _get_server_information(self) -> None:
            if self.guard is not None:
                self.guard.arm(self._sock)  # covers the greeting, TLS, login and queries
            super()._get_server_information()

        def _read_bytes(self, num_bytes: int) -> bytes:
            self.received += num_bytes  # counted before reading: a 16 MB header is refused
            if self.received > MAX_RECEIVED:
                self._force_close()
                raise pymysql.err.OperationalError(
                    CR.CR_SERVER_LOST,
                    f"unexpected reply, is this a MySQL server? (it sent more "
                    f"than {MAX_RECEIVED >> 20} MB in answer to a probe)",
                )
            data: bytes = super()._read_bytes(num_bytes)
            return data

        def _request_authentication(self) -> None:
            self.server_offers_tls = bool(self.server_capabilities & CLIENT.SSL)
            if self.ssl and not self.server_offers_tls:
                if self.tls_required:
                    raise pymysql.err.OperationalError(
                        CR.CR_SSL_CONNECTION_ERROR,
                        "SSL connection error: TLS is required but the server does not offer it",
                    )
                # PREFERRED: continue in plain text on this same connection.
                self.ssl = False
                self.client_flag &= ~CLIENT.SSL
            plain = not self._secure and not self.ssl
            if plain and self.password and self._auth_plugin_name == "sha256_password":
                raise _refuse_rsa("sha256_password")  # its first answer asks for the key
            self.authenticating = plain
            # Ask for session-state tracking: a proxy may announce itself in the login's
            # OK packet (MaxScale's connection_metadata, see login_variables()).
            self.client_flag |= SESSION_TRACK
            self.logging_in = True
            try:
                super()._request_authentication()
            finally:
                self.authenticating = False
                self.logging_in = False

        logging_in = False
        login_ok = b""  # the OK packet that ended the login

        def _read_packet(self, packet_type: Any = None) -> Any:
            packet = super()._read_packet(packet_type) if packet_type else super()._read_packet()
            if self.logging_in and packet.is_ok_packet():
                self.login_ok = packet.get_all_data()
            return packet

        def write_packet(self, payload: bytes) -> None:
            # caching_sha2_password's full authentication and sha256_password ask the server
            # for its RSA key (one byte, 2 or 1) and encrypt the password with whatever key
            # comes back, unverified: on a connection without TLS an impostor reads it. The
            # mysql client refuses this too unless told to trust the server's key.
            if self.authenticating and payload in (b"\x01", b"\x02"):
                raise _refuse_rsa(
                    "caching_sha2_password" if payload == b"\x02" else "sha256_password"
                )
            super().write_packet(payload)

        def _process_auth(self, plugin_name: bytes, auth_packet: Any, handler: Any = None) -> Any:
            # PyMySQL would answer with the password itself, readable by anyone on the path.
            if plugin_name in CLEARTEXT_PLUGINS and not isinstance(self._sock, ssl.SSLSocket):
                raise ProbeFailed(
                    f"refused to send the password: the server asked for cleartext "
                    f"authentication ({plugin_name.decode()}) on a connection without TLS; "
                    "use ssl-mode=VERIFY_IDENTITY (or REQUIRED) if the server really needs it",
                    kind="authentication",
                )
            return super()._process_auth(plugin_name, auth_packet, handler)

        def set_character_set(self, charset: str, collation: str | None = None) -> None:
            # The handshake already set the charset: skip the driver's SET NAMES round trip.
            self.charset, self.collation = charset, collation
            self.encoding = charset_by_name(charset).encoding

    return ProbeConnection


SESSION_TRACK = 1 << 23  # CLIENT_SESSION_TRACK
SESSION_STATE_CHANGED = 0x4000  # SERVER_SESSION_STATE_CHANGED


def login_variables(ok: bytes) -> dict[str, str]:
    """The system variables an OK packet's session-state info carries (type 0,
    SESSION_TRACK_SYSTEM_VARIABLES: https://mariadb.com/kb/en/ok_packet/). MaxScale sends
    its `connection_metadata` this way at login, "maxscale" = its version by default
    (server/core/listener.cc s_connection_metadata, mariadb_client.cc write_ok_packet,
    mariadb_common.cc create_ok_packet; github.com/mariadb-corporation/MaxScale, checked
    2026-12-02). Anything malformed: {}."""

    def string(pos: int) -> tuple[bytes, int]:
        n, pos = lenenc_at(ok, pos)
        return ok[pos : pos + n], pos + n

    out: dict[str, str] = {}
    try:
        if not ok or ok[0] != 0:
            return {}
        _, pos = lenenc_at(ok, 1)  # affected rows
        _, pos = lenenc_at(ok, pos)  # last insert id
        status = int.from_bytes(ok[pos : pos + 2], "little")
        pos += 4  # status, warnings
        if not status & SESSION_STATE_CHANGED or pos >= len(ok):
            return {}
        _, pos = string(pos)  # info
        state, _ = string(pos)
        i = 0
        while i < len(state):
            kind = state[i]
            n, j = lenenc_at(state, i + 1)
            data = state[j : j + n]
            i = j + n
            if kind == 0:
                kn, k = lenenc_at(data, 0)
                name = data[k : k + kn]
                vn, v = lenenc_at(data, k + kn)
                out[name.decode(errors="replace")] = data[v : v + vn].decode(errors="replace")
    except (IndexError, KeyError):
        return out
    return out


def lenenc_at(data: bytes, pos: int) -> tuple[int, int]:
    first = data[pos]
    if first < 0xFB:
        return first, pos + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}[first]
    return int.from_bytes(data[pos + 1 : pos + 1 + size], "little"), pos + 1 + size


def new_connection(target: Target, kwargs: dict[str, Any], guard: SocketGuard) -> Any:
    """A ProbeConnection, not connected yet (`conn.login()` connects it), whose socket
    `guard` watches: the mysql client's ssl-mode, PREFERRED's fallback, the size limit
    and the refusal of a password in clear text come with it."""
    import pymysql

    conn = _connection_class(pymysql)(**kwargs)
    conn.tls_required = tls_settings(target)["sslmode"] in REQUIRING
    conn.guard = guard
    conn.dial_kwargs = kwargs
    return conn


def gather(
    target: Target,
    timeout: Deadline | float = 10.0,
    endpoint: EndpointFacts | None = None,
    session_features: bool = False,
    also: Callable[[Any, Deadline, str], None] | None = None,
) -> MySQLFacts:
    """Return the server facts for `target`; raise ProbeFailed with a scrubbed message.
    `timeout` is seconds, or the command's Deadline; it bounds everything, however
    slowly the server sends. `endpoint`: the target's catalog match, when the caller
    already made it (the probe has, for the URL facts). `also(cursor, deadline, version)`
    reads more inside the same read-only transaction (advisor audit)."""
    deadline = Deadline.of(timeout)
    if deadline.expired():
        raise ProbeFailed(
            f"not probed: --timeout {deadline.seconds:g} s was used up before", kind="timeout"
        )
    tls = tls_settings(target)
    try:
        kwargs = connect_kwargs(target, deadline.seconds)
    except (OSError, ssl.SSLError) as exc:  # unreadable CA / key file, unknown cipher
        raise ProbeFailed(target.scrub(f"could not set up TLS: {exc}")[:300], kind="tls") from None
    started = time.monotonic()
    guard = SocketGuard(deadline)
    conn = new_connection(target, kwargs, guard)
    log.debug(
        "connecting to %s (%.1f s left, ssl-mode=%s)",
        target.display,
        deadline.left(),
        tls["sslmode"],
    )
    try:
        try:
            conn.login()
        except ProbeFailed:
            raise
        except Exception as exc:  # the driver raises more than pymysql.Error on odd replies
            failure = _failure(exc, target, guard)
            if failure.kind == "authentication" and conn.server_offers_tls and not conn.ssl:
                # MariaDB answers a plain-text login under require_secure_transport=ON with
                # the same "Access denied" as a wrong password.
                failure = ProbeFailed(
                    f"{failure} (or the server refuses unencrypted connections: "
                    "require_secure_transport=ON; try ssl-mode=REQUIRED)",
                    kind=failure.kind,
                )
            raise failure from None
        connect_ms = (time.monotonic() - started) * 1000
        log.debug(
            "connected in %.0f ms; running the facts query in a read-only transaction", connect_ms
        )
        try:
            handshake = _handshake(conn)
            with conn.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION READ ONLY")
                cur.execute("START TRANSACTION READ ONLY")
                cur.execute(facts_sql(handshake["version"], max(0.1, deadline.left())))
                names = [c[0] for c in cur.description]
                row = dict(zip(names, cur.fetchone(), strict=False))
                cur.execute(status_sql())
                status = dict(cur.fetchall())
                # ProxySQL answers exactly this text itself, whatever the backend says
                # (lib/MySQL_Session.cpp SELECT_VERSION_COMMENT, github.com/sysown/proxysql,
                # checked 2026-12-02); a server answers its own version_comment.
                cur.execute(PROXYSQL_PROBE)
                answered = cur.fetchone()
                handshake["own_version_comment"] = str(answered[0]) if answered else None
                if also is not None:  # advisor audit (facts/workload_mysql.py): same transaction
                    also(cur, deadline, handshake["version"])
            client = _client_tls(conn, tls)
            if _int(row.get("max_connections")) is None:
                raise ProbeFailed(
                    "unexpected reply, is this a MySQL server? (max_connections is not a number)",
                    kind="query",
                )
            facts = build_facts(
                row,
                status,
                handshake,
                client,
                target,
                connect_ms=connect_ms,
                total_ms=(time.monotonic() - started) * 1000,
                endpoint=endpoint,
            )
            if session_features:  # no statement of its own: it follows from the pooler seen
                pool = facts["pooler"]
                facts["session_features"] = session.mysql_features(pool["detected"], pool["kind"])
        except ProbeFailed:
            raise
        except Exception as exc:
            raise _failure(exc, target, guard) from None
    finally:
        guard.disarm()
        if conn.open:  # a read timeout already closed it
            conn.close()  # closing ends the read-only transaction; nothing to roll back
        log.debug("connection closed")
    return facts


def _failure(exc: Exception, target: Target, guard: SocketGuard) -> ProbeFailed:
    if guard.fired:  # whatever the driver made of the shut-down socket
        return ProbeFailed(
            f"timed out after {guard.deadline.seconds:g} s waiting for the server "
            "(it had not finished answering)",
            kind="timeout",
        )
    return _probe_failed(exc, target)


def addresses(host: str, port: int, deadline: Deadline) -> list[str]:
    """Where to dial: an IP literal as it is, a name looked up within the deadline."""
    if is_ip_address(host):
        return [host.strip("[]")]
    log.debug("resolving %s (at most %.1f s)", host, deadline.left())
    found = dns.resolve(host, port, deadline.left())
    log.debug("%s resolves to %s", host, ", ".join(found))
    return found


def dial(
    kwargs: dict[str, Any], deadline: Deadline, found: list[str] | None = None
) -> socket.socket | None:
    """The TCP socket for PyMySQL, dialled here so that the lookup and the connect have
    the deadline too (PyMySQL's own have none); None for a Unix socket, which PyMySQL
    opens itself (the guard then takes over at the first read)."""
    import pymysql

    host = kwargs.get("host")
    if host is None:
        return None
    error: Exception = TimeoutError("timed out")
    for address in found if found is not None else addresses(host, kwargs["port"], deadline):
        left = min(kwargs["connect_timeout"], deadline.left())
        if left <= 0:
            error = TimeoutError("timed out")
            break
        try:
            sock = socket.create_connection((address, kwargs["port"]), left)
        except OSError as exc:
            error = exc
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        return sock
    raise pymysql.err.OperationalError(2003, f"Can't connect to MySQL server on {host!r} ({error})")


def _handshake(conn: Any) -> dict[str, Any]:
    thread_id = conn.server_thread_id
    return {
        "version": conn.server_version,
        "connection_id": thread_id[0] if isinstance(thread_id, tuple) else thread_id,
        "offers_tls": conn.server_offers_tls,
        "login_variables": login_variables(getattr(conn, "login_ok", b"")),
    }


def _client_tls(conn: Any, tls: dict[str, Any]) -> MySQLClientTLS:
    sock = conn._sock
    in_use = isinstance(sock, ssl.SSLSocket)
    cipher = sock.cipher() if in_use else None
    return {
        "in_use": in_use,
        "version": sock.version() if in_use else None,
        "cipher": cipher[0] if cipher else None,
        "sslmode": tls["sslmode"],
        "sslmode_source": tls["source"],
        "ca": tls["ca"] if tls["ca"] else ("system" if tls["sslmode"] in VERIFYING else None),
        # The handshake only completes in these modes after the chain (and name) checked out.
        "verified": in_use and tls["sslmode"] in VERIFYING,
        "hostname_verified": in_use and tls["sslmode"] == "VERIFY_IDENTITY",
    }


def parse_version(
    version: str | None,
) -> tuple[Literal["mysql", "mariadb"], tuple[int, int, int], str]:
    """(flavor, numeric version, display version) from a handshake or VERSION() string."""
    text = version or ""
    if text.startswith("5.5.5-") and "mariadb" in text.lower():
        text = text[len("5.5.5-") :]  # MariaDB's replication-compatibility prefix
    m = re.match(r"(\d+)\.(\d+)\.(\d+)", text)
    numbers = (int(m[1]), int(m[2]), int(m[3])) if m else (0, 0, 0)
    flavor: Literal["mysql", "mariadb"] = "mariadb" if "mariadb" in text.lower() else "mysql"
    return flavor, numbers, text


PROXYSQL_PROBE = "select @@version_comment limit 1"  # byte for byte: ProxySQL compares it


def facts_sql(handshake_version: str, remaining_s: float) -> str:
    """One SELECT; version-dependent variables only where this server has them."""
    flavor, v, _ = parse_version(handshake_version)
    cols = [
        "VERSION() AS version",
        "@@version_comment AS version_comment",
        "@@GLOBAL.max_connections AS max_connections",
        "@@GLOBAL.max_user_connections AS max_user_connections_global",
        # MySQL and MariaDB initialise the session value to the account's own limit.
        "@@SESSION.max_user_connections AS max_user_connections_session",
        "@@GLOBAL.wait_timeout AS wait_timeout",
        "@@GLOBAL.interactive_timeout AS interactive_timeout",
        "CURRENT_USER() AS account",
        "CONNECTION_ID() AS connection_id",
        # Without the PROCESS privilege this lists only our own sessions, which is what we count.
        "(SELECT COUNT(*) FROM information_schema.PROCESSLIST"
        " WHERE USER = SUBSTRING_INDEX(CURRENT_USER(), '@', 1)) AS user_connections",
    ]
    if flavor == "mariadb":
        cols += [
            "@@GLOBAL.extra_max_connections AS extra_max_connections",
            "@@GLOBAL.extra_port AS extra_port",
            "@@SESSION.tx_read_only AS read_only",
        ]
    else:
        cols.append(
            "@@SESSION.transaction_read_only AS read_only"
            if v >= (5, 7, 20)
            else "@@SESSION.tx_read_only AS read_only"
        )
    if (flavor == "mariadb" and v >= (10, 5, 2)) or (flavor == "mysql" and v >= (5, 7, 8)):
        cols.append("@@GLOBAL.require_secure_transport AS require_secure_transport")
    select = "SELECT " + ", ".join(cols)
    if flavor == "mariadb":
        return f"SET STATEMENT max_statement_time={remaining_s:.1f} FOR {select}"
    # Servers before 5.7.8 read the hint as a comment.
    return select.replace(
        "SELECT ", f"SELECT /*+ MAX_EXECUTION_TIME({int(remaining_s * 1000)}) */ ", 1
    )


def status_sql() -> str:
    # Session scope: this session's Ssl_* plus the global-only counters, in one statement.
    names = ", ".join(f"'{n}'" for n in STATUS_NAMES)
    return f"SHOW SESSION STATUS WHERE Variable_name IN ({names})"


# -- facts (pure) ------------------------------------------------------------


@overload
def _int(value: Any, default: int) -> int: ...
@overload
def _int(value: Any, default: None = None) -> int | None: ...
def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _on(value: object) -> bool | None:
    if value is None:
        return None
    return str(value).upper() in ("1", "ON", "YES", "TRUE")


def build_facts(
    row: dict[str, Any],
    status: dict[str, Any],
    handshake: dict[str, Any],
    client_tls: MySQLClientTLS,
    target: Target,
    connect_ms: float = 0.0,
    total_ms: float = 0.0,
    endpoint: EndpointFacts | None = None,
) -> MySQLFacts:
    """Turn the SELECT row and SHOW STATUS into the report's facts (unit-tested on
    recordings). `endpoint`: the target's catalog match, made here if not given."""
    flavor, _, version = parse_version(row.get("version") or handshake.get("version"))
    max_conn = _int(row["max_connections"])
    if max_conn is None:  # gather() refuses such a row before it gets here
        raise ValueError("max_connections is not a number")
    in_use = _int(status.get("Threads_connected"), 0)
    extra_port = _int(row.get("extra_port"), 0)
    extra_max = _int(row.get("extra_max_connections"), 0) if extra_port else 0
    # One more session than max_connections is let in for SUPER / CONNECTION_ADMIN; MariaDB
    # also serves extra_max_connections on extra_port. Both come on top of max_connections.
    reserved = 1 + extra_max
    user_global = _int(row.get("max_user_connections_global"), 0)
    user_session = _int(row.get("max_user_connections_session"), user_global)
    ssl_cipher = status.get("Ssl_cipher") or None
    return {
        "server_version": version,
        "flavor": flavor,
        "max_connections": max_conn,
        "reserved_connections": reserved,
        "admin_slots": {
            "super_slot": 1,
            "extra_port": extra_port or None,
            "extra_max_connections": extra_max if extra_port else None,
        },
        "connections_in_use": in_use,
        "available_connections": max(0, max_conn - in_use),
        "max_used_connections": _int(status.get("Max_used_connections")),
        "max_used_connections_time": status.get("Max_used_connections_time") or None,
        "uptime_seconds": _int(status.get("Uptime")),
        "connections_total": _int(status.get("Connections")),
        "aborted_connects": _int(status.get("Aborted_connects")),
        "connection_errors_max_connections": _int(status.get("Connection_errors_max_connections")),
        "wait_timeout": _int(row.get("wait_timeout")),
        "interactive_timeout": _int(row.get("interactive_timeout")),
        "max_user_connections": {
            "global": user_global,
            # The session value differs from the global one only when the account has its own.
            "account": user_session if user_session != user_global else None,
            "effective": user_session,
            "account_name": row.get("account"),
            "connections": _int(row.get("user_connections")),
        },
        "pooler": pooler_evidence(
            row, handshake, endpoint if endpoint is not None else endpoint_facts(target)
        ),
        "tls": {
            "client": client_tls,
            "server": {
                "in_use": ssl_cipher is not None,
                "version": status.get("Ssl_version") or None,
                "cipher": ssl_cipher,
                "ssl_enabled": handshake.get("offers_tls"),
                "require_secure_transport": _on(row.get("require_secure_transport")),
            },
        },
        "session": {
            "connection_id": _int(row.get("connection_id")),
            "handshake_connection_id": handshake.get("connection_id"),
            "account": row.get("account"),
            "read_only": _on(row.get("read_only")) is True,
        },
        "probe": {
            "connections_opened": 1,
            "queries": 5,
            "connect_ms": round(connect_ms, 1),
            "total_ms": round(total_ms, 1),
        },
    }


def pooler_evidence(
    row: dict[str, Any], handshake: dict[str, Any], endpoint: EndpointFacts
) -> PoolerFacts:
    """Positive evidence only: a version string that names the proxy, or a connection id
    in the handshake that the server does not know, plus what the provider catalog says
    about the host and port (`endpoint`)."""
    evidence, kind, identified_by = [], None, []
    version = f"{row.get('version') or ''} {row.get('version_comment') or ''}"
    own = handshake.get("own_version_comment") or ""
    if "proxysql" in own.lower():
        kind = "proxysql"
        identified_by.append(
            f"{PROXYSQL_PROBE!r} was answered {own!r}: ProxySQL answers that statement itself"
        )
    elif "proxysql" in version.lower():
        kind = "proxysql"
        identified_by.append("the version string names ProxySQL")
    login = handshake.get("login_variables") or {}
    if "maxscale" in login:
        kind = "maxscale"
        identified_by.append(
            f"the login's OK packet carries MaxScale's connection metadata "
            f"(maxscale = {login['maxscale']!r})"
        )
    evidence += identified_by
    if "vitess" in version.lower() and kind is None:
        kind = "vitess"
        identified_by.append(f"the server version {row.get('version')!r} is Vitess's (vtgate)")
        evidence.append(identified_by[-1])
    shown, real = handshake.get("connection_id"), _int(row.get("connection_id"))
    ids_differ = shown is not None and real is not None and shown != real
    if ids_differ:
        evidence.append(
            f"the handshake's connection id ({shown}) differs from CONNECTION_ID() "
            f"({real}): a proxy answered the handshake"
        )
    else:
        evidence.append(
            "the handshake's connection id matches CONNECTION_ID(): "
            "the session talks to the server itself"
        )
    hinted, name = endpoint["pooler"], endpoint["endpoint_id"]
    if hinted and hinted == kind:
        evidence.append(f"the host and port match the provider catalog's {name} endpoint")
    elif hinted and ids_differ and kind is None:
        kind = hinted
        identified_by.append(f"the host and port match the provider catalog's {name} endpoint")
        evidence.append(identified_by[-1])
    elif hinted:
        evidence.append(
            f"the host and port match the catalog's {name} endpoint, "
            "but the server shows no sign of a proxy"
        )
    detected = kind is not None or ids_differ
    pool_mode = endpoint["pool_mode"] if name is not None and hinted == kind else None
    out: PoolerFacts = {
        "detected": detected,
        "kind": kind or ("proxy" if detected else None),
        "pool_mode": pool_mode,
        "evidence": evidence,
    }
    if detected:
        out["identified_by"] = identified_by
        if "maxscale" in login and kind == "maxscale":
            out["version"] = login["maxscale"]
    return out


# -- errors ------------------------------------------------------------------

_BY_CODE = {
    1045: ("authentication", "authentication failed for user {user}"),
    1698: ("authentication", "authentication failed for user {user}"),
    1130: ("authentication", None),
    1044: ("missing-database", None),
    1049: ("missing-database", None),
    1040: ("no-free-slot", None),
    1203: ("no-free-slot", None),
    1226: ("no-free-slot", None),
    3159: ("tls", "the server requires TLS (require_secure_transport=ON)"),
    2026: ("tls", None),
    3024: ("timeout", "the facts query timed out"),
    1969: ("timeout", "the facts query timed out"),
}
_BY_TEXT = (
    ("CERTIFICATE", "tls"),
    ("SSL", "tls"),
    ("TLS", "tls"),
    ("timed out", "timeout"),
    ("Name or service not known", "dns"),
    ("Temporary failure in name resolution", "dns"),
    ("nodename nor servname", "dns"),
    ("No address associated", "dns"),
)


def _probe_failed(exc: Exception, target: Target) -> ProbeFailed:
    args = getattr(exc, "args", ())
    code = args[0] if args and isinstance(args[0], int) else None
    text = " ".join(str(a) for a in (args[1:] if code is not None else args)) or type(exc).__name__
    text = target.scrub(text)
    first = next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")
    known = _BY_CODE.get(code) if code is not None else None
    kind, template = known if known else (None, None)
    if kind is None:
        kind = next((k for needle, k in _BY_TEXT if needle.lower() in text.lower()), "unreachable")
        if code is None and not isinstance(exc, OSError):
            first = f"unexpected reply, is this a MySQL server? ({type(exc).__name__}: {first})"
    if template:
        message = template.format(user=target.user or "(default)")
        if kind != "authentication":
            message += f" ({first[:200]})"
    else:
        message = first[:300]
    return ProbeFailed(message, kind=kind)
