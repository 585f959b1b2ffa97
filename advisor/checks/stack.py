"""Will this application's stack (driver, ORM) work through this endpoint? A verdict per
stack: the stack catalog (catalog/stacks.toml) says which session features the stack uses
and what makes it safe; the endpoint's features come from the probe's measurement
(facts.session_features) or, offline, from what the provider catalog says of the endpoint.

A stack that does not use a feature is never warned about it; features it uses only when
the code asks are named as conditional in a passing finding.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..catalog.stacks import FEATURES, Stack, named
from ..options import SESSION_FEATURES
from . import Context, Result, check, postgres_facts

if TYPE_CHECKING:
    from ..facts.model import Facts

PREPARED, SESSION_STATE = SESSION_FEATURES[0], SESSION_FEATURES[1:]
# Parameters PgBouncer puts back for each client: a SET of only these survives pooling.
TRACKED = {"client_encoding", "datestyle", "timezone", "standard_conforming_strings"}
TRACKED |= {"application_name", "intervalstyle"}
TRACKED |= {"client_min_messages"}  # not tracked, but it only sets which notices arrive

Feature = Mapping[str, Any]  # {"works": bool | None, "how": ..., "evidence": ...}


def stack_of(ctx: Context) -> Stack | None:
    """The stack the user named (--orm, --driver), or None: these checks then do not apply."""
    if ctx.orm is None and ctx.driver is None:
        return None
    try:
        return named(ctx.orm, ctx.driver, ctx.prisma_version)
    except ValueError:
        return None  # the command line refused it already; a library caller gets no verdict


def endpoint_features(facts: Facts) -> dict[str, Feature] | None:
    """What the endpoint does with each session feature: measured by the probe, else what
    the provider catalog says of the endpoint the URL points at (None: nothing known)."""
    pg = postgres_facts(facts)
    if pg is not None and "session_features" in pg:
        return dict(pg["session_features"])
    if facts["engine"] != "postgresql":
        return None
    endpoint = facts["url"]["endpoint"]
    role, mode = endpoint.get("role"), endpoint.get("pool_mode")
    label = endpoint.get("label") or "this endpoint"
    if role == "pooled" and endpoint.get("pooler") == "rds-proxy":
        # RDS Proxy pins a client to its server connection once it sees session state:
        # the state works, the multiplexing for that client is gone.
        pinned = {
            "works": True,
            "how": "catalog",
            "evidence": f"{label} pins the session to one server connection when it sees this",
        }
        return dict.fromkeys((PREPARED, *SESSION_STATE), pinned)
    if role == "direct" or mode == "session":
        keeps = {
            "works": True,
            "how": "catalog",
            "evidence": f"{label}: each client keeps its server",
            "session": True,  # not a pool that keeps statements: nothing is shared
        }
        return dict.fromkeys((PREPARED, *SESSION_STATE), keeps)
    if role != "pooled" or mode not in ("transaction", "statement"):
        return None
    lost = {
        "works": False,
        "how": "catalog",
        "evidence": f"{label} pools by {mode}: session state stays on the server connection",
    }
    kept = endpoint.get("prepared_statements")
    prepared = {
        "works": kept,
        "how": "catalog",
        "evidence": f"{label} "
        + {True: "keeps", False: "does not keep", None: "may not keep"}[kept]
        + " prepared statements across transactions",
    }
    return {PREPARED: prepared, **dict.fromkeys(SESSION_STATE, lost)}


def _fixed(feature: Feature, facts: Facts, ctx: Context) -> str | None:
    """The safe setting the user says the stack uses (--driver-option, or the URL), if any."""
    params = facts["url"]["params"]
    for option in feature.get("safe_options", []):
        name, values = option["name"], [str(v).lower() for v in option["values"]]
        given = ctx.driver_options.get(name)
        if given is None and option.get("in_url"):
            given = params.get(name)
        if given is not None and str(given).lower() in values:
            return f"{name}={given}"
    return None


def _where(found: Feature) -> str:
    how = {"measured": "measured", "inferred": "measured", "catalog": "per the catalog"}
    return f"{found['evidence']} ({how.get(str(found.get('how')), 'known')})"


def _usage(use: Feature | None, feature: str, ctx: Context) -> str:
    """never / conditional / default; --uses FEATURE makes a conditional one default."""
    if use is None:
        return "never"
    usage = str(use["usage"])
    return "default" if usage == "conditional" and feature in ctx.uses else usage


def _one_server(facts: Facts) -> bool:
    """The admin console shows a single server connection behind the pool: state then
    stays put between a client's transactions, and only names two clients share collide."""
    pg = postgres_facts(facts)
    admin = pg["pooler"].get("admin") if pg else None
    if admin is None:
        return False  # not known: assume more than one, as in production
    settings = admin["settings"]
    return (
        settings.get("default_pool_size") == 1
        and not settings.get("reserve_pool_size")
        and len(admin["pools"]) <= 1
    )


