"""Load the check catalog (one TOML file per topic in catalog/checks/) and hold it to its schema.

The schema is declared below as data. A catalog entry that breaks it stops the load with an
error naming the file, the id and the field, so a typo cannot reach a report or a page.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from .loader import load_toml
from .when import parse_clauses

HERE = Path(__file__).parent / "checks"

SEVERITIES = ("high", "medium", "low")
KINDS = ("probe", "lint", "audit")
ENGINES = ("postgresql", "mysql", "any")
TOPICS = ("probe", "capacity", "pooling", "tls", "orm", "migrations", "network", "secrets", "url")
# What each lifecycle promises; shown by `advisor checks ID` and on the check's page.
LIFECYCLES = {
    "stable": "its id, meaning and thresholds change only after a release has marked it deprecated",
    "preview": "a new check: its messages and thresholds may still change, and it may be dropped",
    "deprecated": "to be removed in a later release: do not rely on it",
}

# Every field an entry may hold: a tuple lists the allowed values, a type is the value's type.
REQUIRED: dict[str, type | tuple[str, ...]] = {
    "title": str,
    "topic": TOPICS,
    "engine": ENGINES,
    "kind": KINDS,
    "severity": SEVERITIES,
    "lifecycle": tuple(LIFECYCLES),
    "summary": str,
    "rationale": str,
    "remediation": str,
}
OPTIONAL: dict[str, type | tuple[str, ...]] = {"example": str, "params": dict, "when": list}
# `when`: the check written as data (catalog/when.py); without it, a @check function.
# An id names a docs page and a --threshold prefix; a parameter name is the rest of the key.
ID_FORMAT = re.compile(r"[A-Z]{2,5}[0-9]{3}")
PARAM_FORMAT = re.compile(r"[a-z][a-z0-9_]{0,40}")

# Where the site is published; every finding links to <DOCS_BASE>checks/<ID>/.
DOCS_BASE = os.environ.get("ADVISOR_DOCS_BASE", "https://pooling-advisor.github.io/advisor/")


class CatalogError(ValueError):
    """A check catalog file that breaks the declared schema."""


def _fail(path: Path, check_id: str, field: str, problem: str) -> NoReturn:
    where = f"{check_id}.{field}" if field else check_id
    raise CatalogError(f"check catalog {path}: {where}: {problem}")


def _validate(path: Path, check_id: str, entry: object) -> None:
    if not ID_FORMAT.fullmatch(check_id):
        _fail(path, check_id, "", f"an id is letters then 3 digits ({ID_FORMAT.pattern})")
    if not isinstance(entry, dict):
        _fail(path, check_id, "", "must be a table ([ID] followed by its fields)")
    for field in REQUIRED:
        if field not in entry:
            _fail(path, check_id, field, "missing (required)")
    for field, value in entry.items():
        rule = REQUIRED.get(field, OPTIONAL.get(field))
        if rule is None:
            known = ", ".join([*REQUIRED, *OPTIONAL])
            _fail(path, check_id, field, f"unknown field (known: {known})")
        if field == "when":
            try:
                parse_clauses(value)
            except ValueError as exc:
                _fail(path, check_id, field, str(exc))
        elif isinstance(rule, tuple):
            if value not in rule:
                _fail(path, check_id, field, f"{value!r} is not one of: {', '.join(rule)}")
        elif not isinstance(value, rule):
            _fail(
                path,
                check_id,
                field,
                f"must be a {'table' if rule is dict else 'string'}, not {type(value).__name__}",
            )
        elif isinstance(value, str) and not value.strip():
            _fail(path, check_id, field, "is empty")
    for name, value in entry.get("params", {}).items():
        if not PARAM_FORMAT.fullmatch(name):
            _fail(path, check_id, f"params.{name}", f"a parameter name is {PARAM_FORMAT.pattern}")
        # Thresholds are numbers: --threshold ID.NAME=VALUE overrides them with a number.
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            _fail(path, check_id, f"params.{name}", f"must be a number, not {type(value).__name__}")


def read_checks(folder: Path) -> dict[str, dict[str, Any]]:
    """id -> entry for every *.toml in `folder`, validated; `params` defaults to {}, texts stripped."""
    checks: dict[str, dict[str, Any]] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        for check_id, entry in load_toml(path).items():
            _validate(path, check_id, entry)
            if check_id in checks:
                _fail(path, check_id, "", f"defined twice (first in {checks[check_id]['file']})")
            entry = {k: (v.strip() if isinstance(v, str) else v) for k, v in entry.items()}
            entry.setdefault("params", {})
            entry["id"] = check_id
            entry["file"] = path.name
            checks[check_id] = entry
    return dict(sorted(checks.items()))  # id order: MY001, ..., PG101, ..., URL302


@lru_cache(maxsize=1)
def load_checks() -> dict[str, dict[str, Any]]:
    """The package's check catalog (read once per process)."""
    return read_checks(HERE)


def docs_url(check_id: str) -> str:
    return f"{DOCS_BASE}checks/{check_id}/"
