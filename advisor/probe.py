"""Probe: Target -> facts (one engine module) -> checks -> Report."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import checks
from .errors import ProbeFailed
from .log import log, remember
from .report import Report
from .target import Target
from .urlfacts import target_summary, url_facts

if TYPE_CHECKING:
    from .facts.deadline import Deadline


def gather(target: Target, deadline: Deadline) -> dict[str, Any]:
    if target.engine == "postgresql":
        from .facts import postgres

        return postgres.gather(target, deadline)
    from .facts import mysql

    return mysql.gather(target, deadline)


def probe(
    target: Target,
    ctx: checks.Context,
    timeout: float = 10.0,
    source: str | None = None,
    label: str | None = None,
    admin_target: Target | None = None,
) -> Report:
    """Never raises for an unreachable server: that becomes an `error` finding (exit 3).
    `timeout` bounds the whole probe: the URL, then the admin console and the direct URL
    with whatever time is left."""
    from .facts.deadline import Deadline  # here: `advisor lint` imports this module too

    ctx.target = target
    remember(target, ctx.direct_target, admin_target)  # library callers too: the Report scrubs them
    facts: dict[str, Any] = {"engine": target.engine}
    deadline = Deadline(timeout)
    log.info("probing %s (timeout %g s)", target.display, timeout)
    try:
        facts.update(gather(target, deadline))
        log.info(
            "probe done: %s",
            ", ".join(
                f"{k}={facts.get(k)}"
                for k in ("server_version", "max_connections", "connections_in_use")
            ),
        )
    except ProbeFailed as exc:
        log.info("probe failed (%s): %s", exc.kind, exc)
        facts["probe"] = {"error": str(exc), "error_kind": exc.kind, "connections_opened": 0}
    if admin_target is not None and facts.get("pooler") is not None:
        _add_admin_console(facts["pooler"], admin_target, deadline)
    facts["url"] = url_facts(target, source)
    if ctx.direct_target is not None:
        facts["direct_url"] = url_facts(ctx.direct_target)
        facts["direct"] = _direct_facts(ctx.direct_target, deadline)
    findings = checks.run(facts, ctx)
    return Report(
        kind="probe", target=target_summary(target), facts=facts, findings=findings, label=label
    )


def _add_admin_console(pooler: dict[str, Any], admin_target: Target, deadline: Deadline) -> None:
    from .facts.pooler import read_admin_console

    try:
        admin = read_admin_console(admin_target, deadline)
    except Exception as exc:  # the console is optional: report why it was not read
        pooler["admin_error"] = (
            admin_target.scrub(str(exc)).strip().splitlines()[0][:200]
            if str(exc).strip()
            else type(exc).__name__
        )
        return
    pooler["admin"] = admin
    if admin["version"].startswith("PgBouncer"):
        pooler.update(detected=True, kind="pgbouncer", version=admin["version"])
        pooler["evidence"].append(f"admin console answered SHOW VERSION: {admin['version']}")
    modes = {p["pool_mode"] for p in admin["pools"] if p.get("pool_mode")}
    if pooler.get("pool_mode") is None and len(modes) == 1:
        pooler["pool_mode"] = modes.pop()


def _direct_facts(direct: Target, deadline: Deadline) -> dict[str, Any]:
    """Connect to the migration URL too: is a transaction-mode pooler answering there?"""
    if direct.engine != "postgresql":
        return {"error": "direct-URL probing is implemented for PostgreSQL only"}
    try:
        facts = gather(direct, deadline)
    except ProbeFailed as exc:
        return {"url": direct.display, "error": str(exc)}
    return {
        "url": direct.display,
        "pooler": facts["pooler"],
        "server_version": facts["server_version"],
        "connections_opened": facts["probe"]["connections_opened"],
    }


def lint(
    target: Target, ctx: checks.Context, source: str | None = None, label: str | None = None
) -> Report:
    """URL-only review: no socket, no DNS, no driver import."""
    ctx.target = target
    remember(target, ctx.direct_target)
    log.info("linting %s (offline)", target.display)
    facts = {"engine": target.engine, "url": url_facts(target, source)}
    if ctx.direct_target is not None:
        facts["direct_url"] = url_facts(ctx.direct_target)
    findings = checks.run(facts, ctx, kinds=("lint",))
    return Report(
        kind="lint", target=target_summary(target), facts=facts, findings=findings, label=label
    )
