"""TLS on each leg: client to pooler/server, and pooler to server."""

from typing import Any

from . import Context, Result, check
from .common import stays_local
from .common import tls_in_use as _in_use
from .common import tls_verified as _verified


@check("PG301")
def tls_in_use(facts: dict[str, Any], ctx: Context) -> Result | None:
    return _in_use(facts, ctx)


@check("PG302")
def tls_verified(facts: dict[str, Any], ctx: Context) -> Result | None:
    return _verified(facts)


@check("PG303")
def pooler_server_leg(facts: dict[str, Any], ctx: Context) -> Result | None:
    pooler, server = facts.get("pooler"), (facts.get("tls") or {}).get("server")
    if not pooler or not pooler.get("detected") or server is None:
        return None
    if server["in_use"]:
        return Result("pass", f"the pooler's connection to PostgreSQL uses {server['version']}")
    addr = server.get("server_addr")
    if stays_local(addr):
        where = "a Unix socket" if not addr else f"loopback ({addr})"
        return Result(
            "pass", f"the pooler reaches PostgreSQL over {where}: the leg never leaves the machine"
        )
    return Result("warn", f"the pooler reaches PostgreSQL at {addr} without TLS")
