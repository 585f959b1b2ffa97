"""Checks: pure functions over facts. Each registers against a catalog id.

Every module in this package is imported by `load_all()` (found on disk, not listed here):
adding a check is one catalog entry and one `@check("ID")` function, in any module.
A check returns a `Result`, or None when it does not apply to this target (it is then
left out of the report rather than shown as skipped). Checks read the typed facts
(facts/model.py); `postgres_facts(facts)` and `mysql_facts(facts)` hand a check the
server's facts when the probe reached one.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ..catalog import docs_url, load_checks
from ..report import Finding
from ..status import Status

if TYPE_CHECKING:
    from ..facts.model import Facts, MySQLReportFacts, PostgresReportFacts
    from ..target import Target


@dataclass
class Result:
    status: str
    message: str

    def __post_init__(self) -> None:
        if Status.of(self.status) is None:
            raise ValueError(f"bad status {self.status!r}")
        self.status = Status(self.status).value  # the plain string the report carries


@dataclass(frozen=True)
class Context:
    """What the user told us beyond the URL: how the database will be used. Made once per
    target, with everything in it, and never changed (`dataclasses.replace` makes a copy
    for another target). probe() and lint() fill in `target` when it is not set."""

    target: Target | None = None
    serverless: bool = True
    orm: str | None = None
    prisma_version: int | None = None
    direct_target: Target | None = None  # for migrations, if given
    concurrency: int | None = None
    pool_size: int | None = None
    driver: str | None = None  # the stack catalog's driver id (--driver), under `orm` if any
    driver_options: Mapping[str, str] = field(default_factory=dict)  # --driver-option K=V
    uses: tuple[str, ...] = ()  # --uses: session features the code itself relies on
    # "PG101.warn_below_percent" -> value
    thresholds: Mapping[str, Any] = field(default_factory=dict)

    def param(self, check_id: str, name: str) -> Any:
        key = f"{check_id}.{name}"
        if key in self.thresholds:
            return self.thresholds[key]
        return load_checks()[check_id]["params"][name]


# A check: facts and context in, a Result out (None: does not apply to this target).
Check = Callable[["Facts", "Context"], "Result | None"]
REGISTRY: dict[str, Check] = {}


def check(check_id: str) -> Callable[[Check], Check]:
    """Register a check function under a catalog id (which must exist)."""
    if check_id not in load_checks():
        raise KeyError(f"check {check_id} has no entry in the check catalog")

    def register(func: Check) -> Check:
        if check_id in REGISTRY:
            raise KeyError(f"check {check_id} registered twice")
        REGISTRY[check_id] = func
        return func

    return register


@lru_cache(maxsize=1)
def _modules() -> tuple[str, ...]:
    return tuple(m.name for m in pkgutil.iter_modules(__path__, f"{__name__}."))


def load_all() -> dict[str, Check]:
    """Import every module of this package (which fills REGISTRY); id -> check function."""
    for name in _modules():
        importlib.import_module(name)
    return REGISTRY


def postgres_facts(facts: Facts) -> PostgresReportFacts | None:
    """The facts of the PostgreSQL server the probe reached; None for a lint, a failed
    probe or another engine."""
    return facts if facts["engine"] == "postgresql" and "max_connections" in facts else None


def mysql_facts(facts: Facts) -> MySQLReportFacts | None:
    """The facts of the MySQL or MariaDB server the probe reached; None otherwise."""
    return facts if facts["engine"] == "mysql" and "max_connections" in facts else None


def run(facts: Facts, ctx: Context, kinds: tuple[str, ...] = ("lint", "probe")) -> list[Finding]:
    """Run every registered check that fits the engine and kinds; catalog order."""
    load_all()
    engine = facts["engine"]
    findings = []
    for check_id, entry in load_checks().items():
        if entry["kind"] not in kinds or entry["engine"] not in (engine, "any"):
            continue
        func = REGISTRY.get(check_id)
        if func is None:
            continue
        result = func(facts, ctx)
        if result is not None:
            findings.append(finding(check_id, result.status, result.message))
    return findings


def finding(check_id: str, status: str, message: str) -> Finding:
    entry = load_checks()[check_id]
    return Finding(
        id=check_id,
        title=entry["title"],
        severity=entry["severity"],
        status=status,
        message=message,
        remediation=entry["remediation"],
        docs_url=docs_url(check_id),
    )