def _error(use: Feature, word: str | None = None) -> str:
    errors = list(use.get("errors") or ["an error"])
    return str(next((e for e in errors if word and word in e), errors[0]))


def _own_server(facts: Facts) -> bool:
    """The probe saw each client keep its server: no pooler, or a session-mode one."""
    pg = postgres_facts(facts)
    if pg is None:
        return False
    pool = pg["pooler"]
    return not pool["detected"] or pool["pool_mode"] == "session"


@check("STK101")
def prepared_statements(facts: Facts, ctx: Context) -> Result | None:
    stack, found = stack_of(ctx), endpoint_features(facts)
    if stack is None or found is None or PREPARED not in found:
        return None
    use, here = stack.features.get(PREPARED), found[PREPARED]
    name, usage = stack.name, _usage(use, PREPARED, ctx)
    if use is None or usage == "never":
        return Result("pass", f"{name} sends no named prepared statements: nothing to keep")
    fixed = _fixed(use, facts, ctx)
    if usage == "conditional":
        if here["works"] is not False:
            return Result("pass", f"{name} names statements only when {use.get('trigger')}")
        return Result(
            "pass",
            f"{name} sends unnamed statements by default, which work here; only if "
            f"{use.get('trigger')} would they break ({_where(here)})",
        )
    if here["works"] is True:
        # RDS Proxy keeps them by pinning; direct or a session pool: each client its server
        pinned = "pins" in str(here["evidence"]) or here.get("session") is True
        pinned = pinned or _own_server(facts)
        if use.get("works_when_kept") is False and not pinned:
            if fixed:
                return Result("pass", f"{name} with {fixed} works here: {_where(here)}")
            return Result(
                "fail",
                f"{name} breaks even where the pooler keeps prepared statements "
                f"({_where(here)}): {use['when_kept']} Use `{use.get('fix')}`",
            )
        if fixed and use.get("when_kept") and not pinned:
            return Result("warn", f"{fixed} is not needed here: {use['when_kept']}")
        return Result("pass", f"{name}'s named prepared statements work here: {_where(here)}")
    if fixed:
        return Result("pass", f"{name} with {fixed} sends no named statements: works here")
    if here["works"] is None:
        return Result(
            "warn",
            f"{name} names its prepared statements and this endpoint may not keep them "
            f"({_where(here)}): `{use.get('fix')}` is safe either way",
        )
    if _one_server(facts):
        if use.get("names") == "unique":
            return Result(
                "pass",
                f"{name}'s statement names never repeat between clients and one server "
                "connection serves the pool, so they stay where they were made; a second "
                f"server connection would break them: `{use.get('fix')}` makes that safe",
            )
        error = _error(use, "already exists")
        return Result(
            "fail",
            f"{name} breaks here with '{error}': clients share one server connection and "
            f"pick the same statement names ({_where(here)}): use `{use.get('fix')}`",
        )
    return Result(
        "fail",
        f"{name} breaks here with '{_error(use)}' ({_where(here)}): use `{use.get('fix')}`",
    )


def _needs(use: Feature) -> bool:
    """A SET the pooler cannot hand back (anything but the parameters it tracks)."""
    settings = [s.lower() for s in use.get("settings", [])]
    return not settings or any(s not in TRACKED for s in settings)


def _lost(feature: str, use: Feature, facts: Facts) -> bool:
    """Whether the stack's use of a feature this endpoint does not keep really breaks."""
    if feature == "session_set":
        return _needs(use)
    if feature == "with_hold_cursors" and _one_server(facts):
        return use.get("names") != "unique"  # the cursor stays on the one server
    return True


@check("STK102")
def session_state(facts: Facts, ctx: Context) -> Result | None:
    stack, found = stack_of(ctx), endpoint_features(facts)
    if stack is None or found is None:
        return None
    breaks, conditional = [], []
    for feature in SESSION_STATE:
        use, here = stack.features.get(feature), found.get(feature)
        usage = _usage(use, feature, ctx)
        if use is None or here is None or here["works"] is not False or usage == "never":
            continue
        title = FEATURES[feature]["title"]
        if usage == "default" and _lost(feature, use, facts) and not _fixed(use, facts, ctx):
            fix = use.get("fix") or FEATURES[feature]["fix"]
            first = re.split(r"\.\s", use["detail"], maxsplit=1)[0].rstrip(".")  # not "8.2"
            breaks.append(f"{title} ({first}): {fix}")
        elif usage == "conditional":
            conditional.append(f"{title} if {use.get('trigger', 'the code uses it')}")
    if breaks:
        return Result(
            "fail",
            f"{stack.name} relies on session state this endpoint does not keep: "
            + "; ".join(breaks),
        )
    if conditional:
        return Result(
            "pass",
            f"{stack.name} keeps no session state by default; this endpoint would lose "
            + ", ".join(conditional),
        )
    return Result("pass", f"{stack.name} keeps no session state this endpoint would lose")
