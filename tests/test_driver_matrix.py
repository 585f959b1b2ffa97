"""The real-driver matrix: what really happens when real drivers and ORMs, with their
defaults and with their documented fixes, go through PgBouncer 1.18 (Debian 12) and 1.24
(Debian 13, from the chroot of tests/support/trixie.py) in the pools where they fail.

Each cell is one stack variant (tests/support/drivers/) x one pool: two client processes
(two serverless instances) run at the same moment against a PgBouncer started for that
cell alone (so no cell sees another's leftover statements), in front of one PostgreSQL 15.
The pools: direct; transaction with default_pool_size=1 (two instances' statement names
collide: "already exists"); transaction with 2 server connections (min_pool_size=2) and
server_round_robin=1 (a name prepared on one server is missing on the other: "does not
exist"); session; and on 1.24 both transaction pools with max_prepared_statements=200
and =0.

`run_matrix()` returns the cells (the `driver_matrix` fixture runs it once per module)
and they are written to test-artifacts/driver-matrix.json, for the site. To put the
advisor's verdict next to a cell, start a pooler like the cell's with
`POOL_BY_ID[cell["pool"]].start(matrix_server, trixie_root)`. A cell:

    {"pool": "pgbouncer-1.18-transaction-1",  # an id from POOLS
     "pooler": "pgbouncer" | "none", "version": "1.18.0" (the pooler's, else PostgreSQL's),
     "postgresql": "15.18",
     "settings": {"pool_mode": ..., "default_pool_size": ..., ...} ({} when direct),
     "stack": "asyncpg", "driver": "asyncpg", "orm": null (or "sqlalchemy", "django",
     "prisma": the ids of `advisor --driver/--orm`), "variant": "default" | "fix" | "named",
     "driver_version": "0.32.0",
     "outcome": "works" | "breaks",
     "error": "<the first error an instance saw, one line>" ("" when it works),
     "errors": <failed requests, both instances>, "requests": <requests, both instances>,
     "instances": [{"ok", "error", "errors", "queries", "seen"}, ...],
     "seconds": <wall time of the cell>, "date": "YYYY-MM-DD"}

The assertions are about reality only (the advisor's verdict per cell is compared later).
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor.catalog.providers import load_providers
from advisor.catalog.stacks import load_stacks
from advisor.checks import Context
from advisor.configgen import example_url
from advisor.probe import probe
from advisor.target import parse_target
from advisor.webtools import check_url
from tests.support import servers
from tests.support.cli import ROOT
from tests.support.drivers import (
    STACKS,
    TABLE_SQL,
    Stack,
    prepare_programs,
    prisma_generate,
    run_pair,
)
from tests.support.live import need, running

pytestmark = pytest.mark.live

ARTIFACT = Path(ROOT) / "test-artifacts" / "driver-matrix.json"
WORKERS = 4  # cells at once: each is mostly waiting on two small client processes


@dataclass(frozen=True)
class Pool:
    id: str
    modern: bool = False  # PgBouncer 1.24 from the Debian 13 root, else the system's 1.18
    pool_mode: str = "transaction"
    default_pool_size: int = 1
    settings: dict = field(default_factory=dict)
    direct: bool = False

    @property
    def pooler(self) -> str:
        """Whose version the cell records: "postgresql" (direct), "1.18" or "1.24"."""
        return "postgresql" if self.direct else "1.24" if self.modern else "1.18"

    def describe(self) -> dict:
        if self.direct:
            return {}
        return {
            "pool_mode": self.pool_mode,
            "default_pool_size": self.default_pool_size,
            **self.settings,
        }

    def start(self, server: servers.PostgresServer, root: Path | None) -> servers.PgBouncer:
        """A fresh PgBouncer of this pool in front of `server` (`root`: the trixie root)."""
        return servers.PgBouncer(
            server,
            pool_mode=self.pool_mode,
            default_pool_size=self.default_pool_size,
            settings=self.settings,
            name=self.id,
            root=root if self.modern else None,
        ).start()


ROUND_ROBIN = {"server_round_robin": 1, "min_pool_size": 2}
POOLS = (
    Pool("direct", direct=True),
    Pool("pgbouncer-1.18-transaction-1"),
    Pool("pgbouncer-1.18-transaction-2-round-robin", default_pool_size=2, settings=ROUND_ROBIN),
    Pool("pgbouncer-1.18-session", pool_mode="session", default_pool_size=2),
    Pool(
        "pgbouncer-1.24-transaction-1-mps200",
        modern=True,
        settings={"max_prepared_statements": 200},
    ),
    Pool(
        "pgbouncer-1.24-transaction-2-round-robin-mps200",
        modern=True,
        default_pool_size=2,
        settings={**ROUND_ROBIN, "max_prepared_statements": 200},
    ),
    Pool(
        "pgbouncer-1.24-transaction-1-mps0",
        modern=True,
        settings={"max_prepared_statements": 0},
    ),
    Pool(
        "pgbouncer-1.24-transaction-2-round-robin-mps0",
        modern=True,
        default_pool_size=2,
        settings={**ROUND_ROBIN, "max_prepared_statements": 0},
    ),
)
POOL_BY_ID = {pool.id: pool for pool in POOLS}
STACK_BY_NAME = {stack.name: stack for stack in STACKS}


# What the user tells the advisor about each variant: (--driver-option, --uses). The
# defaults need nothing beyond --driver/--orm, except where the workload itself uses a
# feature its stack uses only on request (Django's QuerySet.iterator(), named pg queries).
ADVISOR_INPUT: dict[tuple[str, str], tuple[tuple[str, ...], tuple[str, ...]]] = {
    ("asyncpg", "fix"): (("statement_cache_size=0",), ()),
    ("psycopg", "fix"): (("prepare_threshold=None",), ()),
    ("sqlalchemy+asyncpg", "fix"): (("prepared_statement_cache_size=0",), ()),
    ("django", "default"): ((), ("with_hold_cursors",)),
    ("django", "fix"): (("DISABLE_SERVER_SIDE_CURSORS=True",), ("with_hold_cursors",)),
    ("node-postgres", "named"): ((), ("protocol_prepared_statements",)),
    ("postgres.js", "fix"): (("prepare=false",), ()),
    ("pgjdbc", "fix"): (("prepareThreshold=0",), ()),
    ("pdo-pgsql", "fix"): (("PDO::ATTR_EMULATE_PREPARES=true",), ()),
    ("rails", "fix"): (("prepared_statements=false",), ()),
    ("pgx", "fix"): (("statement_cache_mode=describe",), ()),
}
VERDICT_CHECKS = ("STK101", "STK102")


def advisor_verdict(url: str, admin_url: str | None, stack: Stack, variant: str) -> dict:
    """`advisor probe --orm/--driver ... [--pooler-admin-url]` on the cell's endpoint (in
    this process): the verdict is "breaks" when STK101 or STK102 fails."""
    options, uses = ADVISOR_INPUT.get((stack.name, variant), ((), ()))
    ctx = Context(
        orm=stack.orm,
        driver=stack.driver,
        prisma_version=7 if stack.orm == "prisma" else None,
        driver_options=dict(o.split("=", 1) for o in options),
        uses=uses,
    )
    admin = parse_target(admin_url) if admin_url else None
    report = probe(parse_target(url), ctx, timeout=20, admin_target=admin)
    found = {f.id: [f.status, f.message] for f in report.findings if f.id in VERDICT_CHECKS}
    assert set(found) == set(VERDICT_CHECKS), [(f.id, f.status, f.message) for f in report.findings]
    failed = any(status == "fail" for status, _ in found.values())
    return {"verdict": "breaks" if failed else "works", "findings": found}


def _cell(server, root, versions, pool: Pool, stack: Stack, variant: str) -> dict:
    started = time.monotonic()
    bouncer = None if pool.direct else pool.start(server, root)
    try:
        url = server.url() if bouncer is None else bouncer.url()
        verdict = advisor_verdict(url, bouncer and bouncer.admin_url(), stack, variant)
        instances = run_pair(stack, variant, url)
    finally:
        if bouncer is not None:
            bouncer.stop()
    broken = [r for r in instances if not r.get("ok")]
    return {
        "advisor": verdict,
        "pool": pool.id,
        "pooler": "none" if pool.direct else "pgbouncer",
        "version": versions[pool.pooler],
        "postgresql": versions["postgresql"],
        "settings": pool.describe(),
        "stack": stack.name,
        "driver": stack.driver,
        "orm": stack.orm,
        "variant": variant,
        "driver_version": next((r["version"] for r in instances if r.get("version")), ""),
        "outcome": "breaks" if broken else "works",
        "error": broken[0].get("error", "") if broken else "",
        "errors": sum(r.get("errors", 0) for r in instances),
        "requests": sum(r.get("queries", 0) for r in instances),
        "instances": [
            {k: r.get(k) for k in ("ok", "error", "errors", "queries", "seen")} for r in instances
        ],
        "seconds": round(time.monotonic() - started, 2),
        "date": datetime.datetime.now(datetime.UTC).date().isoformat(),
    }


def run_matrix(
    server: servers.PostgresServer,
    root: Path,
    stacks: tuple[Stack, ...] = STACKS,
    pools: tuple[Pool, ...] = POOLS,
) -> list[dict]:
    """Every variant of `stacks` through every pool of `pools`, measured live; the cells
    in a fixed order (pool, then stack, then variant). `server` must hold driver_item
    (TABLE_SQL) and the Prisma client must be generated (prisma_generate())."""
    versions = {
        "postgresql": server.psql("SHOW server_version").split()[0],
        "1.18": servers.PgBouncer(server).version(),
        "1.24": servers.PgBouncer(server, root=root).version(),
    }
    jobs = [(pool, s, v) for pool in pools for s in stacks for v in s.variants]
    with ThreadPoolExecutor(WORKERS) as pool_of_threads:
        return list(pool_of_threads.map(lambda job: _cell(server, root, versions, *job), jobs))


def write_matrix(cells: list[dict], path: Path = ARTIFACT) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "cells": cells,
    }
    path.write_text(json.dumps(doc, indent=1) + "\n")


# The published record (the site's compatibility matrix page reads it): what was measured
# in each cell and what the advisor said, without the per-run details.
PUBLISHED = Path(ROOT) / "docs" / "data" / "driver-matrix.json"
PUBLISHED_KEYS = (
    "pool", "pooler", "version", "postgresql", "settings", "stack", "driver", "orm",
    "variant", "driver_version", "outcome", "error", "date",
)  # fmt: skip


def published(cells: list[dict]) -> dict:
    return {
        "measured": max(c["date"] for c in cells),
        "cells": [
            {
                **{k: c[k] for k in PUBLISHED_KEYS},
                "error": re.sub(r'"[a-z0-9]{10,14}"', '"<random>"', c["error"])[:200],
                "advisor": c["advisor"]["verdict"],
                "findings": {cid: f[0] for cid, f in c["advisor"]["findings"].items()},
            }
            for c in cells
        ],
    }


def cell_key(cell: dict) -> tuple[str, str, str]:
    return cell["pool"], cell["stack"], cell["variant"]


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matrix_server():
    """A PostgreSQL of its own (the matrix adds a table and opens ~20 connections)."""
    with running(lambda: servers.PostgresServer("matrix", max_connections=60).start()) as server:
        server.psql(TABLE_SQL, db="app")
        yield server


@pytest.fixture(scope="module")
def driver_matrix(matrix_server, trixie_root) -> list[dict]:
    if not shutil.which("node"):
        need("node (apt-get install nodejs npm)")
    started = time.monotonic()
    with ThreadPoolExecutor(2) as builds:  # both mostly wait on compilers
        jobs = [builds.submit(prisma_generate), builds.submit(prepare_programs)]
    try:
        for job in jobs:
            job.result()
    except RuntimeError as exc:  # MissingToolchain among them
        need(exc)
    print(f"\ndriver programs ready in {time.monotonic() - started:.1f}s")
    started = time.monotonic()
    try:
        cells = run_matrix(matrix_server, trixie_root)
    except servers.MissingBinary as exc:
        need(exc)
    write_matrix(cells)
    print(f"\ndriver matrix: {len(cells)} cells in {time.monotonic() - started:.1f}s")
    return cells


def cells_of(matrix: list[dict], stack: str, variant: str | None = None, pool=None) -> list:
    return [
        c
        for c in matrix
        if c["stack"] == stack
        and (variant is None or c["variant"] == variant)
        and (pool is None or c["pool"] in ((pool,) if isinstance(pool, str) else pool))
    ]


def show(cells: list[dict]) -> str:
    return "\n".join(
        f"  {c['stack']}/{c['variant']} via {c['pool']}: {c['outcome']} {c['error']}" for c in cells
    )


def all_errors(cell: dict) -> list[str]:
    return [e for inst in cell["instances"] for e in (inst.get("seen") or [])]


def _txn(modern: bool, mps: int | None) -> tuple[str, str]:
    """The two transaction pools (size 1, round robin) of one PgBouncer version/setting."""
    return tuple(
        p.id
        for p in POOLS
        if not p.direct
        and p.pool_mode == "transaction"
        and p.modern == modern
        and p.settings.get("max_prepared_statements") == mps
    )


TXN_118, TXN_124_200, TXN_124_0 = _txn(False, None), _txn(True, 200), _txn(True, 0)
ONE = [
    p.id
    for p in POOLS
    if not p.direct and p.pool_mode == "transaction" and p.default_pool_size == 1
]
ROUND = [p.id for p in POOLS if p.settings.get("server_round_robin")]
SAFE = [(s.name, v) for s in STACKS for v in s.safe]


# -- what is true of the matrix as recorded ------------------------------------------------


def test_the_advisors_verdict_is_what_really_happened(driver_matrix):
    """In every cell, `advisor probe` with the stack named (and its fix, when applied) says
    works or breaks exactly as the two real client processes found."""
    wrong = [
        f"  {c['stack']}/{c['variant']} via {c['pool']}: reality {c['outcome']} "
        f"({c['error'][:80]}), advisor {c['advisor']['verdict']}: {c['advisor']['findings']}"
        for c in driver_matrix
        if c["advisor"]["verdict"] != c["outcome"]
    ]
    assert not wrong, f"{len(wrong)} of {len(driver_matrix)} cells:\n" + "\n".join(wrong)


def test_the_published_matrix_is_what_this_run_measured(driver_matrix):
    """docs/data/driver-matrix.json (the site's page) holds this run's outcomes and verdicts.
    `make matrix` rewrites it after a driver or PgBouncer upgrade changed one."""
    fresh = published(driver_matrix)
    if os.environ.get("ADVISOR_UPDATE_MATRIX") == "1":
        PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
        PUBLISHED.write_text(json.dumps(fresh, indent=1) + "\n")
    saved = {cell_key(c): c for c in json.loads(PUBLISHED.read_text())["cells"]}
    changed = [
        f"  {k}: published {saved[k]['outcome']}/{saved[k]['advisor']}, now "
        f"{c['outcome']}/{c['advisor']}"
        if k in saved
        else f"  {k}: not published"
        for c in fresh["cells"]
        for k in [cell_key(c)]
        if k not in saved
        or (saved[k]["outcome"], saved[k]["advisor"]) != (c["outcome"], c["advisor"])
    ]
    assert not changed, "run `make matrix` to publish:\n" + "\n".join(changed)
    assert len(saved) == len(fresh["cells"])


def _catalog_endpoints() -> list[tuple[str, str, str]]:
    """(provider/endpoint, a URL for it, the matrix pool that behaves like it) for every
    PostgreSQL endpoint whose behaviour the provider catalog states. Without an admin
    console the advisor assumes more than one server connection, as in production: the
    round-robin pools are the measured equivalent."""
    like = {
        ("pooled", "transaction", False): "pgbouncer-1.18-transaction-2-round-robin",
        ("pooled", "transaction", True): "pgbouncer-1.24-transaction-2-round-robin-mps200",
        ("pooled", "session", True): "pgbouncer-1.18-session",
        ("direct", None, None): "direct",
    }
    found = []
    for pid, provider in load_providers().items():
        for e in provider["endpoints"]:
            key = (e.get("role"), e.get("pool_mode"), e.get("prepared_statements"))
            if e.get("role") == "direct":
                key = ("direct", None, None)
            if e.get("pooler") == "rds-proxy":  # it pins a session that uses session state
                key = ("pooled", "session", True)
            url = example_url(e.get("example"))
            if e.get("engine") != "postgresql" or key not in like or not url:
                continue
            url = re.sub(r"<[^>]+>", "abc", url)
            found.append((f"{pid}/{e['id']}", url, like[key]))
    return found


def test_lint_predicts_the_same_verdict_offline(driver_matrix):
    """`advisor lint --driver/--orm URL` for every catalog endpoint (Supabase 6543 and 5432,
    Neon's -pooler, Azure 6432, ...) says what the matching measured pool did, per stack."""
    endpoints = _catalog_endpoints()
    assert len(endpoints) >= 10 and {p for *_, p in endpoints} == {
        "pgbouncer-1.18-transaction-2-round-robin",
        "pgbouncer-1.24-transaction-2-round-robin-mps200",
        "pgbouncer-1.18-session",
        "direct",
    }
    reality = {cell_key(c): c["outcome"] for c in driver_matrix}
    wrong = []
    for stack in STACKS:
        for variant in stack.variants:
            options, uses = ADVISOR_INPUT.get((stack.name, variant), ((), ()))
            for name, url, pool in endpoints:
                r = check_url(
                    url,
                    orm=stack.orm,
                    driver=stack.driver,
                    prisma_version=7 if stack.orm == "prisma" else None,
                    driver_options=list(options),
                    uses=list(uses),
                )
                assert "report" in r, (name, r)
                found = {f["id"]: f for f in r["report"]["findings"]}
                verdict = (
                    "breaks"
                    if any(found[c]["status"] == "fail" for c in VERDICT_CHECKS)
                    else "works"
                )
                if verdict != reality[pool, stack.name, variant]:
                    wrong.append(
                        f"  {stack.name}/{variant} on {name}: lint {verdict}, {pool} {reality[pool, stack.name, variant]}"
                    )
    assert not wrong, "\n".join(wrong)


def test_matrix_is_complete_and_written(driver_matrix):
    """Every variant of every stack through every pool, recorded with versions and date."""
    expected = {(p.id, s.name, v) for p in POOLS for s in STACKS for v in s.variants}
    assert {(c["pool"], c["stack"], c["variant"]) for c in driver_matrix} == expected
    assert len(STACKS) >= 8
    harness = [c for c in driver_matrix if "no result line" in c["error"]]
    assert not harness, "a client program printed no result:\n" + show(harness)
    assert all(c["driver_version"] for c in driver_matrix)
    # Each instance made all its requests, or could not even connect (e.g. SQLAlchemy's
    # first statements on connect collide with the other instance's) and says why.
    for cell in driver_matrix:
        for inst in cell["instances"]:
            assert inst["queries"] == 12 or (inst["queries"] == 0 and inst["error"]), cell
    for cell in driver_matrix:
        pool = POOL_BY_ID[cell["pool"]]
        if not pool.direct:
            assert cell["version"].startswith("1.24." if pool.modern else "1.18."), cell
    saved = json.loads(ARTIFACT.read_text())
    assert saved["cells"] == driver_matrix


@pytest.mark.parametrize("stack", [s.name for s in STACKS])
def test_every_variant_works_directly_and_in_session_mode(driver_matrix, stack):
    cells = cells_of(driver_matrix, stack, pool=("direct", "pgbouncer-1.18-session"))
    broken = [c for c in cells if c["outcome"] != "works"]
    assert cells and not broken, "\n" + show(broken)


@pytest.mark.parametrize(("stack", "variant"), SAFE, ids=[f"{s}-{v}" for s, v in SAFE])
def test_the_fix_works_in_every_pool(driver_matrix, stack, variant):
    """The documented fix (or a default that needs none) works through every pool."""
    cells = cells_of(driver_matrix, stack, variant)
    broken = [c for c in cells if c["outcome"] != "works"]
    assert len(cells) == len(POOLS) and not broken, "\n" + show(broken)


# Defaults that keep protocol-level prepared statements across transactions: the error
# each gives through a transaction pool of 1 (two instances' names collide).
COLLIDES = {
    ("asyncpg", "default"): r'prepared statement "__asyncpg_stmt_1__" already exists',
    ("psycopg", "default"): r'prepared statement "_pg3_0" already exists',
    ("sqlalchemy+asyncpg", "default"): r'prepared statement "__asyncpg_stmt_\d+__" already exists',
    ("node-postgres", "named"): r'prepared statement "driver-item" already exists',
    # PgJDBC names S_1, S_2, ... (a failed prepare uses up a number), from the 6th execution
    ("pgjdbc", "default"): r'PSQLException: ERROR: prepared statement "S_\d+" already exists',
    (
        "rails",
        "default",
    ): r'PG::DuplicatePstatement: ERROR:  prepared statement "a\d+" already exists',
    ("pgx", "default"): r'prepared statement "lrupsc_1_\d+" already exists \(SQLSTATE 42P05\)',
}
# With 2 server connections in round robin a name goes missing on the other server (or
# finds the other instance's statement there: "wrong result", or one that takes another
# number of parameters, as PgJDBC's S_<n> for its own parameterless statements may). PgJDBC
# sends BEGIN in one batch with the transaction's first statement: when that statement fails
# on the other server, the server rolls the transaction back and PgJDBC reports the BEGIN's
# status as "Expected command status BEGIN, got ROLLBACK" (the same breakage, seen second).
GOES_MISSING = (
    r'prepared statement "[^"]+" does not exist|wrong result'
    r'|bind message supplies \d+ parameters, but prepared statement "[^"]+" requires \d+'
    r"|Expected command status BEGIN, got ROLLBACK"
)


@pytest.mark.parametrize(("stack", "variant"), list(COLLIDES), ids=[s for s, _ in COLLIDES])
def test_named_statement_defaults_break_without_prepared_statement_tracking(
    driver_matrix, stack, variant
):
    """Through 1.18 (and 1.24 with max_prepared_statements=0) both transaction pools
    break, with the collision's error in the pool of 1 and nothing but prepared-statement
    errors in round robin; through 1.24 with max_prepared_statements=200 they work."""
    collides = COLLIDES[stack, variant]
    for pool in TXN_118 + TXN_124_0:
        (cell,) = cells_of(driver_matrix, stack, variant, pool)
        errors = all_errors(cell)
        assert cell["outcome"] == "breaks", show([cell])
        if pool in ONE:
            assert any(re.search(collides, e) for e in errors), errors
        else:
            assert all(re.search(f"{GOES_MISSING}|{collides}", e) for e in errors), errors
    tracked = cells_of(driver_matrix, stack, variant, TXN_124_200)
    assert [c["outcome"] for c in tracked] == ["works", "works"], "\n" + show(tracked)


def test_postgres_js_default_breaks_only_in_round_robin(driver_matrix):
    """postgres.js names its statements with a random per-connection prefix, so two
    instances never collide in a pool of 1; with 2 servers in round robin a statement
    goes missing inside `sql.begin()` (outside it, postgres.js re-prepares and retries)."""
    for pool in (TXN_118[1], TXN_124_0[1]):
        (cell,) = cells_of(driver_matrix, "postgres.js", "default", pool)
        assert cell["outcome"] == "breaks", show([cell])
        assert all(
            re.search(r'prepared statement "\w+" does not exist', e) for e in all_errors(cell)
        ), all_errors(cell)
    works = cells_of(
        driver_matrix, "postgres.js", "default", (TXN_118[0], TXN_124_0[0], *TXN_124_200)
    )
    assert [c["outcome"] for c in works] == ["works"] * 4, "\n" + show(works)


def test_django_server_side_cursors_break_in_round_robin_on_every_version(driver_matrix):
    """Django prepares nothing by default, but `iterator()`'s WITH HOLD cursor lives on one
    server connection; PgBouncer tracks prepared statements, not cursors."""
    for cell in cells_of(driver_matrix, "django", "default", ROUND):
        assert cell["outcome"] == "breaks", show([cell])
        assert all(
            re.search(r'(cursor|portal) "_django_curs_\w+" does not exist', e)
            for e in all_errors(cell)
        ), all_errors(cell)
    ones = cells_of(driver_matrix, "django", "default", ONE)
    assert len(ones) == 3 and all(c["outcome"] == "works" for c in ones), "\n" + show(ones)


def test_max_prepared_statements_0_behaves_as_118(driver_matrix):
    """PgBouncer 1.24 with max_prepared_statements=0 (Azure's default) gives every stack
    variant the outcome it has through 1.18, in both transaction pools."""
    differ = []
    for old, new in zip(TXN_118, TXN_124_0, strict=True):
        for stack in STACKS:
            for variant in stack.variants:
                (a,) = cells_of(driver_matrix, stack.name, variant, old)
                (b,) = cells_of(driver_matrix, stack.name, variant, new)
                if a["outcome"] != b["outcome"]:
                    differ += [a, b]
    assert not differ, "\n" + show(differ)


def test_pdo_breaks_in_every_transaction_pool_until_emulated_prepares(driver_matrix):
    """PHP PDO's named statements go missing or collide where the pool does not keep them;
    where PgBouncer 1.24 keeps them, PDO's own SQL DEALLOCATE of a statement freed inside
    a transaction fails (PgBouncer renamed it on the server) and aborts that transaction."""
    for pool in TXN_118 + TXN_124_0:
        (cell,) = cells_of(driver_matrix, "pdo-pgsql", "default", pool)
        assert cell["outcome"] == "breaks", show([cell])
        assert all(
            re.search(r'"pdo_stmt_\d{8}" does not exist|wrong result', e) for e in all_errors(cell)
        ), all_errors(cell)
    for cell in cells_of(driver_matrix, "pdo-pgsql", "default", TXN_124_200):
        assert cell["outcome"] == "breaks", show([cell])
        assert all(
            e.startswith("SQLSTATE[25P02]: In failed sql transaction") for e in all_errors(cell)
        ), all_errors(cell)


def test_pgjdbc_42_5_is_refused_by_a_pgbouncer_that_does_not_ignore_extra_float_digits(
    matrix_server,
):
    """PgJDBC before 42.7.5 sends extra_float_digits in its startup packet, which PgBouncer
    refuses unless ignore_startup_parameters lists it (the matrix's PgBouncers do): the
    catalog's error is the one the driver really reports."""
    (stack,) = [s for s in STACKS if s.name == "pgjdbc"]
    try:
        prepare_programs((stack,))
    except RuntimeError as exc:
        need(exc)
    bouncer = servers.PgBouncer(
        matrix_server, settings={"ignore_startup_parameters": "application_name"}, name="efd"
    ).start()
    try:
        first, second = run_pair(stack, "fix", bouncer.url(), queries=1)
    finally:
        bouncer.stop()
    catalog = load_stacks()["pgjdbc"]["features"]["startup_parameters"]["errors"]
    version = tuple(int(p) for p in re.findall(r"\d+", first["version"])[:3])
    if version >= (42, 7, 5):  # no extra_float_digits in the startup packet any more
        assert first["ok"] and second["ok"], (first, second)
        return
    assert first["queries"] == second["queries"] == 0
    assert first["error"] == second["error"] == catalog[0], (first, catalog)
