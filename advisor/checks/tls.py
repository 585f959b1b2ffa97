"""TLS on each leg: client to pooler/server, and pooler to server."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Context, Result, check, postgres_facts
from .common import stays_local
from .common import tls_in_use as _in_use
from .common import tls_verified as _verified

if TYPE_CHECKING:
    from ..facts.model import Facts


@check("PG301")
def tls_in_use(facts: Facts, ctx: Context) -> Result | None:
    return _in_use(postgres_facts(facts), ctx)


@check("PG302")
def tls_verified(facts: Facts, ctx: Context) -> Result | None:
    return _verified(postgres_facts(facts))


@check("PG303")
def pooler_server_leg(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    if pg is None or not pg["pooler"]["detected"]:
        return None
    server = pg["tls"]["server"]
    if server["in_use"]:
        return Result("pass", f"the pooler's connection to PostgreSQL uses {server['version']}")
    addr = server["server_addr"]
    if stays_local(addr):
        where = "a Unix socket" if not addr else f"loopback ({addr})"
        return Result(
            "pass", f"the pooler reaches PostgreSQL over {where}: the leg never leaves the machine"
        )
    return Result("warn", f"the pooler reaches PostgreSQL at {addr} without TLS")
