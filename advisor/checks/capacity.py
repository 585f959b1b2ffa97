"""Capacity: free slots on the server, reserved slots, role and database caps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Context, Result, check, postgres_facts
from .common import headroom_status
from .common import pct as _pct

if TYPE_CHECKING:
    from ..facts.model import Facts, PostgresDatabase, PostgresRole


@check("PG101")
def headroom(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    if pg is None:
        return None
    usable = pg["max_connections"] - pg["reserved_connections"]
    free = pg["available_connections"]
    pct = _pct(free, usable)
    numbers = (
        f"{free} of {usable} usable slots free ({pct:.0f} %): max_connections "
        f"{pg['max_connections']}, {pg['reserved_connections']} reserved, "
        f"{pg['connections_in_use']} in use (this probe included)"
    )
    return Result(headroom_status("PG101", free, pct, ctx), numbers)


@check("PG102")
def reserved_slots(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    if pg is None:
        return None
    total, su = pg["max_connections"], pg["superuser_reserved_connections"]
    reserved = pg["reserved_connections"]
    message = (
        f"{reserved} of {total} slots reserved "
        f"(superuser_reserved_connections {su}, reserved_connections "
        f"{pg['reserved_connections_setting']})"
    )
    if reserved >= total:
        return Result("fail", message + ": no slot is left for applications")
    if su == 0:
        return Result(
            "warn", message + ": no superuser slot, so nobody can log in to fix a full server"
        )
    if _pct(reserved, total) > ctx.param("PG102", "warn_above_percent"):
        return Result(
            "warn",
            message + ": applications lose more than "
            f"{ctx.param('PG102', 'warn_above_percent')} % of max_connections",
        )
    return Result("pass", message)


def _object_limit(
    check_id: str, what: str, obj: PostgresRole | PostgresDatabase, ctx: Context
) -> Result:
    limit, name, used = obj["connection_limit"], obj["name"], obj["connections"]
    if limit < 0:
        return Result(
            "pass", f"{what} {name!r} has no connection limit of its own ({used} connected)"
        )
    free = limit - used
    message = f"{what} {name!r} is limited to {limit} connections; {used} in use, {free} free"
    if free < ctx.param(check_id, "fail_below_slots"):
        return Result("fail", message)
    if _pct(free, limit) < ctx.param(check_id, "warn_below_percent"):
        return Result("warn", message)
    return Result("warn" if limit < 10 else "pass", message)


@check("PG103")
def role_limit(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    return _object_limit("PG103", "role", pg["role"], ctx) if pg else None


@check("PG104")
def database_limit(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    return _object_limit("PG104", "database", pg["database"], ctx) if pg else None
