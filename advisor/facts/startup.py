"""Startup parameters of their own, asked of a pooler without logging in.

PgBouncer reads the StartupMessage's parameters in packet order before it authenticates
anyone, and refuses the first it neither tracks nor ignores with an ErrorResponse
"unsupported startup parameter: NAME" (src/client.c, decide_startup_pool). So one raw
StartupMessage carrying user, database and then the parameters under test, and the FIRST
reply alone, tell which of them the pooler takes at startup:

- an ErrorResponse naming one of them: that one is refused, and those before it were taken;
  those after it were never looked at;
- an Authentication request (or AuthenticationOk where no password is asked): all were taken.

The connection is then closed without answering: no password is ever sent, so no login is
attempted, let alone a wrong one (providers ban addresses for those). Whether a parameter
taken at startup is applied or dropped only shows in a session: pool-mode detection's
second client logs in with the ones taken and reads them back (facts/postgres.py).

The TLS is the probe's own login's: SSLRequest then TLS when that login used TLS, with the
same certificate checks libpq made (the root certificate when there is one, the host name
under verify-full); plain text when it did not. Sockets and the standard library only.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
import struct
from dataclasses import dataclass, field
from pathlib import Path

from .deadline import Deadline

PROTOCOL_3 = 196608
SSL_REQUEST = struct.pack("!ii", 8, 80877103)
REFUSED = re.compile(r"unsupported startup parameter(?: in options)?: (\w+)")
MAX_REPLY = 64 * 1024


@dataclass
class Outcome:
    """What the first reply said of `sent` (the parameters tried, in packet order)."""

    sent: list[str]
    accepted: list[str] = field(default_factory=list)  # taken at startup
    rejected: str | None = None
    reply: str = ""  # one line: what answered (or why nothing was tried)
    ran: bool = False  # a connection was opened

    def state(self, name: str) -> str:
        """ "accepted", "rejected" or "unknown" for one of `sent`."""
        if name == self.rejected:
            return "rejected"
        return "accepted" if name in self.accepted else "unknown"


@dataclass
class TLS:
    """How the probe's login talked TLS (from libpq's effective options)."""

    in_use: bool
    sslmode: str = "prefer"
    rootcert: str | None = None
    cert: str | None = None
    key: str | None = None
    crl: str | None = None
    direct: bool = False  # sslnegotiation=direct (PostgreSQL 17): TLS without SSLRequest


class Skipped(Exception):
    pass


def _context(tls: TLS, host: str | None) -> ssl.SSLContext:
    """libpq's checks: the chain when a root certificate is there (always under verify-*),
    the host name under verify-full."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    root = tls.rootcert or str(Path.home() / ".postgresql" / "root.crt")
    if root == "system":
        ctx.load_default_certs()
        ctx.verify_mode = ssl.CERT_REQUIRED
    elif os.path.exists(root):
        ctx.load_verify_locations(cafile=root)
        ctx.verify_mode = ssl.CERT_REQUIRED
    elif tls.sslmode.startswith("verify"):
        raise Skipped("the root certificate libpq used cannot be read")
    else:
        ctx.verify_mode = ssl.CERT_NONE
    if tls.crl and os.path.exists(tls.crl) and ctx.verify_mode == ssl.CERT_REQUIRED:
        ctx.load_verify_locations(cafile=tls.crl)
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    ctx.check_hostname = tls.sslmode == "verify-full" and bool(host)
    cert = tls.cert or str(Path.home() / ".postgresql" / "postgresql.crt")
    key = tls.key or str(Path.home() / ".postgresql" / "postgresql.key")
    if os.path.exists(cert) and os.path.exists(key):
        try:
            ctx.load_cert_chain(cert, key, password=lambda: b"")
        except (ssl.SSLError, OSError):
            raise Skipped("the client certificate libpq used cannot be loaded") from None
    if tls.direct:
        ctx.set_alpn_protocols(["postgresql"])
    return ctx


