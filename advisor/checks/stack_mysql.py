"""STK104: a MySQL stack (mysql2, PyMySQL, mysqlclient) through the proxy in front.

MySQL proxies keep a session's state by keeping the client on its server connection, so the
question is not "does it break" but "does pooling survive it". The features come from the
probe (facts.session_features, inferred from the proxy it saw) or, offline, from the catalog's
endpoint; what each proxy does with each feature is written here once, with its source.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Context, Result, check, mysql_facts
from .stack import stack_of

if TYPE_CHECKING:
    from ..facts.model import Facts

# ProxySQL: https://proxysql.com/documentation/multiplexing (checked 2026-12-02) - GET_LOCK,
# user variables, temporary tables and text-protocol PREPARE disable multiplexing for good.
# The character set (SET NAMES and the character_set_* variables) and autocommit are session
# state ProxySQL tracks and sets again on whichever backend connection serves the client
# (include/proxysql_structs.h, mysql_variable_name and ASYNC_SET_AUTOCOMMIT/SET_NAMES states,
# github.com/sysown/proxysql at 00e37a6f).
PROXYSQL_STOPS = {"get_lock", "user_variables", "temp_tables"}
PROXYSQL_TRACKS = {"names", "autocommit"}
# RDS Proxy pins a session when it sees state it does not track; on MySQL prepared
# statements are one (docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html).
RDS_PINS = {"server_prepared_statements", "get_lock", "user_variables", "temp_tables"}
WHAT = {
    "server_prepared_statements": "server-side prepared statements",
    "user_variables": "user variables",
    "get_lock": "GET_LOCK()",
    "temp_tables": "temporary tables",
    "session_set": "SET on connect",
}


def _proxy(facts: Facts) -> str | None:
    """The proxy in front: what the probe named, else the catalog's endpoint pooler."""
    my = mysql_facts(facts)
    if my is not None:
        pool = my["pooler"]
        return (pool["kind"] or "unknown") if pool["detected"] else None
    endpoint = facts["url"]["endpoint"]
    return endpoint.get("pooler") if endpoint.get("role") == "pooled" else None


def _costs(proxy: str, feature: str, settings: set[str]) -> bool:
    """True when this proxy keeps `feature` only by giving up pooling for the client."""
    if proxy == "proxysql":
        return feature in PROXYSQL_STOPS or (
            feature == "session_set" and not settings <= PROXYSQL_TRACKS
        )
    if proxy == "rds-proxy":
        return feature in RDS_PINS
    return False


@check("STK104")
def mysql_session_state(facts: Facts, ctx: Context) -> Result | None:
    stack = stack_of(ctx)
    if stack is None or facts["engine"] != "mysql" or "mysql" not in stack.engines:
        return None
    proxy = _proxy(facts)
    if proxy is None:
        return Result("pass", f"{stack.name} talks to MySQL directly: its session state stays")
    costly: list[str] = []
    conditional: list[str] = []
    kept: list[str] = []
    unsure: list[str] = []
    for feature, use in stack.features.items():
        if feature not in WHAT or use.get("usage") == "never":
            continue
        settings = set(use.get("settings") or [])
        if use.get("usage") == "conditional":
            if _costs(proxy, feature, settings):
                conditional.append(f"{WHAT[feature]} if {use.get('trigger', 'the code uses them')}")
            continue
        if proxy == "rds-proxy" and feature == "session_set":
            unsure.append(WHAT[feature])  # its tracked-variable list was not confirmed
            continue
        (costly if _costs(proxy, feature, settings) else kept).append(WHAT[feature])
    known = proxy in ("proxysql", "rds-proxy")
    name = {"proxysql": "ProxySQL", "rds-proxy": "RDS Proxy"}.get(proxy, f"the proxy ({proxy})")
    if costly:
        fix = next(
            (
                u.get("fix")
                for f, u in stack.features.items()
                if WHAT.get(f) in costly and u.get("fix")
            ),
            None,
        )
        return Result(
            "warn",
            f"{stack.name} uses {', '.join(costly)} by default: {name} keeps it only by giving "
            "this client its own server connection, so pooling is lost for it"
            + (f"; {fix}" if fix else ""),
        )
    parts = [f"{stack.name} works through {name}"]
    if kept:
        parts.append(
            f"its {', '.join(kept)} "
            + ("is tracked without losing pooling" if known else "is kept")
        )
    if unsure:
        parts.append(
            f"whether {name} pins a session for its {', '.join(unsure)} is not confirmed: "
            "watch the DatabaseConnectionsCurrentlySessionPinned metric"
        )
    if conditional:
        parts.append(f"pooling is lost for a client only with {'; '.join(conditional)}")
    if not known:
        parts.append("what this proxy does with session state is not known to the advisor")
    return Result("pass", ": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if parts[2:] else ""))
