"""Pooling: is there a pooler in front, and does it suit serverless clients?"""

from . import Context, Result, check


@check("PG001")
def reachable(facts: dict, ctx: Context):
    probe = facts.get("probe")
    if not probe:
        return None
    if probe.get("error"):
        return Result("error", probe["error"])
    return Result("pass", f"connected in {probe['connect_ms']:.0f} ms to PostgreSQL "
                  f"{facts['server_version']} with {probe['connections_opened']} connection")


@check("PG201")
def pooler_in_front(facts: dict, ctx: Context):
    pooler = facts.get("pooler")
    if pooler is None or facts.get("max_connections") is None:
        return None
    if not ctx.serverless:
        return Result("skip", "not checked: --no-serverless says clients are long-lived")
    if pooler["detected"]:
        mode = f", {pooler['pool_mode']} mode" if pooler.get("pool_mode") else ""
        return Result("pass", f"a pooler answers on this URL ({pooler['kind']}{mode})")
    return Result("fail", "no pooler detected: every serverless instance would hold its own "
                  f"server connections, and only {facts['available_connections']} are free")
