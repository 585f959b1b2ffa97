"""Pooling: is there a pooler in front, and does it suit serverless clients?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..facts.model import pgbouncer_like
from . import Context, Result, check, common, postgres_facts
from .stack import stack_of

if TYPE_CHECKING:
    from ..facts.model import Facts, PostgresReportFacts


@check("PG001")
def reachable(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    return common.reachable(facts, f"PostgreSQL {pg['server_version'] if pg else None}")


@check("PG201")
def pooler_in_front(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    if pg is None:
        return None
    pooler = pg["pooler"]
    if not ctx.serverless:
        return Result("skip", "not checked: --no-serverless says clients are long-lived")
    if pooler["detected"]:
        mode = f", {pooler['pool_mode']} mode" if pooler["pool_mode"] else ""
        return Result("pass", f"a pooler answers on this URL ({pooler['kind']}{mode})")
    return Result(
        "fail",
        "no pooler detected: every serverless instance would hold its own "
        f"server connections, and only {pg['available_connections']} are free",
    )


TRANSACTIONAL = ("transaction", "statement")


@check("PG202")
def pool_mode_for_serverless(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    if pg is None or not pg["pooler"]["detected"] or not ctx.serverless:
        return None
    pooler = pg["pooler"]
    mode = pooler["pool_mode"]
    if mode in TRANSACTIONAL:
        return Result(
            "pass", f"{pooler['kind']} in {mode} mode: many clients share few server connections"
        )
    if mode == "session":
        return Result(
            "warn",
            f"{pooler['kind']} in session mode: each client keeps a server connection "
            "while connected, so idle serverless instances still use up the pool",
        )
    return Result("skip", "pool mode unknown")


def _tracks_prepared(pg: PostgresReportFacts) -> tuple[bool | None, str]:
    """Whether the pooler keeps named prepared statements working, and how we know."""
    measured = pg.get("session_features", {}).get("protocol_prepared_statements")
    if measured is not None and measured["works"] is not None:
        return measured["works"], f"measured: {measured['evidence']}"
    admin = pg["pooler"].get("admin")  # only with --pooler-admin-url
    if admin and admin["version_number"]:
        version = tuple(admin["version_number"])
        # A PgBouncer that predates the setting does not list it.
        mps = admin["settings"].get("max_prepared_statements", 0) if version >= (1, 21) else 0
        shown = ".".join(map(str, version))
        if version < (1, 21):
            return False, f"PgBouncer {shown} predates prepared-statement support (1.21)"
        if not mps:
            return False, f"PgBouncer {shown} has max_prepared_statements = 0"
        return True, f"PgBouncer {shown} tracks up to {mps} prepared statements per connection"
    pooler = pg["pooler"]
    if pgbouncer_like(pooler["kind"]) and pooler.get("version") == "< 1.21":
        return False, (
            f"{pooler['kind']} before 1.21 (its cancel key says so) cannot track "
            "prepared statements"
        )
    endpoint = pg["url"]["endpoint"]
    known = endpoint["prepared_statements"]
    if known is not None and endpoint["role"] == "pooled":
        return known, (
            f"the provider catalog says {endpoint['provider_name']}'s pooler "
            f"{'tracks' if known else 'does not track'} prepared statements"
        )
    kind = pooler["kind"]
    if kind and kind != "unknown" and not pgbouncer_like(kind):
        return None, f"{kind}: whether it keeps named prepared statements is not known"
    return None, "pooler version unknown (give --pooler-admin-url to read it)"


@check("PG203")
def prepared_statements(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    if pg is None or not pg["pooler"]["detected"] or pg["pooler"]["pool_mode"] not in TRANSACTIONAL:
        return None
    if stack_of(ctx) is not None:
        return None  # the stack is known: STK101 gives its verdict instead of this advice
    tracks, why = _tracks_prepared(pg)
    params = pg["url"]["params"]
    prisma = ctx.orm == "prisma" or (
        ctx.orm is None
        and any(k in params for k in ("pgbouncer", "connection_limit", "pool_timeout"))
    )
    flag = str(params.get("pgbouncer", "")).lower() == "true"
    if prisma:
        if tracks is False:
            return (
                Result("pass", f"{why}; pgbouncer=true is set")
                if flag
                else Result("fail", f"{why}: Prisma needs pgbouncer=true in this URL")
            )
        if tracks is True:
            return (
                Result("warn", f"{why}: pgbouncer=true is no longer needed and costs speed")
                if flag
                else Result("pass", why)
            )
        return (
            Result("pass", f"{why}; pgbouncer=true is set, which is safe either way")
            if flag
            else Result(
                "warn",
                f"{why}: add pgbouncer=true unless the pooler is PgBouncer 1.21+ "
                "with max_prepared_statements > 0",
            )
        )
    if tracks is True:
        return Result("pass", why)
    return Result(
        "warn",
        f"{why}: clients must not use named prepared statements here "
        "(postgres.js prepare: false, psycopg prepare_threshold=None, asyncpg "
        "statement_cache_size=0, Rails prepared_statements: false)",
    )


@check("PG204")
def pool_fits_server(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    admin = pg["pooler"].get("admin") if pg else None  # only with --pooler-admin-url
    if pg is None or admin is None:
        return None
    settings = admin["settings"]  # a setting this PgBouncer lacks is left out
    default, reserve = settings.get("default_pool_size"), settings.get("reserve_pool_size", 0)
    pairs = max(1, len(admin["pools"]))
    per_pool = int(default or 0) + int(reserve or 0)
    demand = per_pool * pairs
    cap = int(settings.get("max_db_connections") or 0)
    databases = max(1, len(admin["databases"]))
    if cap:
        demand = min(demand, cap * databases)
    usable = pg["max_connections"] - pg["reserved_connections"]
    message = (
        f"pools can open up to {demand} server connections ({pairs} pool(s) x "
        f"{per_pool} = default_pool_size {default} + reserve {reserve}"
        f"{f', capped by max_db_connections {cap}' if cap else ''}); "
        f"the server allows {usable} (max_connections {pg['max_connections']} - "
        f"{pg['reserved_connections']} reserved)"
    )
    if demand > usable:
        return Result("fail", message)
    if 100 * demand > ctx.param("PG204", "warn_above_percent") * usable:
        return Result("warn", message + ": little room is left for migrations and admin sessions")
    return Result("pass", message)


@check("PG205")
def clients_waiting(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    admin = pg["pooler"].get("admin") if pg else None  # only with --pooler-admin-url
    if admin is None:
        return None
    waiting = admin["clients_waiting"]
    if waiting:
        return Result(
            "warn",
            f"{waiting} client(s) waiting for a server connection right now "
            f"({admin['clients_active']} active)",
        )
    return Result("pass", f"no client waiting ({admin['clients_active']} active)")


@check("PG206")
def migrations_direct(facts: Facts, ctx: Context) -> Result | None:
    if "direct" not in facts:  # only with --direct-url
        return None
    direct = facts["direct"]
    if "error" in direct:
        return Result("warn", f"could not check the direct URL: {direct['error']}")
    pooler = direct["pooler"]
    if pooler["detected"] and pooler["pool_mode"] in TRANSACTIONAL:
        return Result(
            "fail",
            f"the direct URL goes through {pooler['kind']} in {pooler['pool_mode']} "
            "mode: migrations need a session of their own on PostgreSQL",
        )
    if pooler["detected"]:
        return Result(
            "pass",
            f"the direct URL goes through {pooler['kind']} in "
            f"{pooler['pool_mode'] or 'an unknown'} mode, which keeps sessions intact",
        )
    return Result("pass", "the direct URL reaches PostgreSQL itself (no pooler answered)")


@check("PG207")
def serverless_capacity(facts: Facts, ctx: Context) -> Result | None:
    pg = postgres_facts(facts)
    if not ctx.concurrency or pg is None:
        return None
    limit = pg["url"]["params"].get("connection_limit")  # whatever the URL says, if anything
    if ctx.pool_size:
        size, origin = ctx.pool_size, "--pool-size"
    elif limit and str(limit).isdigit():
        size, origin = int(limit), "connection_limit in the URL"
    else:
        size = ctx.param("PG207", "default_pool_size_per_instance")
        origin = "assumed: Prisma 6's default on 2 vCPUs; pass --pool-size"
    need = ctx.concurrency * size
    pooler = pg["pooler"]
    numbers = f"{ctx.concurrency} instances x pool {size} ({origin}) = {need} client connections"
    if not pooler["detected"]:
        free = pg["available_connections"]
        if need > free:
            return Result(
                "fail",
                f"{numbers}, but only {free} slots are free: put a pooler in front "
                f"or cut the pool to {max(1, free // ctx.concurrency)} per instance",
            )
        return Result("pass", f"{numbers}; {free} slots are free")
    admin = pooler.get("admin")  # only with --pooler-admin-url
    usable = pg["max_connections"] - pg["reserved_connections"]
    advice = (
        f"the pooler must accept at least {need} clients (max_client_conn) while its "
        f"server-side pool stays within {usable} connections (default_pool_size)"
    )
    if admin:
        max_client = int(admin["settings"].get("max_client_conn") or 0)
        if max_client and need > max_client:
            return Result("fail", f"{numbers}, but max_client_conn is {max_client}: {advice}")
        return Result("pass", f"{numbers}; max_client_conn {max_client} accepts them")
    return Result("pass", f"{numbers} through {pooler['kind']}: {advice}")