def _recv(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the endpoint closed the connection")
        data += chunk
    return data


def _error_fields(body: bytes) -> dict[str, str]:
    out = {}
    for part in body.split(b"\0"):
        if part:
            out[chr(part[0])] = part[1:].decode(errors="replace")
    return out


def startup_message(user: str, database: str, params: list[tuple[str, str]]) -> bytes:
    body = struct.pack("!i", PROTOCOL_3)
    for key, value in [("user", user), ("database", database), *params]:
        body += key.encode() + b"\0" + value.encode() + b"\0"
    body += b"\0"
    return struct.pack("!i", len(body) + 4) + body


def first_reply(reply_type: bytes, body: bytes, outcome: Outcome) -> Outcome:
    """Read the outcome off the first message the endpoint sent (pure)."""
    sent = outcome.sent
    if reply_type == b"R" and len(body) >= 4:
        code = struct.unpack("!i", body[:4])[0]
        what = "AuthenticationOk" if code == 0 else f"an authentication request ({code})"
        outcome.accepted = list(sent)
        outcome.reply = f"the endpoint answered {what}: it took every parameter at startup"
        return outcome
    if reply_type == b"E":
        fields = _error_fields(body)
        message = fields.get("M", "").strip().splitlines()[0:1]
        text = message[0][:200] if message else "(no message)"
        found = REFUSED.search(text)
        named = found.group(1).lower() if found else None
        if named is None:  # another pooler's wording: a parameter it names
            mentioned = [n for n in sent if re.search(rf"\b{re.escape(n)}\b", text)]
            named = mentioned[0] if len(mentioned) == 1 else None
        if named in sent:
            outcome.rejected = named
            outcome.accepted = sent[: sent.index(named)]
        outcome.reply = f"the endpoint answered ErrorResponse {text!r} before authentication"
        return outcome
    outcome.reply = f"the endpoint's first reply was a {reply_type!r} message"
    return outcome


def probe(
    address: tuple[str, int] | str,
    host: str | None,
    user: str,
    database: str,
    params: list[tuple[str, str]],
    tls: TLS,
    deadline: Deadline | float,
) -> Outcome:
    """Send one StartupMessage carrying `params` after user and database and read the first
    reply. `address`: (IP or host, port), or a Unix socket path; `host`: the name TLS checks
    the certificate against. Never raises for what the endpoint does: the Outcome says it."""
    deadline = Deadline.of(deadline)
    outcome = Outcome(sent=[k for k, _v in params])
    if deadline.left() <= 0.05:
        outcome.reply = "not tried: no time left"
        return outcome
    sock: socket.socket | None = None
    try:
        left = min(deadline.left(), 5.0)
        if isinstance(address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(left)
            sock.connect(address)
        else:
            sock = socket.create_connection(address, timeout=left)
        outcome.ran = True
        if tls.in_use and not isinstance(address, str):
            ctx = _context(tls, host)
            if not tls.direct:
                sock.sendall(SSL_REQUEST)
                answer = _recv(sock, 1)
                if answer != b"S":
                    raise Skipped("the endpoint declined TLS, which the probe's login used")
            # The name is checked under verify-full; Python sends no SNI for an IP literal.
            sock = ctx.wrap_socket(sock, server_hostname=host or None)
        sock.settimeout(max(0.05, min(deadline.left(), 5.0)))
        sock.sendall(startup_message(user, database, params))
        head = _recv(sock, 5)
        length = struct.unpack("!i", head[1:])[0] - 4
        body = _recv(sock, max(0, min(length, MAX_REPLY)))
        return first_reply(head[:1], body, outcome)
    except Skipped as exc:
        outcome.reply = f"not tried: {exc}"
    except ssl.SSLError as exc:
        outcome.reply = f"not tried: TLS as the probe's login used it failed ({exc.reason})"
    except TimeoutError:
        outcome.reply = "not tried: no reply in time"
    except ValueError as exc:  # an unusable TLS setting (the login's own checks passed)
        outcome.reply = f"not tried: TLS as the probe's login used it failed ({exc})"
    except OSError as exc:
        outcome.reply = f"not tried: {exc.strerror or exc}"
    finally:
        if sock is not None:
            try:
                sock.close()  # without a word: nothing is answered, no password is sent
            except OSError:
                pass
    return outcome
