"""TLS on each leg: client to pooler/server, and pooler to server."""

import ipaddress

from . import Context, Result, check


def _stays_local(host: str | None) -> bool:
    if not host or host.startswith("/") or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@check("PG301")
def tls_in_use(facts: dict, ctx: Context):
    client = (facts.get("tls") or {}).get("client")
    if client is None:
        return None
    if client["in_use"]:
        return Result("pass", f"{client['version']} with {client['cipher']} (sslmode={client['sslmode']})")
    server_offers = facts["tls"]["server"].get("ssl_enabled")
    why = "the server does not offer TLS" if not server_offers else f"sslmode={client['sslmode']}"
    if _stays_local(ctx.target.host if ctx.target else None):
        return Result("warn", f"not encrypted ({why}); acceptable only while the connection "
                      "stays on this machine")
    return Result("fail", f"not encrypted ({why}): passwords and queries cross the network in clear text")


@check("PG302")
def tls_verified(facts: dict, ctx: Context):
    client = (facts.get("tls") or {}).get("client")
    if client is None or not client["in_use"]:
        return None
    if client.get("hostname_verified"):
        return Result("pass", "certificate chain and host name verified (sslmode=verify-full)")
    if client.get("verified"):
        return Result("warn", "certificate chain verified but not the host name (sslmode=verify-ca)")
    return Result("warn", f"encrypted but the certificate is not verified (sslmode={client['sslmode']}): "
                  "a machine in the middle could pose as the server")


@check("PG303")
def pooler_server_leg(facts: dict, ctx: Context):
    pooler, server = facts.get("pooler"), (facts.get("tls") or {}).get("server")
    if not pooler or not pooler.get("detected") or server is None:
        return None
    if server["in_use"]:
        return Result("pass", f"the pooler's connection to PostgreSQL uses {server['version']}")
    addr = server.get("server_addr")
    if _stays_local(addr):
        where = "a Unix socket" if not addr else f"loopback ({addr})"
        return Result("pass", f"the pooler reaches PostgreSQL over {where}: the leg never leaves the machine")
    return Result("warn", f"the pooler reaches PostgreSQL at {addr} without TLS")
