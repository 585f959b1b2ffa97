"""`advisor audit`: the workload's session features and the connection ledger (kind audit)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import Context, Result, check, common

if TYPE_CHECKING:
    from ..facts.model import Facts

FEATURE_CHECKS = {
    "AUD102": "session_set",
    "AUD103": "set_config",
    "AUD104": "advisory_lock",
    "AUD105": "listen_notify",
    "AUD106": "sql_prepare",
    "AUD107": "with_hold_cursors",
    "AUD108": "temp_tables",
    "AUD109": "user_variables",
    "AUD110": "get_lock",
}


def _workload(facts: Facts) -> dict[str, Any] | None:
    if facts.get("max_connections") is None:
        return None
    workload: dict[str, Any] | None = facts.get("workload")  # type: ignore[assignment]
    return workload


def _readable(facts: Facts) -> dict[str, Any] | None:
    """facts.workload when the statements could be read, else None."""
    workload = _workload(facts)
    if workload is None or not workload["statement_source"]["readable"]:
        return None
    return workload


def _list(values: list[str], limit: int = 5) -> str:
    shown = ", ".join(values[:limit])
    return shown + (f" and {len(values) - limit} more" if len(values) > limit else "")


@check("AUD001")
def reachable(facts: Facts, ctx: Context) -> Result | None:
    return common.reachable(facts, f"{facts['engine']} {facts.get('server_version', '')}".strip())


@check("AUD101")
def statements_readable(facts: Facts, ctx: Context) -> Result | None:
    workload = _workload(facts)
    if workload is None:
        return None
    src = workload["statement_source"]
    name = src["name"]
    if src["readable"]:
        n = workload["statements_read"]
        note = ""
        if not src["all_roles_visible"]:
            note = (
                "; only this role's own statement texts are visible (grant pg_read_all_stats "
                "to see every role's)"
                if name == "pg_stat_statements"
                else ""
            )
        if workload["statements_hidden"]:
            note += f"; {workload['statements_hidden']} statement text(s) hidden from this role"
        return Result("pass", f"read {n} statement(s) from {name}{note}")
    if facts["engine"] == "postgresql":
        if not src["installed"] and not src["loaded"]:
            why = (
                "pg_stat_statements is neither loaded (shared_preload_libraries) nor created "
                "in this database"
            )
        elif not src["loaded"]:
            why = "pg_stat_statements is created but not loaded: add it to shared_preload_libraries and restart"
        elif not src["installed"]:
            why = (
                "pg_stat_statements is loaded but not created in this database: "
                "CREATE EXTENSION pg_stat_statements (the audit never does it for you)"
            )
        else:
            why = f"pg_stat_statements could not be read: {src['error']}"
    else:
        why = (
            src["error"] or "performance_schema is off: start the server with performance_schema=ON"
        )
    return Result("warn", f"{why}; the session features below come from the live catalogs only")


def _feature(check_id: str, facts: Facts) -> Result | None:
    workload = _readable(facts)
    if workload is None:
        return None
    name = FEATURE_CHECKS[check_id]
    found = next((f for f in workload["session_features"] if f["feature"] == name), None)
    status = "fail"
    if found is None and name == "set_config":
        found = next(
            (f for f in workload["session_features"] if f["feature"] == "set_config_normalised"),
            None,
        )
        status = "warn"  # true or false: the text no longer says
    if found is None:
        return Result(
            "pass", f"not used by any of the {workload['statements_read']} statement(s) read"
        )
    doubt = (
        "the third argument was normalised to a parameter, so true and false look the same; "
        if status == "warn"
        else ""
    )
    return Result(
        status,
        f"{doubt}{found['calls']} call(s) in {found['statements']} statement(s) by role(s) "
        f"{_list(found['roles'])} in database(s) {_list(found['databases'])}, e.g. "
        f"`{found['example']}`; rewrite: {found['rewrite']}",
    )


def _register(check_id: str) -> None:
    @check(check_id)
    def feature(facts: Facts, ctx: Context) -> Result | None:
        return _feature(check_id, facts)


for _id in FEATURE_CHECKS:
    _register(_id)


@check("AUD120")
def unclassified(facts: Facts, ctx: Context) -> Result | None:
    workload = _readable(facts)
    if workload is None:
        return None
    u = workload["unclassified"]
    if not u["statements"]:
        return Result(
            "pass", f"all {workload['statements_read']} statement text(s) read by the parser"
        )
    first = u["examples"][0]
    return Result(
        "warn",
        f"{u['statements']} statement(s) ({u['calls']} call(s)) unclassified, e.g. "
        f"`{first['example']}`: {first['why']}",
    )


@check("AUD201")
def idle_advisory_locks(facts: Facts, ctx: Context) -> Result | None:
    workload = _workload(facts)
    if workload is None:
        return None
    if workload.get("idle_locks_unknown"):
        return Result("skip", workload["idle_locks_unknown"])
    held = workload["idle_advisory_locks"]
    lock = "an advisory lock" if facts["engine"] == "postgresql" else "a named lock (GET_LOCK)"
    if not held:
        return Result("pass", f"no idle session holds {lock}")
    who = [
        f"{h['application_name'] or '(no application_name)'} as {h['role']} ({h['locks']} lock(s))"
        for h in held
    ]
    rewrite = (
        "pg_advisory_xact_lock inside the transaction, or a direct connection"
        if facts["engine"] == "postgresql"
        else "SELECT ... FOR UPDATE on a lock row, or a direct connection"
    )
    return Result(
        "fail",
        f"{len(held)} idle session(s) hold "
        f"{'session advisory locks' if facts['engine'] == 'postgresql' else 'named locks'}: "
        f"{_list(who)}; "
        f"rewrite: {rewrite}",
    )


@check("AUD202")
def temp_relations(facts: Facts, ctx: Context) -> Result | None:
    workload = _workload(facts)
    if workload is None:
        return None
    temp = workload.get("temp_relations")
    if temp is None:
        return None
    if not temp["sessions"]:
        return Result("pass", "no other session holds temporary tables now")
    return Result(
        "warn",
        f"{temp['sessions']} session(s) hold {temp['tables']} temporary table(s) now; "
        "rewrite: CREATE TEMP TABLE ... ON COMMIT DROP inside the transaction",
    )


@check("AUD203")
def idle_in_transaction(facts: Facts, ctx: Context) -> Result | None:
    ledger: dict[str, Any] | None = facts.get("ledger")  # type: ignore[assignment]
    if ledger is None:
        return None
    limit = ctx.param("AUD203", "warn_above_seconds")
    groups = [g for g in ledger["groups"] if str(g["state"]).startswith("idle in transaction")]
    long = [g for g in groups if (g["max_state_s"] or 0) > limit]
    if not long:
        n = sum(g["connections"] for g in groups)
        return Result("pass", f"{n} session(s) idle in a transaction, none for more than {limit} s")
    from ..ledger import age

    who = [
        f"{g['application_name'] or '(no application_name)'} as {g['role']}: "
        f"{g['connections']} for up to {age(g['max_state_s'])}"
        for g in long
    ]
    return Result("warn", f"idle in transaction for more than {limit} s: {_list(who)}")


@check("AUD301")
def ledger(facts: Facts, ctx: Context) -> Result | None:
    ledger: dict[str, Any] | None = facts.get("ledger")  # type: ignore[assignment]
    if ledger is None:
        return None
    total, safe = ledger["max_connections"], ledger["safe_connections"]
    top = ledger["groups"][0] if ledger["groups"] else None
    held = (
        f"{ledger['client_connections']} client connection(s) of max_connections {total} "
        f"({ledger['reserved_connections']} reserved)"
    )
    if top:
        held += (
            f"; the largest group: {top['application_name'] or '(no application_name)'} as "
            f"{top['role']}, {top['state']}, {top['connections']} ({top['share_percent']:g} %)"
        )
    message = f"{held}; safe concurrency: {safe} more connection(s) before logins are refused"
    k, n = ledger["pool_size"], ledger["instances"]
    if k:
        message += (
            f"; with a pool of {k} per instance ({ledger['pool_size_source']}): "
            f"{ledger['safe_instances']} instance(s)"
        )
    if n and k:
        needed = ledger["needed_connections"]
        message += f"; {n} instance(s) x {k} need {needed}"
        return Result("fail" if needed > safe else "pass", message)
    usable = total - ledger["reserved_connections"]
    pct = common.pct(safe, usable)
    return Result("warn" if pct < ctx.param("AUD301", "warn_below_percent") else "pass", message)
