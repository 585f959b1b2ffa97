"""A tiny MySQL wire-protocol server on loopback, for what a real server will not do on
demand: trickle, flood, send garbage, or ask for the password in clear text.

Built from the protocol as MySQL documents it:
https://dev.mysql.com/doc/dev/mysql-server/latest/PAGE_PROTOCOL.html (packets: 3-byte
length, 1-byte sequence id; HandshakeV10, AuthSwitchRequest, OK/EOF packets, COM_QUERY
and text result sets with EOF packets, since CLIENT_DEPRECATE_EOF is not offered). With
certificates it offers TLS and switches to it after the client's SSLRequest.

Modes:
  serve            a complete login and answers to the probe's statements
  serve-once       the first connection is served, later ones trickle the greeting
  trickle-greeting the greeting, one byte every TRICKLE seconds
  trickle-result   a fast login, then the answer to the first SELECT one byte at a time
  giant            a packet without end: maximum-length packets, one after the other
  garbage-greeting bytes that are no handshake at all
  garbage-result   a fast login, then a facts row whose numbers are not numbers
  clear-auth       asks the client to switch to a plugin that sends the password itself:
                   mysql_clear_password, or MariaDB's dialog with its "Password: " prompt
  rsa-auth         MySQL 8's caching_sha2_password asking for full authentication (the
                   password sent in clear inside TLS, RSA-encrypted with the server's own
                   key without: https://dev.mysql.com/doc/dev/mysql-server/latest/page_caching_sha2_authentication_exchanges.html),
                   or sha256_password (plugin="sha256_password"); `key_requests` counts
                   the clients that asked for the key
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
import threading
import time

TRICKLE = 0.5  # seconds between bytes: below any read timeout, so each read "succeeds"
VERSION = "5.5.5-10.11.6-MariaDB-fake"
CAPABILITIES = (
    1 | 4 | 8 | 0x200 | 0x2000 | 0x8000 | 0x20000 | 0x80000 | 0x100000 | 0x200000 | (1 << 23)
)
CLIENT_SSL = 0x800
SSL_REQUEST_LEN = 32  # the client's SSLRequest: flags, max packet size, charset, filler
SALT = b"abcdefgh" + b"ijklmnopqrst"
MAX_PACKET = 0xFFFFFF

FACTS = {
    "version": "10.11.6-MariaDB-fake",
    "version_comment": "fake",
    "max_connections": "151",
    "max_user_connections_global": "0",
    "max_user_connections_session": "0",
    "wait_timeout": "28800",
    "interactive_timeout": "28800",
    "account": "app@%",
    "connection_id": "7",
    "user_connections": "1",
    "extra_max_connections": "1",
    "extra_port": "0",
    "read_only": "1",
    "require_secure_transport": "OFF",
}
STATUS = {
    "Threads_connected": "1",
    "Max_used_connections": "2",
    "Uptime": "100",
    "Aborted_connects": "0",
    "Connections": "3",
    "Connection_errors_max_connections": "0",
}


def lenenc_int(n: int) -> bytes:
    if n < 251:
        return bytes([n])
    if n < 1 << 16:
        return b"\xfc" + struct.pack("<H", n)
    if n < 1 << 24:
        return b"\xfd" + n.to_bytes(3, "little")
    return b"\xfe" + struct.pack("<Q", n)


def lenenc_str(data: bytes) -> bytes:
    return lenenc_int(len(data)) + data


OK = b"\x00\x00\x00\x02\x00\x00\x00"  # 0 rows, insert id 0, autocommit status, 0 warnings
EOF = b"\xfe\x00\x00\x02\x00"


SESSION_TRACK = 1 << 23  # CLIENT_SESSION_TRACK
PROXYSQL_PROBE = "select @@version_comment limit 1"
MAXSCALE_VERSION = "24.02.3"
# The proxies' own connection id differs from the backend's CONNECTION_ID() (facts below).
PROXY_FACTS = {"connection_id": "4711", "version_comment": "MariaDB Server"}


def maxscale_ok() -> bytes:
    """MaxScale's login OK packet for a client with CLIENT_SESSION_TRACK: status
    SERVER_SESSION_STATE_CHANGED and its connection_metadata as system variables, the
    default list ending in maxscale=<version> (server/core/listener.cc
    s_connection_metadata; server/modules/protocol/MariaDB/mariadb_common.cc
    create_ok_packet, encode_sysvar; github.com/mariadb-corporation/MaxScale)."""
    state = b""
    for key, value in (("max_allowed_packet", "16777216"), ("maxscale", MAXSCALE_VERSION)):
        data = lenenc_str(key.encode()) + lenenc_str(value.encode())
        state += b"\x00" + lenenc_str(data)
    status = 0x0002 | 0x4000
    return b"\x00\x00\x00" + struct.pack("<HH", status, 0) + b"\x00" + lenenc_str(state)


def greeting(
    version: str = VERSION, plugin: bytes = b"mysql_native_password", tls: bool = False
) -> bytes:
    caps = CAPABILITIES | (CLIENT_SSL if tls else 0)
    return (
        b"\x0a"
        + version.encode()
        + b"\0"
        + struct.pack("<I", 7)
        + SALT[:8]
        + b"\0"
        + struct.pack("<HBHHB", caps & 0xFFFF, 45, 2, caps >> 16, 21)
        + b"\0" * 10
        + SALT[8:]
        + b"\0"
        + plugin
        + b"\0"
    )


def column(name: str) -> bytes:
    """ColumnDefinition41: a VAR_STRING column in utf8mb4."""
    return (
        lenenc_str(b"def")
        + lenenc_str(b"") * 3
        + lenenc_str(name.encode()) * 2
        + b"\x0c"
        + struct.pack("<HIBHB", 45, 1024, 0xFD, 0, 0)
        + b"\0\0"
    )


def result_set(names: list[str], rows: list[list]) -> list[bytes]:
    out = [lenenc_int(len(names))] + [column(n) for n in names] + [EOF]
    for row in rows:
        out.append(
            b"".join(
                b"\xfb" if v is None else lenenc_str(v if isinstance(v, bytes) else str(v).encode())
                for v in row
            )
        )
    return out + [EOF]


class FakeMySQL:
    def __init__(
        self,
        mode: str,
        facts: dict | None = None,
        plugin: str = "mysql_clear_password",
        certs: dict | None = None,
    ):
        proxy = PROXY_FACTS if mode in ("proxysql", "maxscale") else {}
        self.mode, self.facts, self.plugin = mode, {**FACTS, **proxy, **(facts or {})}, plugin
        self.tls = None  # with certs (servers.make_certs): TLS offered, as MySQL does it
        if certs:
            self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.tls.load_cert_chain(certs["cert"], certs["key"])
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.key_requests = 0
        self.received = bytearray()  # everything every client sent, for leak checks
        self.queries: list[str] = []
        self.stopped = False
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def stop(self) -> None:
        self.stopped = True
        self.sock.close()
        for s in self.open:
            try:
                s.close()
            except OSError:
                pass

    def url(self, password: str, **query) -> str:
        q = "&".join(f"{k}={v}" for k, v in query.items())
        return f"mysql://app:{password}@127.0.0.1:{self.port}/app" + (f"?{q}" if q else "")

    # -- server --------------------------------------------------------------------
    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.open.append(conn)
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn, self.connections), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        mode = self.mode
        if mode == "serve-once":
            mode = "serve" if number == 1 else "trickle-greeting"
        try:
            if mode == "trickle-greeting":
                return self._trickle(conn, self._packet(0, greeting(VERSION + "-" + "x" * 200)))
            if mode == "giant":
                return self._flood(conn)
            if mode == "garbage-greeting":
                conn.sendall(self._packet(0, b"\x0a\xff\xfe garbage \x00\x01"))
                return self._drain(conn)
            plugin = self.plugin.encode() if mode == "rsa-auth" else b"mysql_native_password"
            conn.sendall(self._packet(0, greeting(tls=self.tls is not None, plugin=plugin)))
            seq, payload = self._read(conn)
            if self.tls is not None and len(payload) == SSL_REQUEST_LEN:
                conn = self.tls.wrap_socket(conn, server_side=True)
                seq, payload = self._read(conn)
            if mode == "rsa-auth":
                if self.plugin == "caching_sha2_password":  # fast auth failed: full auth
                    conn.sendall(self._packet(seq + 1, b"\x01\x04"))
                    seq, payload = self._read(conn)
                # caching_sha2 asks in a packet of its own, sha256_password in its login answer
                if payload in (b"\x02", b"\x01") or b"\x01\x01sha256_password\x00" in payload:
                    self.key_requests += 1  # a dummy key: a real one is not needed to count
                    conn.sendall(self._packet(seq + 1, b"\x01-----BEGIN PUBLIC KEY-----\n"))
                    return self._drain(conn)
            if mode == "clear-auth":
                # AuthSwitchRequest: 0xfe, plugin name, plugin data (dialog: flags, prompt).
                data = b"\x04Password: " if self.plugin == "dialog" else b""
                conn.sendall(self._packet(seq + 1, b"\xfe" + self.plugin.encode() + b"\0" + data))
                seq, _ = self._read(conn)
            caps = int.from_bytes(payload[:4], "little") if len(payload) >= 4 else 0
            if mode == "maxscale" and caps & SESSION_TRACK:
                conn.sendall(self._packet(seq + 1, maxscale_ok()))
            else:
                conn.sendall(self._packet(seq + 1, OK))
            self._commands(conn, mode)
        except (EOFError, OSError):
            pass
        finally:
            conn.close()

    def _commands(self, conn: socket.socket, mode: str) -> None:
        while True:
            _, payload = self._read(conn)
            if payload[:1] == b"\x01":  # COM_QUIT
                return
            sql = payload[1:].decode(errors="replace")
            self.queries.append(sql)
            word = sql.split(None, 1)[0].upper() if sql.strip() else ""
            if word == "SET" and " FOR SELECT" not in sql.upper() or word == "START":
                conn.sendall(self._packet(1, OK))
                continue
            if sql == PROXYSQL_PROBE:
                # ProxySQL answers this exact text itself (lib/MySQL_Session.cpp,
                # SELECT_VERSION_COMMENT); a server answers its own version_comment.
                comment = "(ProxySQL)" if mode == "proxysql" else self.facts["version_comment"]
                packets = result_set(["@@version_comment"], [[comment]])
            elif word == "SHOW":
                packets = result_set(
                    ["Variable_name", "Value"], [[k, v] for k, v in STATUS.items()]
                )
            elif sql.strip() == "SELECT 1":  # a burst client
                packets = result_set(["1"], [["1"]])
            else:  # the facts SELECT
                names = re.findall(r"\bAS (\w+)", sql)
                facts = self.facts
                if mode == "garbage-result":
                    facts = {
                        **facts,
                        "max_connections": "lots",
                        "user_connections": "-",
                        "wait_timeout": "\x1b[31mforever",
                    }
                packets = result_set(names, [[facts.get(n) for n in names]])
            data = b"".join(self._packet(i + 1, p) for i, p in enumerate(packets))
            if mode == "trickle-result":
                return self._trickle(conn, data)
            conn.sendall(data)

    # -- helpers -------------------------------------------------------------------
    @staticmethod
    def _packet(seq: int, payload: bytes) -> bytes:
        return len(payload).to_bytes(3, "little") + bytes([seq % 256]) + payload

    def _recv(self, conn: socket.socket, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            self.received += chunk
            data += chunk
        return data

    def _read(self, conn: socket.socket) -> tuple[int, bytes]:
        header = self._recv(conn, 4)
        return header[3], self._recv(conn, int.from_bytes(header[:3], "little"))

    def _trickle(self, conn: socket.socket, data: bytes) -> None:
        for i in range(len(data)):
            if self.stopped:
                return
            conn.sendall(data[i : i + 1])
            time.sleep(TRICKLE)

    def _flood(self, conn: socket.socket) -> None:
        """Maximum-length packets forever (a length of 2^24-1 says "more follows"),
        at a few MB/s: a client without a size limit never stops reading."""
        chunk = b"\x00" * 65536
        seq = 0
        while not self.stopped:
            conn.sendall(MAX_PACKET.to_bytes(3, "little") + bytes([seq % 256]))
            seq += 1
            left = MAX_PACKET
            while left and not self.stopped:
                conn.sendall(chunk[: min(left, len(chunk))])
                left -= min(left, len(chunk))
                time.sleep(0.01)

    def _drain(self, conn: socket.socket) -> None:
        try:
            while conn.recv(1024):
                pass
        except OSError:
            pass
