"""Why libpq refused the server's certificate: it only says "certificate verify failed".

Called only on that failure path. It dials the server once more, sends the SSLRequest
preamble (8 bytes: length 8, code 80877103; see "SSL Session Encryption" in
https://www.postgresql.org/docs/current/protocol-flow.html) and runs a TLS handshake
with Python's ssl module against the same CA file, so that OpenSSL names the reason.
Nothing follows the handshake: no startup packet, no password, no login.
"""

from __future__ import annotations

import re
import socket
import ssl
import struct
import time
from pathlib import Path

from ..pgenv import libpq_option
from ..target import Target, is_ip_address

SSL_REQUEST = struct.pack("!ii", 8, 80877103)

# OpenSSL's X509_V_ERR_* codes (include/openssl/x509_vfy.h.in) -> what the report says.
REASONS = {
    9: "not yet valid",  # X509_V_ERR_CERT_NOT_YET_VALID
    10: "expired",  # X509_V_ERR_CERT_HAS_EXPIRED
    2: "unknown CA",  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT
    18: "unknown CA",  # X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
    19: "unknown CA",  # X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
    20: "unknown CA",  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    21: "unknown CA",  # X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
    62: "hostname mismatch",  # X509_V_ERR_HOSTNAME_MISMATCH
    23: "revoked",  # X509_V_ERR_CERT_REVOKED
}

SENTENCES = {
    "expired": "TLS certificate expired: the server's certificate is past its end date "
    "(notAfter); the server needs a renewed one",
    "not yet valid": "TLS certificate not yet valid: its start date (notBefore) is still to "
    "come (a certificate issued ahead of time, or a clock that is off)",
    "unknown CA": "TLS certificate not trusted: unknown CA (not signed by the sslrootcert CA)",
    "hostname mismatch": "TLS hostname mismatch: the server's certificate does not name the "
    "host dialled",
    "revoked": "TLS certificate revoked",
}


def sentence(target: Target, seconds: float, where: re.Match[str] | None = None) -> str:
    """What the report says about a refused chain, from a second TLS handshake (no login)
    at the address libpq tried (`where`: the match of its "connection to server at ...
    port N" phrase); a neutral sentence when that cannot tell within `seconds`."""
    address = where and (where.group("ip") or where.group("name"))
    port = int(where.group("port")) if where and where.group("port") else None
    reason = diagnose(target, seconds, address, port) if seconds > 0 else None
    if reason is None:
        return (
            "TLS certificate not trusted (expired, not yet valid or an unknown CA: the "
            "certificate could not be fetched again to tell which)"
        )
    return SENTENCES.get(reason, f"TLS certificate not trusted: {reason}")


def diagnose(
    target: Target, seconds: float, address: str | None = None, port: int | None = None
) -> str | None:
    """The reason the certificate fails verification ("expired", "not yet valid",
    "unknown CA", "hostname mismatch", "revoked", else OpenSSL's own words), or None when
    it cannot be told within `seconds` (no answer, no TLS, or the chain verifies now).
    `address` and `port`: where libpq's failed attempt went (from its message)."""
    deadline = time.monotonic() + max(0.0, seconds)
    host = libpq_option(target, "host") or ""
    port = port or int(libpq_option(target, "port") or 5432)
    address = address or libpq_option(target, "hostaddr") or host
    if not address or address.startswith("/"):
        return None  # a Unix socket carries no TLS
    try:
        context = _context(target)
        if not is_ip_address(address):
            from . import dns

            address = dns.resolve(address, port, deadline - time.monotonic())[0]
        with socket.create_connection((address.strip("[]"), port), timeout=_left(deadline)) as raw:
            raw.sendall(SSL_REQUEST)
            if raw.recv(1) != b"S":
                return None
            raw.settimeout(_left(deadline))
            sni = host if host and not is_ip_address(host) and not host.startswith("/") else None
            with context.wrap_socket(raw, server_hostname=sni):
                return None  # verifies now: libpq failed for another reason (CRL, ...)
    except ssl.SSLCertVerificationError as exc:
        return REASONS.get(exc.verify_code) or str(exc.verify_message or "")[:100] or None
    except Exception:  # time up, refused, a CA file that does not load: say nothing more
        return None


def _context(target: Target) -> ssl.SSLContext:
    """The client side libpq would have: TLS 1.2 or later, the chain checked against
    sslrootcert (~/.postgresql/root.crt by default, or the system store for "system").
    libpq checks the host name itself, after the chain: so does this, by not asking."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    root = libpq_option(target, "sslrootcert") or str(Path.home() / ".postgresql" / "root.crt")
    if root == "system":
        context.load_default_certs()
    else:
        context.load_verify_locations(cafile=root)
    return context


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left
