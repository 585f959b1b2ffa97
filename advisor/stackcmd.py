"""`advisor stacks [ID]`: the driver and ORM catalog, or one stack explained.

ID is a catalog id (asyncpg, sqlalchemy), or ORM[@VERSION][+DRIVER] for one combination
(sqlalchemy+asyncpg, prisma@7). Text or JSON; an unknown id is a usage error (exit 2).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .catalog.stacks import (
    FEATURES,
    LANGUAGES,
    POOL_CASES,
    USAGES,
    Stack,
    load_stacks,
    orm_rules,
    resolve,
)
from .errors import UsageError

if TYPE_CHECKING:
    import argparse

ID_ARGUMENT = re.compile(
    r"([a-z0-9][a-z0-9.-]*)(?:@([0-9]+(?:\.[0-9]+)*))?(?:\+([a-z0-9][a-z0-9.-]*))?"
)
POOL_WORDS = {"2*cpus+1": "2 x CPUs + 1", "max(4,cpus)": "max(4, CPUs)", "unlimited": "no limit"}


def pool_words(pool: Mapping[str, Any]) -> str:
    size = pool["size"]
    return str(size) if isinstance(size, int) else POOL_WORDS.get(size, str(size))


def _stack_for(argument: str) -> Stack:
    m = ID_ARGUMENT.fullmatch(argument.strip().lower())
    catalog = load_stacks()
    if m is None or m.group(1) not in catalog:
        raise UsageError(f"no stack {argument!r}; `advisor stacks` lists them")
    first, version, driver = m.groups()
    try:
        if catalog[first]["kind"] == "driver" and version is None:
            return resolve(driver=first) if driver is None else resolve(first, driver)
        return resolve(first, driver, version)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _source(fact: Mapping[str, Any]) -> str:
    unverified = "" if fact.get("verified", True) else "; not verified"
    return f"source: {fact['source']} (checked {fact['checked']}{unverified})"


# The pooled path a feature other than prepared statements is explained for: every
# transaction or statement pool loses it, whatever it does with prepared statements.
ANY_TRANSACTION_POOL = "a transaction or statement pool"
PREPARED_FEATURES = ("protocol_prepared_statements", "server_prepared_statements")


def feature_facts(stack: Stack, name: str, feature: Mapping[str, Any]) -> dict[str, Any]:
    """One session feature of a stack as `advisor stacks ID` and the site's stack pages
    explain it: its usage, what the stack does, the errors it shows, and per pool case
    (`cases`: key, label, what happens there) what works or what to set."""
    spec = FEATURES[name]
    out: dict[str, Any] = {
        "name": name,
        "title": spec["title"],
        "usage": feature["usage"],
        "usage_words": USAGES[feature["usage"]],
        "origin": None if feature["origin"] == stack.id else feature["origin"],
        "source": feature["source"],
        "checked": feature["checked"],
        "verified": feature.get("verified", True),
    }
    if feature["usage"] == "never":
        return out
    fix = feature.get("fix", spec["fix"])
    cases = [("session", POOL_CASES["session"], "works")]
    if name in PREPARED_FEATURES:
        cases.append(("not_kept", POOL_CASES["not_kept"], fix))
        if "when_kept" in feature:
            cases.append(("kept", POOL_CASES["kept"], feature["when_kept"]))
    else:
        cases.append(("transaction", ANY_TRANSACTION_POOL, fix))
    out |= {
        "trigger": feature.get("trigger") if feature["usage"] == "conditional" else None,
        "detail": feature["detail"],
        "lists": [
            (label, list(feature[key]))
            for key, label in (
                ("settings", "sets"),
                ("settings_conditional", "sets when configured"),
                ("params", "sends"),
                ("params_conditional", "sends when configured"),
            )
            if feature.get(key)
        ],
        "errors": list(feature.get("errors", [])),
        "fix": fix,
        "when_kept": feature.get("when_kept"),
        "works_when_kept": feature.get("works_when_kept"),
        "safe_options": [dict(o) for o in feature.get("safe_options", [])],
        "cases": cases,
        "note": feature.get("note"),
    }
    return out


def _feature_lines(stack: Stack, name: str, feature: Mapping[str, Any]) -> list[str]:
    f = feature_facts(stack, name, feature)
    origin = f"  [{f['origin']}]" if f["origin"] else ""
    if f["usage"] == "never":
        return [f"  {f['title']}: {f['usage_words']}{origin}"]
    head = f"  {f['title']}: {f['usage_words']}"
    if f["trigger"]:
        head += f" ({f['trigger']})"
    lines = [head + origin, f"    {f['detail']}"]
    lines += [f"    {label}: {', '.join(values)}" for label, values in f["lists"]]
    lines += [f"    error: {error}" for error in f["errors"]]
    lines += [f"    - {label}: {text}" for _, label, text in f["cases"]]
    if f["note"]:
        lines.append(f"    note: {f['note']}")
    lines.append(f"    {_source(feature)}")
    return lines


def explain(stack: Stack) -> str:
    main = stack.orm or stack.driver
    lines = [
        f"{stack.id}: {stack.name}  ({main['kind']}, {LANGUAGES[main['language']]}, {'/'.join(stack.engines)})",
        "",
        str(main["summary"]),
    ]
    if stack.orm is not None:
        default, drivers = orm_rules(stack.orm, stack.version)
        others = ", ".join(d for d in drivers if d != stack.driver["id"])
        lines.append(f"Driver: {stack.driver['id']} (default: {default}; also: {others or 'none'})")
        for since in stack.orm["since"]:
            lines.append(
                f"From {since['version']}: default driver {since['default_driver']}. {since.get('note', '')}".rstrip()
            )
    if main.get("note"):
        lines.append(f"Note: {main['note']}")
    pool = stack.pool
    lines += [
        "",
        f"Pool per process: {pool_words(pool)}. {pool.get('detail', '')}".rstrip(),
        f"  change it: {pool['setting']}",
        f"  {_source(pool)}",
        "",
        "Session features:",
    ]
    for name, feature in stack.features.items():
        lines += _feature_lines(stack, name, feature)
    lines += ["", _source(main)]
    return "\n".join(lines)


def _listing() -> str:
    lines = []
    for stack_id, entry in load_stacks().items():
        pool = entry.get("pool")
        if pool is None:  # an ORM without a pool of its own uses its default driver's
            pool = load_stacks()[entry["default_driver"]]["pool"]
        lines.append(
            f"{stack_id:14} {entry['kind']:6} {entry['language']:10} "
            f"pool {pool_words(pool):14} {entry['summary']}"
        )
    return "\n".join(lines)


def stack_as_dict(stack: Stack) -> dict[str, Any]:
    return {
        "id": stack.id,
        "name": stack.name,
        "orm": stack.orm["id"] if stack.orm else None,
        "driver": stack.driver["id"],
        "version": stack.version,
        "engines": list(stack.engines),
        "pool": dict(stack.pool),
        "features": {name: dict(f) for name, f in stack.features.items()},
        "pool_cases": POOL_CASES,
        "entry": dict(stack.orm or stack.driver),
    }


def run_stacks(args: argparse.Namespace) -> int:
    if args.id:
        stack = _stack_for(args.id)
        if args.format == "json":
            print(json.dumps(stack_as_dict(stack), indent=2))
        else:
            print(explain(stack))
        return 0
    if args.format == "json":
        print(json.dumps(list(load_stacks().values()), indent=2))
    else:
        print(_listing())
    return 0
