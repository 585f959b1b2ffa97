"""Wire-protocol stand-ins for the poolers the tests cannot run: each answers a client
exactly where that pooler shows itself (the behaviour facts/pooler.py names it by), as
its source or its provider's docs say, and like the PostgreSQL behind it everywhere else.

Sources (checked 2026-12-02):
- Supavisor: lib/supavisor/protocol/server.ex backend_key_data() (PID =
  System.unique_integer([:positive, :monotonic])); lib/supavisor/db_handler.ex (its
  server logins send application_name "Supavisor"; the ParameterStatus they get back is
  cached per tenant and replayed to each client) https://github.com/supabase/supavisor
- PgCat: src/client.rs (PID and key = rand::random::<i32>()); src/query_router.rs
  CUSTOM_SQL_REGEXES and src/messages.rs show_response() (SHOW PRIMARY READS answered
  by PgCat: one text column "primary reads", "on" by default)
  https://github.com/postgresml/pgcat
- PgDog: pgdog/src/net/messages/frontend_pid.rs (PID = a counter from 0);
  net/messages/error_response.rs ErrorResponse::auth (FATAL 28000 'password for user
  "u" and database "d" is wrong, or the database does not exist', no F/L/R); SHOW
  pgdog.shards only with the query parser on (off here, as for one unsharded database)
  https://github.com/pgdogdev/pgdog
- Odyssey: sources/include/id.h od_id_generate() (machine_lrand48: 31-bit key PID);
  sources/include/frontend.h od_frontend_error_msg() ("odyssey: c<12 hex>: " prefix)
  and sources/frontend.c ("route for '%s.%s' is not found", 3D000)
  https://github.com/yandex/odyssey
- Provider poolers are named by their host and port (advisor/catalog/providers.toml):
  RDS Proxy https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-connecting.html,
  Azure https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-pgbouncer
  (port 6432), Neon https://neon.com/docs/connect/connection-pooling (-pooler host),
  Cloud SQL https://cloud.google.com/sql/docs/postgres/managed-connection-pooling (6432);
  their cancel keys are the pooler's own (a random PID here).
"""

from __future__ import annotations

import itertools
import random
import secrets
import socket
import struct

from tests.support.fakepg import FakePostgres, _cstr, _msg

BACKEND_PID = 31337  # the PID the server behind the pooler reports (pg_backend_pid())
SERVER_PORT = 5432  # the port it listens on (inet_server_port())


def _error(severity: str, code: str, text: str, server: bool = False) -> bytes:
    """An ErrorResponse; `server`: with PostgreSQL's F/L/R fields (raised by the server)."""
    fields = b"S" + _cstr(severity) + b"V" + _cstr(severity) + b"C" + _cstr(code)
    fields += b"M" + _cstr(text)
    if server:
        fields += (
            b"F" + _cstr("guc.c") + b"L" + _cstr("5267") + b"R" + _cstr("GetConfigOptionByName")
        )
    return _msg(b"E", fields + b"\0")


