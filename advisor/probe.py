"""Probe: Target -> facts (one engine module) -> checks -> Report."""

from __future__ import annotations

from . import checks
from .errors import ProbeFailed
from .report import Report
from .target import Target
from .urlfacts import target_summary, url_facts


def gather(target: Target, timeout: float) -> dict:
    if target.engine == "postgresql":
        from .facts import postgres
        return postgres.gather(target, timeout=timeout)
    from .facts import mysql
    return mysql.gather(target, timeout=timeout)


def probe(target: Target, ctx: checks.Context, timeout: float = 10.0,
          source: str | None = None, label: str | None = None) -> Report:
    """Never raises for an unreachable server: that becomes an `error` finding (exit 3)."""
    ctx.target = target
    facts: dict = {"engine": target.engine}
    try:
        facts.update(gather(target, timeout))
    except ProbeFailed as exc:
        facts["probe"] = {"error": str(exc), "error_kind": exc.kind, "connections_opened": 0}
    facts["url"] = url_facts(target, source)
    if ctx.direct_target is not None:
        facts["direct_url"] = url_facts(ctx.direct_target)
    findings = checks.run(facts, ctx)
    return Report(kind="probe", target=target_summary(target), facts=facts,
                  findings=findings, label=label)


def lint(target: Target, ctx: checks.Context, source: str | None = None,
         label: str | None = None) -> Report:
    """URL-only review: no socket, no DNS, no driver import."""
    ctx.target = target
    facts = {"engine": target.engine, "url": url_facts(target, source)}
    if ctx.direct_target is not None:
        facts["direct_url"] = url_facts(ctx.direct_target)
    findings = checks.run(facts, ctx, kinds=("lint",))
    return Report(kind="lint", target=target_summary(target), facts=facts,
                  findings=findings, label=label)
