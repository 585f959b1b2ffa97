"""A tiny PostgreSQL wire-protocol server on loopback, for what a real server will not do
on demand: stall at a chosen step, or answer with hostile values.

Modes:
  tls-stall      answers 'S' to SSLRequest, then never starts the TLS handshake
  startup-stall  refuses TLS ('N'), reads the startup packet, never replies
  query-stall    completes the login, then never answers a query
  hostile        completes the login and answers the facts query with `values`
  cleartext-echo asks for the password in clear text (AuthenticationCleartextPassword),
                 then sends it back in every server string: a ParameterStatus
                 (server_version and another one), a notice, and the facts row
                 (version, role and database names)
  cleartext-fail asks for the password in clear text, then fails the login with an
                 ErrorResponse that quotes it

Protocol: https://www.postgresql.org/docs/current/protocol-flow.html (start-up,
authentication) and protocol-message-formats.html (R, p, S, K, Z, N, E messages).
"""

from __future__ import annotations

import re
import socket
import struct
import threading

from advisor.facts.postgres import FACTS_SQL

SSL_REQUEST, GSS_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102
COLUMNS = re.findall(r"\bAS (\w+)", FACTS_SQL)


def _msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstr(text: str) -> bytes:
    return text.encode() + b"\0"


class FakePostgres:
    def __init__(
        self,
        mode: str,
        values: dict | None = None,
        version: str = "15.0",
        address: tuple[str, int] = ("127.0.0.1", 0),
    ):
        self.mode, self.values, self.version = mode, values or {}, version
        self.sock = socket.socket()
        self.sock.bind(address)
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.queries: list[str] = []
        self.passwords: list[str] = []  # what clients sent to a cleartext request
        self.cancels = 0
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.sock.close()
        for s in self.open:
            s.close()

    # -- server ------------------------------------------------------------------
    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read(self, conn, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _serve(self, conn: socket.socket) -> None:
        try:
            while True:
                length, code = struct.unpack("!ii", self._read(conn, 8))
                body = self._read(conn, length - 8)
                if code == CANCEL_REQUEST:
                    self.cancels += 1
                    return conn.close()
                if code in (SSL_REQUEST, GSS_REQUEST):
                    if code == SSL_REQUEST and self.mode == "tls-stall":
                        conn.sendall(b"S")
                        return self._hang(conn)
                    conn.sendall(b"N")
                    continue
                break  # the startup packet
            if self.mode == "startup-stall":
                return self._hang(conn)
            echo = self._login(conn, body)
            while True:
                kind = self._read(conn, 1)
                (length,) = struct.unpack("!i", self._read(conn, 4))
                payload = self._read(conn, length - 4)
                if kind == b"X":
                    return conn.close()
                if kind == b"Q":
                    sql = payload.rstrip(b"\0").decode(errors="replace")
                    self.queries.append(sql)
                    if self.mode == "query-stall":
                        return self._hang(conn)
                    conn.sendall(self._answer(sql, echo))
        except (EOFError, OSError):
            conn.close()

    def _hang(self, conn: socket.socket) -> None:
        try:
            while conn.recv(1024):
                pass
        except OSError:
            pass
        conn.close()

    def _cleartext(self, conn) -> str:
        """AuthenticationCleartextPassword (R, code 3); the client answers with a
        PasswordMessage (p) holding the password as a C string."""
        conn.sendall(_msg(b"R", struct.pack("!i", 3)))
        kind = self._read(conn, 1)
        (length,) = struct.unpack("!i", self._read(conn, 4))
        payload = self._read(conn, length - 4)
        if kind != b"p":
            raise EOFError
        password = payload.rstrip(b"\0").decode(errors="replace")
        self.passwords.append(password)
        return password

    def _login(self, conn, startup: bytes) -> str | None:
        """Authenticate (as the mode says) and start the session; the password to echo."""
        version, password = self.version, None
        if self.mode.startswith("cleartext"):
            password = self._cleartext(conn)
            if self.mode == "cleartext-fail":
                text = f'password authentication failed for user "app": got "{password}"'
                conn.sendall(_msg(b"E", b"SFATAL\0VFATAL\0C28P01\0M" + _cstr(text) + b"\0"))
                raise EOFError
            version = password
        out = _msg(b"R", struct.pack("!i", 0))
        if self.mode == "cleartext-echo":
            out += _msg(b"S", _cstr("application_name") + _cstr(version))
            out += _msg(b"N", b"SNOTICE\0VNOTICE\0C00000\0M" + _cstr(f"welcome {version}") + b"\0")
        for name, value in (
            ("server_version", version),
            ("client_encoding", "UTF8"),
            ("standard_conforming_strings", "on"),
            ("DateStyle", "ISO, MDY"),
            ("integer_datetimes", "on"),
        ):
            out += _msg(b"S", _cstr(name) + _cstr(value))
        out += _msg(b"K", struct.pack("!ii", 4242, 1234)) + _msg(b"Z", b"I")
        conn.sendall(out)
        return password

    def row(self, echo: str | None = None) -> dict:
        base = {
            "server_version": self.version,
            "server_version_num": "150000",
            "max_connections": "100",
            "superuser_reserved": "3",
            "reserved_extra": "0",
            "in_use": "5",
            "role_name": "app",
            "role_connlimit": "-1",
            "role_superuser": "f",
            "role_in_use": "1",
            "database_name": "app",
            "db_connlimit": "-1",
            "db_in_use": "1",
            "backend_pid": "4242",
            "server_port": str(self.port),
            "server_addr": "127.0.0.1",
            "ssl_setting": "off",
            "session_ssl": None,
            "session_ssl_version": None,
            "session_ssl_cipher": None,
            "read_only": "on",
        }
        echoed = {"server_version": echo, "role_name": echo, "database_name": echo} if echo else {}
        return {**base, **self.values, **echoed}

    def _answer(self, sql: str, echo: str | None = None) -> bytes:
        out = b""
        for statement in (s.strip() for s in sql.split(";")):
            word = statement.split(None, 1)[0].upper() if statement else ""
            if word == "SELECT" and "max_connections" in statement:
                row = self.row(echo)
                fields = b"".join(
                    _cstr(c) + struct.pack("!ihihih", 0, 0, 25, -1, -1, 0) for c in COLUMNS
                )
                out += _msg(b"T", struct.pack("!h", len(COLUMNS)) + fields)
                cells = b""
                for c in COLUMNS:
                    value = row[c]
                    cells += (
                        struct.pack("!i", -1)
                        if value is None
                        else struct.pack("!i", len(value.encode())) + value.encode()
                    )
                out += _msg(b"D", struct.pack("!h", len(COLUMNS)) + cells)
                out += _msg(b"C", _cstr("SELECT 1"))
            elif word:
                out += _msg(b"C", _cstr(word))
        return out + _msg(b"Z", b"I")