class FakePooler(FakePostgres):
    """A transaction-mode pooler in front of one PostgreSQL backend (PID BACKEND_PID)."""

    def __init__(
        self,
        pids,
        app_name: str | None = None,
        shows: dict | None = None,
        logins: dict | None = None,
        address: tuple[str, int] = ("127.0.0.1", 0),
    ):
        super().__init__(
            "pooler",
            values={"backend_pid": str(BACKEND_PID), "server_port": str(SERVER_PORT)},
            address=address,
        )
        self.pids, self.app_name = pids, app_name
        self.shows = {k.upper(): v for k, v in (shows or {}).items()}
        self.logins_refused = logins or {}  # database -> ErrorResponse bytes
        self.logins: list[str] = []  # the database of every startup packet

    def _login(self, conn, startup: bytes) -> str | None:
        words = startup.split(b"\0")
        params = {
            words[i].decode(): words[i + 1].decode()
            for i in range(0, len(words) - 1, 2)
            if words[i]
        }
        database = params.get("database", params.get("user", ""))
        self.logins.append(database)
        if database in self.logins_refused:
            conn.sendall(self.logins_refused[database](params))
            raise EOFError
        out = _msg(b"R", struct.pack("!i", 0))
        for name, value in (
            ("server_version", self.version),
            ("application_name", self.app_name or params.get("application_name", "")),
            ("client_encoding", "UTF8"),
            ("standard_conforming_strings", "on"),
            ("DateStyle", "ISO, MDY"),
            ("integer_datetimes", "on"),
        ):
            out += _msg(b"S", _cstr(name) + _cstr(value))
        out += _msg(b"K", struct.pack("!ii", next(self.pids), 1234)) + _msg(b"Z", b"I")
        conn.sendall(out)
        return None

    def _answer(self, sql: str, echo: str | None = None) -> bytes:
        statement = sql.strip().rstrip(";").strip()
        if statement.upper() in self.shows:  # a command the pooler answers itself
            column, value = self.shows[statement.upper()]
            return _row(column, value) + _msg(b"C", _cstr("SHOW")) + _msg(b"Z", b"I")
        if statement.upper().startswith("SHOW "):  # passed on: PostgreSQL rejects it
            name = statement[5:].strip()
            return _error(
                "ERROR", "42704", f'unrecognized configuration parameter "{name}"', True
            ) + _msg(b"Z", b"I")
        if "pg_backend_pid()" in sql and "max_connections" not in sql:
            out = b""
            for part in (s.strip() for s in sql.split(";")):
                if "pg_backend_pid()" in part:
                    out += _row("pg_backend_pid", str(BACKEND_PID)) + _msg(b"C", _cstr("SELECT 1"))
                elif part:
                    out += _msg(b"C", _cstr(part.split()[0].upper()))
            return out + _msg(b"Z", b"I" if sql.rstrip().endswith("ROLLBACK") else b"T")
        return super()._answer(sql, echo)


def _row(column: str, value: str) -> bytes:
    field = _cstr(column) + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0)
    data = struct.pack("!h", 1) + struct.pack("!i", len(value)) + value.encode()
    return _msg(b"T", struct.pack("!h", 1) + field) + _msg(b"D", data)


def _random_pids(low: int, high: int):
    while True:
        yield random.randint(low, high)


def _bind_on(port: int) -> tuple[str, int]:
    """A loopback address of its own on `port` (the provider's port), so that tests in
    parallel never collide: all of 127.0.0.0/8 reaches this machine."""
    for _ in range(50):
        address = ("127." + ".".join(str(random.randint(1, 254)) for _ in range(3)), port)
        probe = socket.socket()
        try:
            probe.bind(address)
        except OSError:
            continue
        finally:
            probe.close()
        return address
    raise RuntimeError(f"no free loopback address for port {port}")


def supavisor() -> FakePooler:
    return FakePooler(itertools.count(1), app_name="Supavisor")


def pgcat() -> FakePooler:
    return FakePooler(
        _random_pids(-(2**31), 2**31 - 1), shows={"SHOW PRIMARY READS": ("primary reads", "on")}
    )


def pgdog() -> FakePooler:
    def refuse(params: dict) -> bytes:
        user, db = params.get("user", ""), params.get("database", "")
        text = f'password for user "{user}" and database "{db}" is wrong, or the database does not exist'
        return _error("FATAL", "28000", text)

    return FakePooler(itertools.count(0), logins={"pgbouncer": refuse})


def odyssey() -> FakePooler:
    def refuse(params: dict) -> bytes:
        user, db = params.get("user", ""), params.get("database", "")
        text = f"odyssey: c{secrets.token_hex(6)}: route for '{db}.{user}' is not found"
        return _error("ERROR", "3D000", text)

    return FakePooler(_random_pids(0, 2**31 - 1), logins={"pgbouncer": refuse})


# Provider poolers: (host the URL names, port), each served on a loopback address.
PROVIDER_HOSTS = {
    "rds-proxy": ("app.proxy-c0ffee123456.us-east-1.rds.amazonaws.com", 5432),
    "azure-pgbouncer": ("app-server.postgres.database.azure.com", 6432),
    "neon": ("ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech", 5432),
    "cloud-sql-pooling": ("a1b2c3d4e5f6.us-central1.sql.goog", 6432),
}


def provider(kind: str) -> tuple[FakePooler, str]:
    """The stand-in and the host name its URL uses (with hostaddr= its address)."""
    host, port = PROVIDER_HOSTS[kind]
    fake = FakePooler(_random_pids(PID_MIN_RANDOM, 2**31 - 1), address=_bind_on(port))
    return fake, host


PID_MIN_RANDOM = 2**22
