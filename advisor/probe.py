"""Probe: Target -> facts (one engine module) -> checks -> Report."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from . import checks
from .errors import ProbeFailed
from .facts.model import as_pool_mode, engine_of, pgbouncer_like
from .log import log, remember
from .report import Report
from .target import Target
from .urlfacts import target_summary, url_facts

if TYPE_CHECKING:
    from .facts.deadline import Deadline
    from .facts.model import (
        DirectFailed,
        DirectProbed,
        EndpointFacts,
        LintFacts,
        PoolerFacts,
        ProbeFacts,
        ServerFacts,
        URLFacts,
    )


def _bound(ctx: checks.Context, target: Target) -> checks.Context:
    """`ctx` for this target: a copy when it was made for none or another one."""
    return ctx if ctx.target == target else replace(ctx, target=target)


def _server_facts(
    target: Target,
    deadline: Deadline,
    url: URLFacts,
    admin_target: Target | None,
    session_features: bool,
) -> ServerFacts:
    """The server's facts under the report's keys, in the report's order: engine, what
    the engine module read, url. Raises ProbeFailed."""
    # (The `type: ignore`s below: mypy cannot tell that `**` brings no direct_url or
    # direct key, which come later; tests/test_facts_model.py checks the result.)
    if target.engine == "postgresql":
        from .facts import postgres, session

        pg = postgres.gather(
            target, deadline, session_features=session_features, endpoint=url["endpoint"]
        )
        _log_done(pg["server_version"], pg["max_connections"], pg["connections_in_use"])
        if admin_target is not None:
            _add_admin_console(pg["pooler"], admin_target, deadline)
            admin = pg["pooler"].get("admin")
            if admin and "startup_parameters" in pg and pgbouncer_like(pg["pooler"]["kind"]):
                pg["startup_parameters"] = session.with_pgbouncer_settings(
                    pg["startup_parameters"], admin["settings"]
                )
        return {"engine": "postgresql", **pg, "url": url}  # type: ignore[typeddict-item]
    from .facts import mysql

    my = mysql.gather(target, deadline, endpoint=url["endpoint"], session_features=session_features)
    _log_done(my["server_version"], my["max_connections"], my["connections_in_use"])
    if admin_target is not None:
        _add_admin_console(my["pooler"], admin_target, deadline)
    return {"engine": "mysql", **my, "url": url}  # type: ignore[typeddict-item]


def _log_done(version: str, max_connections: int, in_use: int) -> None:
    log.info(
        "probe done: server_version=%s, max_connections=%s, connections_in_use=%s",
        version,
        max_connections,
        in_use,
    )


def probe(
    target: Target,
    ctx: checks.Context,
    timeout: float = 10.0,
    source: str | None = None,
    label: str | None = None,
    admin_target: Target | None = None,
    session_features: bool = True,
) -> Report:
    """Never raises for an unreachable server: that becomes an `error` finding (exit 3).
    `timeout` bounds the whole probe: the URL, then the admin console and the direct URL
    with whatever time is left. `ctx` is left as it is (the checks get a copy bound to
    `target` when it was made for none or another one)."""
    from .facts.deadline import Deadline  # here: `advisor lint` imports this module too

    ctx = _bound(ctx, target)
    remember(target, ctx.direct_target, admin_target)  # library callers too: the Report scrubs them
    url = url_facts(target, source)  # the one catalog match for this target
    deadline = Deadline(timeout)
    log.info("probing %s (timeout %g s)", target.display, timeout)
    facts: ProbeFacts
    try:
        facts = _server_facts(target, deadline, url, admin_target, session_features)
    except ProbeFailed as exc:
        log.info("probe failed (%s): %s", exc.kind, exc)
        facts = {
            "engine": engine_of(target.engine),
            "probe": {"error": str(exc), "error_kind": exc.kind, "connections_opened": 0},
            "url": url,
        }
    if ctx.direct_target is not None:
        facts["direct_url"] = url_facts(ctx.direct_target)
        facts["direct"] = _direct_facts(
            ctx.direct_target, deadline, facts["direct_url"]["endpoint"]
        )
    findings = checks.run(facts, ctx)
    if "probe" in facts and "error" in facts["probe"]:
        from .explain import annotate  # the error catalog, only for a failed probe

        annotate(findings, facts["probe"]["error"])
    return Report(
        kind="probe",
        target=target_summary(target, url),
        facts=facts,
        findings=findings,
        label=label,
    )


def _add_admin_console(pooler: PoolerFacts, admin_target: Target, deadline: Deadline) -> None:
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
        # A provider's PgBouncer (Azure's, Neon's) keeps its more specific name.
        kind = pooler["kind"] if pgbouncer_like(pooler["kind"]) else "pgbouncer"
        pooler.update({"detected": True, "kind": kind, "version": admin["version"]})
        pooler["evidence"].append(f"admin console answered SHOW VERSION: {admin['version']}")
    modes = {p["pool_mode"] for p in admin["pools"] if p["pool_mode"]}
    if pooler["pool_mode"] is None and len(modes) == 1:
        pooler["pool_mode"] = as_pool_mode(modes.pop())


def _direct_facts(
    direct: Target, deadline: Deadline, endpoint: EndpointFacts | None = None
) -> DirectProbed | DirectFailed:
    """Connect to the migration URL too: is a transaction-mode pooler answering there?"""
    if direct.engine != "postgresql":
        return {"error": "direct-URL probing is implemented for PostgreSQL only"}
    from .facts import postgres

    try:
        facts = postgres.gather(direct, deadline, endpoint=endpoint)
    except ProbeFailed as exc:
        return {"url": direct.display, "error": str(exc)}
    return {
        "url": direct.display,
        "pooler": facts["pooler"],
        "server_version": facts["server_version"],
        "connections_opened": facts["probe"]["connections_opened"],
    }


def lint(
    target: Target,
    ctx: checks.Context,
    source: str | None = None,
    label: str | None = None,
    direct_source: str | None = None,
) -> Report:
    """URL-only review: no socket, no DNS, no driver import. `direct_source`: where the
    direct URL came from (DIRECT_URL, .env, ...)."""
    ctx = _bound(ctx, target)
    remember(target, ctx.direct_target)
    log.info("linting %s (offline)", target.display)
    url = url_facts(target, source)
    facts: LintFacts = {"engine": engine_of(target.engine), "url": url}
    if ctx.direct_target is not None:
        facts["direct_url"] = url_facts(ctx.direct_target, direct_source)
    findings = checks.run(facts, ctx, kinds=("lint",))
    return Report(
        kind="lint", target=target_summary(target, url), facts=facts, findings=findings, label=label
    )
