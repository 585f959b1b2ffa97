"""The connection ledger (pure): who holds the server's connection slots, and how many more
clients fit before the server refuses logins.

Rows come from facts/workload.py (PostgreSQL, pg_stat_activity grouped) or
facts/workload_mysql.py (the processlist grouped); the arithmetic is the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .facts.model import Ledger, LedgerGroup

STATES = ("active", "idle", "idle in transaction")
GROUP_KEYS = ("application_name", "role", "database", "client_addr", "state")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def build(
    rows: Iterable[Mapping[str, Any]],
    max_connections: int,
    reserved: int,
    pool_size: int | None = None,
    pool_size_source: str | None = None,
    instances: int | None = None,
) -> Ledger:
    """The ledger: groups (largest first) with their share of max_connections, totals per
    state, and the safe concurrency.

    safe_connections: the slots an ordinary (non-superuser) login can still take once this
    audit's own connection has closed: max_connections - reserved - every other client
    connection. With a pool size K per instance, safe_instances = safe_connections // K;
    with --instances N too, the N * K connections they would open are compared with it."""
    groups: list[LedgerGroup] = []
    for row in rows:
        n = _int(row.get("connections")) or 0
        groups.append(
            {
                "application_name": row.get("application_name"),
                "role": row.get("role"),
                "database": row.get("database"),
                "client_addr": row.get("client_addr"),
                "state": row.get("state"),
                "connections": n,
                "max_age_s": _int(row.get("max_age_s")),
                "max_state_s": _int(row.get("max_state_s")),
                "share_percent": round(100.0 * n / max_connections, 1) if max_connections else 0.0,
                "own": _int(row.get("own")) or 0,
            }
        )
    groups.sort(
        key=lambda g: (-g["connections"], *(str(g[k] or "") for k in GROUP_KEYS))  # type: ignore[literal-required]
    )
    in_use = sum(g["connections"] for g in groups)
    own = sum(g["own"] for g in groups)
    by_state: dict[str, int] = {}
    for g in groups:
        state = str(g["state"] or "unknown")
        if state.startswith("idle in transaction"):
            state = "idle in transaction"
        by_state[state] = by_state.get(state, 0) + g["connections"]
    safe = max(0, max_connections - reserved - (in_use - own))
    ledger: Ledger = {
        "max_connections": max_connections,
        "reserved_connections": reserved,
        "client_connections": in_use,
        "own_connections": own,
        "by_state": by_state,
        "groups": groups,
        "safe_connections": safe,
        "pool_size": pool_size,
        "pool_size_source": pool_size_source,
        "instances": instances,
        "safe_instances": safe // pool_size if pool_size else None,
        "needed_connections": instances * pool_size if instances and pool_size else None,
    }
    return ledger


def age(seconds: int | None) -> str:
    """A short duration for tables: 45 s, 12 min, 3.5 h, 2 d."""
    if seconds is None:
        return "-"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}".replace(".0 ", " ")
    return f"{seconds} s"
