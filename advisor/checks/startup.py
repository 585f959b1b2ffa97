"""STK103: will the stack's startup parameters get through this endpoint? The stack catalog
(catalog/stacks.toml, features.startup_parameters) says which parameters a driver sends by
default (`params`) and which only when the code or URL asks (`params_conditional`); the
URL and --driver-option add the ones this application really sends. The endpoint's answer
is what the probe measured (facts.startup_parameters); offline, the provider catalog states
nothing about startup parameters, and the finding says so.

Only a parameter the stack sends by default, or that the URL/options name, is judged; the
conditional ones are named as such. A parameter the endpoint was not seen refusing is never
a warning: refused -> fail, dropped search_path/options -> warn, anything else -> pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import Context, Result, check, postgres_facts
from .stack import stack_of

if TYPE_CHECKING:
    from ..facts.model import Facts

# The parameters the probe measures (facts/session.py STARTUP_NAMES).
MEASURED = ("options", "search_path", "extra_float_digits", "application_name")
# Dropping these changes what queries do; dropping extra_float_digits only how floats print.
MATTERS_WHEN_DROPPED = {"options", "search_path"}
# URL parameters (or --driver-option names) that become a startup parameter, per stack;
# "*" applies to every stack that lists the parameter in its catalog entry.
URL_SENDS: dict[str, dict[str, str]] = {
    "*": {"options": "options", "search_path": "search_path"},
    "pgjdbc": {"currentschema": "search_path", "options": "options"},
    "prisma-engine": {"schema": "search_path"},
}
FIXES = {
    "search_path": "set it per role instead (ALTER ROLE ... SET search_path = ...) or list it "
    "in the pooler's ignore_startup_parameters",
    "options": "move the settings to the role (ALTER ROLE ... SET ...) or into SET LOCAL "
    "inside each transaction",
    "extra_float_digits": "list it in the pooler's ignore_startup_parameters",
    "application_name": "drop it from the connection settings",
}


def _listed(use: Mapping[str, Any], key: str) -> set[str]:
    return {str(p).lower() for p in use.get(key) or []}


def _sent_by_app(stack_ids: list[str], known: set[str], facts: Facts, ctx: Context) -> set[str]:
    """Parameters the URL or --driver-option make the stack send."""
    given = {k.lower(): v for k, v in facts["url"]["params"].items()}
    given |= {k.lower(): v for k, v in ctx.driver_options.items()}
    out = set()
    for key in given:
        for scope in ("*", *stack_ids):
            param = URL_SENDS.get(scope, {}).get(key)
            if param and (scope != "*" or param in known):
                out.add(param)
    return out


def _error(use: Mapping[str, Any], param: str) -> str | None:
    return next((str(e) for e in use.get("errors") or [] if param in str(e)), None)


@check("STK103")
def startup_parameters(facts: Facts, ctx: Context) -> Result | None:
    stack = stack_of(ctx)
    if stack is None or facts["engine"] != "postgresql":
        return None
    use = stack.features.get("startup_parameters")
    if use is None:
        return None
    default, conditional = _listed(use, "params"), _listed(use, "params_conditional")
    ids = [str(stack.driver["id"])] + ([str(stack.orm["id"])] if stack.orm else [])
    from_app = _sent_by_app(ids, default | conditional, facts, ctx)
    sent = [p for p in MEASURED if p in default | from_app]
    maybe = [p for p in MEASURED if p in conditional and p not in sent]
    trigger = str(use.get("trigger") or "the code sets them")
    name = stack.name
    pg = postgres_facts(facts)
    found = pg.get("startup_parameters") if pg else None
    if found is None:
        what = (
            f"{name} sends {', '.join(sent)} (by default or per the URL)"
            if sent
            else f"{name} sends none of search_path, options, extra_float_digits or "
            "application_name by default"
        )
        if maybe:
            what += f"; {', '.join(maybe)} only if {trigger}"
        return Result(
            "skip",
            "not known offline: the provider catalog states nothing about the startup "
            f"parameters this endpoint takes; {what}; `advisor probe` measures it",
        )
    fails, warns, passes, conditional_notes = [], [], [], []
    url_options = "options" in {k.lower() for k in facts["url"]["params"]}
    for param in sent:
        here: Mapping[str, Any] = found.get(param) or {}
        accepted, evidence = here.get("accepted"), str(here.get("evidence", ""))
        why = "from the URL" if param in from_app and param not in default else "by default"
        if param == "options" and url_options and accepted != "rejects":
            passes.append("options (the probe's own login carried the URL's options)")
        elif accepted == "rejects":
            error = _error(use, param) or f"the pooler's refusal at login ({evidence})"
            fix = use.get("fix") if _error(use, param) else None
            fails.append(
                f"{name} sends {param} {why} and this endpoint refuses it: the login fails "
                f"with '{error}'; {fix or FIXES.get(param, 'stop sending it here')}"
            )
        elif accepted == "ignores" and param in MATTERS_WHEN_DROPPED:
            warns.append(
                f"{name} sends {param} {why} and this endpoint drops it ({evidence}): the "
                f"session runs with the server's default; {FIXES[param]}"
            )
        elif accepted in ("honours", "ignores"):
            passes.append(f"{param} ({accepted})")
        else:
            passes.append(f"{param} (not refused, not known further: {evidence})")
    for param in maybe:
        here = found.get(param) or {}
        if here.get("accepted") == "rejects":
            conditional_notes.append(
                f"{param} would be refused ('{_error(use, param) or 'unsupported startup parameter: ' + param}')"
            )
        elif here.get("accepted") == "ignores" and param in MATTERS_WHEN_DROPPED:
            conditional_notes.append(f"{param} would be dropped")
        elif here.get("accepted") is None:
            conditional_notes.append(f"{param} is not known here")
    tail = f"; if {trigger}: " + ", ".join(conditional_notes) if conditional_notes else ""
    if fails:
        return Result("fail", "; ".join(fails) + tail)
    if warns:
        return Result("warn", "; ".join(warns) + tail)
    if passes:
        return Result(
            "pass", f"{name}'s startup parameters get through: " + ", ".join(passes) + tail
        )
    return Result("pass", f"{name} sends none of the measured startup parameters by default" + tail)
