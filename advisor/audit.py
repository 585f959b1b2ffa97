"""Audit: Target -> facts (facts/workload*.py, one connection) -> the workload's session
features (classify.py) and the connection ledger (ledger.py) -> audit checks -> Report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import checks
from .errors import ProbeFailed
from .facts.model import engine_of
from .log import log, remember
from .report import Report
from .urlfacts import target_summary, url_facts

if TYPE_CHECKING:
    from .facts.model import Ledger, ProbeFacts, Workload
    from .target import Target


def audit(
    target: Target,
    ctx: checks.Context,
    timeout: float = 10.0,
    source: str | None = None,
    label: str | None = None,
    instances: int | None = None,
    pool_size: int | None = None,
    pool_size_source: str | None = None,
) -> Report:
    """Never raises for an unreachable server: that becomes an `error` finding (exit 3)."""
    from .facts.deadline import Deadline

    remember(target)
    url = url_facts(target, source)
    deadline = Deadline(timeout)
    log.info("auditing %s (timeout %g s)", target.display, timeout)
    facts: ProbeFacts
    try:
        if target.engine == "postgresql":
            from .facts import workload

            pg, raw = workload.gather(target, deadline)
            pg["workload"] = shape(raw, "postgresql", workload.MAX_QUERY)
            pg["ledger"] = _ledger(raw["ledger"], pg, instances, pool_size, pool_size_source)
            facts = {"engine": "postgresql", **pg, "url": url}  # type: ignore[typeddict-item]
        else:
            from .facts import workload_mysql

            my, raw = workload_mysql.gather(target, deadline, endpoint=url["endpoint"])
            my["workload"] = shape(raw, "mysql", workload_mysql.MAX_QUERY)
            # max_connections is all ordinary accounts get (the admin slot comes on top)
            my["ledger"] = _ledger(raw["ledger"], my, instances, pool_size, pool_size_source, 0)
            facts = {"engine": "mysql", **my, "url": url}  # type: ignore[typeddict-item]
    except ProbeFailed as exc:
        log.info("audit failed (%s): %s", exc.kind, exc)
        facts = {
            "engine": engine_of(target.engine),
            "probe": {"error": str(exc), "error_kind": exc.kind, "connections_opened": 0},
            "url": url,
        }
    findings = checks.run(facts, ctx, kinds=("audit",))
    return Report(
        kind="audit",
        target=target_summary(target, url),
        facts=facts,
        findings=findings,
        label=label,
    )


def shape(raw: dict[str, Any], engine: str, max_query: int) -> Workload:
    """facts.workload from the raw rows (pure)."""
    from .classify import summarise

    ext = raw["extension"]
    statements = raw["statements"]
    summary = summarise(statements or [], engine, max_query)
    out: Workload = {
        "statement_source": {
            "name": "pg_stat_statements"
            if engine == "postgresql"
            else "performance_schema statement digests",
            "installed": ext["installed"],
            "loaded": ext["loaded"],
            "version": ext.get("version"),
            "readable": statements is not None,
            "all_roles_visible": ext.get("sees_all", False),
            "error": raw.get("statements_error"),
        },
        "session_features": summary["session_features"],
        "unclassified": summary["unclassified"],
        "statements_read": summary["statements_read"],
        "statements_hidden": summary["statements_hidden"],
        "idle_advisory_locks": [
            {
                "application_name": r.get("application_name"),
                "role": r.get("role"),
                "database": r.get("database"),
                "locks": int(r.get("locks") or 0),
                "idle_s": int(r["idle_s"]) if r.get("idle_s") is not None else None,
            }
            for r in raw.get("idle_locks", [])
        ],
    }
    if raw.get("idle_locks_unknown"):
        out["idle_locks_unknown"] = raw["idle_locks_unknown"]
    temp = raw.get("temp")
    if temp is not None:  # PostgreSQL: pg_class
        out["temp_relations"] = {
            "sessions": int(temp.get("sessions") or 0),
            "tables": int(temp.get("tables") or 0),
        }
    return out


def _ledger(
    rows: list[dict[str, Any]],
    server: Any,
    instances: int | None,
    pool_size: int | None,
    pool_size_source: str | None,
    reserved: int | None = None,
) -> Ledger:
    from .ledger import build

    return build(
        rows,
        server["max_connections"],
        server["reserved_connections"] if reserved is None else reserved,
        pool_size=pool_size,
        pool_size_source=pool_size_source,
        instances=instances,
    )
