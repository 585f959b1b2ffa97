"""Judgements shared by the PostgreSQL and MySQL checks (same rule, different words)."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from . import Context, Result

if TYPE_CHECKING:
    from ..facts.model import Facts, ServerFacts

# How each engine's client names its TLS modes, for messages.
TLS_WORDS = {
    "postgresql": {"key": "sslmode", "full": "verify-full", "ca": "verify-ca"},
    "mysql": {"key": "ssl-mode", "full": "VERIFY_IDENTITY", "ca": "VERIFY_CA"},
}


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0


def stays_local(host: str | None) -> bool:
    """Loopback or a Unix socket: the connection never crosses a network."""
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def headroom_status(check_id: str, free: int, free_pct: float, ctx: Context) -> str:
    """fail / warn / pass by the check's thresholds (fail_below_slots and _percent, warn_below_percent)."""
    if free < ctx.param(check_id, "fail_below_slots") or free_pct < ctx.param(
        check_id, "fail_below_percent"
    ):
        return "fail"
    if free_pct < ctx.param(check_id, "warn_below_percent"):
        return "warn"
    return "pass"


def reachable(facts: Facts, server: str) -> Result | None:
    if "probe" not in facts:  # a lint
        return None
    probe = facts["probe"]
    if "error" in probe:
        return Result("error", probe["error"])
    n = probe["connections_opened"]
    return Result(
        "pass",
        f"connected in {probe['connect_ms']:.0f} ms to {server}; "
        f"{n} client connection{'s' if n != 1 else ''} opened",
    )


def tls_in_use(facts: ServerFacts | None, ctx: Context) -> Result | None:
    if facts is None:
        return None
    client = facts["tls"]["client"]
    key = TLS_WORDS[facts["engine"]]["key"]
    if client["in_use"]:
        return Result(
            "pass", f"{client['version']} with {client['cipher']} ({key}={client['sslmode']})"
        )
    offered = facts["tls"]["server"]["ssl_enabled"]
    why = "the server does not offer TLS" if offered is False else f"{key}={client['sslmode']}"
    if stays_local(ctx.target.host if ctx.target else None):
        return Result(
            "warn",
            f"not encrypted ({why}); acceptable only while the connection stays on this machine",
        )
    return Result(
        "fail", f"not encrypted ({why}): the login and every query cross the network in clear text"
    )


def tls_verified(facts: ServerFacts | None) -> Result | None:
    if facts is None or not facts["tls"]["client"]["in_use"]:
        return None
    client = facts["tls"]["client"]
    words = TLS_WORDS[facts["engine"]]
    if client["hostname_verified"]:
        return Result(
            "pass", f"certificate chain and host name verified ({words['key']}={words['full']})"
        )
    if client["verified"]:
        return Result(
            "warn",
            f"certificate chain verified but not the host name ({words['key']}={words['ca']})",
        )
    return Result(
        "warn",
        f"encrypted but the certificate is not verified ({words['key']}={client['sslmode']}): "
        "a machine in the middle could pose as the server",
    )
