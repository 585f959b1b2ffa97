"""The checks written as data: every catalog entry with `when` clauses (catalog/when.py)
becomes a registered check here, so adding one is an edit of one catalog file."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..catalog import load_checks
from ..catalog.when import evaluate, parse_clauses
from . import Check, Context, Result, check

if TYPE_CHECKING:
    from ..facts.model import Facts


def _declared(clauses: Any) -> Check:
    parsed = parse_clauses(clauses)

    def run(facts: Facts, ctx: Context) -> Result | None:
        found = evaluate(parsed, facts, ctx)
        return Result(*found) if found else None

    return run


for _id, _entry in load_checks().items():
    if "when" in _entry:
        check(_id)(_declared(_entry["when"]))
