"""Capacity: free slots on the server, reserved slots, role and database caps."""

from typing import Any

from . import Context, Result, check
from .common import headroom_status
from .common import pct as _pct


@check("PG101")
def headroom(facts: dict[str, Any], ctx: Context) -> Result | None:
    if facts.get("max_connections") is None:
        return None
    usable = facts["max_connections"] - facts["reserved_connections"]
    free = facts["available_connections"]
    pct = _pct(free, usable)
    numbers = (
        f"{free} of {usable} usable slots free ({pct:.0f} %): max_connections "
        f"{facts['max_connections']}, {facts['reserved_connections']} reserved, "
        f"{facts['connections_in_use']} in use (this probe included)"
    )
    return Result(headroom_status("PG101", free, pct, ctx), numbers)


@check("PG102")
def reserved_slots(facts: dict[str, Any], ctx: Context) -> Result | None:
    if facts.get("max_connections") is None:
        return None
    total, su = facts["max_connections"], facts["superuser_reserved_connections"]
    reserved = facts["reserved_connections"]
    message = (
        f"{reserved} of {total} slots reserved "
        f"(superuser_reserved_connections {su}, reserved_connections "
        f"{facts['reserved_connections_setting']})"
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


def _object_limit(check_id: str, what: str, obj: dict[str, Any], ctx: Context) -> Result | None:
    limit = obj.get("connection_limit")
    if limit is None:
        return None
    name, used = obj.get("name"), obj.get("connections", 0)
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
def role_limit(facts: dict[str, Any], ctx: Context) -> Result | None:
    return _object_limit("PG103", "role", facts.get("role") or {}, ctx)


@check("PG104")
def database_limit(facts: dict[str, Any], ctx: Context) -> Result | None:
    return _object_limit("PG104", "database", facts.get("database") or {}, ctx)
