"""`when` clauses: a check written as data in its catalog entry, with no Python function.

    [[URL207.when]]
    if = ["url.endpoint.ipv6_only", "context.serverless"]
    status = "warn"
    message = 'the {url.endpoint.provider_name} endpoint "{url.endpoint.label}" is IPv6-only'

The first clause whose conditions all hold gives the finding; when none holds the check does
not apply. A condition is `PATH`, `not PATH`, or `PATH OP JSON` with OP one of `==`, `!=`,
`in`, `not in`, `matches` (a regular expression, whole value, case-insensitive). A path reads
the facts (`url.params.sslmode`), the context (`context.orm`) or the target
(`target.user`); anything missing is null. A message fills `{PATH}` or `{PATH|fallback}`;
`{{` and `}}` are braces. Clauses are checked when the catalog loads, so a typo stops the
load instead of reaching a report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..status import CHECK_RESULTS

STATUSES = tuple(v.value for v in CHECK_RESULTS)
PATH = r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*"
CONDITION = re.compile(rf"\s*(not\s+)?({PATH})(?:\s+(==|!=|not in|in|matches)\s+(.+?))?\s*")
PLACEHOLDER = re.compile(rf"\{{\{{|\}}\}}|\{{({PATH})(?:\|([^{{}}]*))?\}}|[{{}}]")
ROOTS = ("context", "target")  # the other first names are facts keys


@dataclass(frozen=True)
class Condition:
    negate: bool
    path: tuple[str, ...]
    op: str | None
    value: Any


@dataclass(frozen=True)
class Clause:
    conditions: tuple[Condition, ...]
    status: str
    message: str


def parse_condition(text: str) -> Condition:
    m = CONDITION.fullmatch(text) if isinstance(text, str) else None
    if m is None:
        raise ValueError(f"condition {text!r} is not PATH, not PATH or PATH OP JSON")
    negate, path, op, raw = m.groups()
    if negate and op:
        raise ValueError(f"condition {text!r}: `not` goes with a bare path only")
    value = None
    if op:
        try:
            value = json.loads(raw)
        except ValueError:
            raise ValueError(f"condition {text!r}: {raw!r} is not a JSON value") from None
        if op.endswith("in") and not isinstance(value, list):
            raise ValueError(f"condition {text!r}: `{op}` needs a JSON list")
        if op == "matches":
            re.compile(str(value))
    return Condition(bool(negate), tuple(path.split(".")), op, value)


def parse_clauses(clauses: object) -> tuple[Clause, ...]:
    """The entry's `when` list, checked; ValueError says what is wrong."""
    if not isinstance(clauses, list) or not clauses:
        raise ValueError("must be a list of clauses ([[ID.when]] tables)")
    out = []
    for n, clause in enumerate(clauses, 1):
        if not isinstance(clause, dict) or set(clause) - {"if", "status", "message"}:
            raise ValueError(f"clause {n}: a table of `if`, `status` and `message` only")
        conditions = clause.get("if", [])
        if not isinstance(conditions, list):
            raise ValueError(f"clause {n}: `if` must be a list of conditions")
        if clause.get("status") not in STATUSES:
            raise ValueError(f"clause {n}: status must be one of {', '.join(STATUSES)}")
        message = clause.get("message")
        if not isinstance(message, str) or not message.strip():
            raise ValueError(f"clause {n}: a message is required")
        for m in PLACEHOLDER.finditer(message):
            if m.group(0) in "{}":
                raise ValueError(f"clause {n}: a lone brace in the message (write {{{{ or }}}})")
        parsed = tuple(parse_condition(c) for c in conditions)
        out.append(Clause(parsed, clause["status"], message.strip()))
    return tuple(out)


def lookup(path: tuple[str, ...], facts: Mapping[str, Any], context: object) -> Any:
    """The value at a path (None when any step is missing)."""
    head, *rest = path
    if head == "context":
        value: Any = context
    elif head == "target":
        value = getattr(context, "target", None)
    else:
        value, rest = facts.get(head), rest
    for name in rest:
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = value.get(name)
        else:
            value = getattr(value, name.replace("-", "_"), None)
    return value


def holds(c: Condition, facts: Mapping[str, Any], context: object) -> bool:
    value = lookup(c.path, facts, context)
    if c.op is None:
        return not value if c.negate else bool(value)
    if c.op == "==":
        return bool(value == c.value)
    if c.op == "!=":
        return bool(value != c.value)
    if c.op == "matches":
        return value is not None and re.fullmatch(str(c.value), str(value), re.I) is not None
    inside = value in c.value
    return inside if c.op == "in" else not inside


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fill(message: str, facts: Mapping[str, Any], context: object) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) is None:  # an escaped brace
            return m.group(0)[0]
        value = lookup(tuple(m.group(1).split(".")), facts, context)
        if value is None or value == "" or value == []:
            return m.group(2) if m.group(2) is not None else ""
        return _text(value)

    return PLACEHOLDER.sub(one, message)


def evaluate(
    clauses: tuple[Clause, ...], facts: Mapping[str, Any], context: object
) -> tuple[str, str] | None:
    """(status, message) of the first clause that holds, or None: the check does not apply."""
    for clause in clauses:
        if all(holds(c, facts, context) for c in clause.conditions):
            return clause.status, fill(clause.message, facts, context)
    return None
