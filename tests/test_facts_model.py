"""The facts model (advisor/facts/model.py) against real facts: every report's facts have
exactly the keys and value types the TypedDicts declare, for live probes (PostgreSQL,
PgBouncer with its admin console, MariaDB, unreachable servers) and every lint vector;
the model agrees with the JSON schema; Context cannot change once made; and the
provider catalog is matched once per target.

The shapes are checked at run time by walking the TypedDicts' own declarations
(`__required_keys__`, `__optional_keys__`, their type hints), so the model cannot
drift from what the producers really return.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from pathlib import Path

import pytest

from advisor import checks
from advisor.catalog import providers
from advisor.errors import InvalidTarget
from advisor.facts import model
from advisor.facts import mysql as _mysql_facts  # noqa: F401  imported: its binding is counted
from advisor.facts import postgres as _postgres_facts  # noqa: F401
from advisor.probe import lint, probe
from advisor.report import SCHEMA_VERSION
from advisor.target import parse_target
from tests.support import servers_mysql
from tests.support.live import running
from tests.support.servers import PASSWORD
from tests.support.vectors import VECTORS

SCHEMA = Path(model.__file__).resolve().parent.parent / "schema" / "report-v1.json"
CLOSED = f"postgresql://app:{PASSWORD}@127.0.0.1:1/app"


# -- a run-time reading of the TypedDicts -------------------------------------------


def _is_typeddict(tp: object) -> bool:
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def mismatches(value: object, tp: object, path: str = "facts") -> list[str]:
    """Where `value` is not of type `tp` (a model type): missing, undeclared or mistyped
    keys, with their paths; [] when it conforms."""
    origin = typing.get_origin(tp)
    if _is_typeddict(tp):
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        hints = typing.get_type_hints(tp)
        required, optional = tp.__required_keys__, tp.__optional_keys__
        found = [f"{path}.{k}: missing" for k in sorted(required - value.keys())]
        found += [f"{path}.{k}: not declared" for k in sorted(value.keys() - required - optional)]
        for key in value.keys() & hints.keys():
            found += mismatches(value[key], hints[key], f"{path}.{key}")
        return found
    if origin in (typing.Union, types.UnionType):
        options = [mismatches(value, option, path) for option in typing.get_args(tp)]
        return [] if any(not o for o in options) else min(options, key=len)
    if origin is typing.Literal:
        return [] if value in typing.get_args(tp) else [f"{path}: {value!r} not in {tp}"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__}, not a list"]
        (item,) = typing.get_args(tp)
        return [m for i, v in enumerate(value) for m in mismatches(v, item, f"{path}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__}, not an object"]
        key_type, item = typing.get_args(tp)
        return [
            m
            for k, v in value.items()
            for m in mismatches(k, key_type, f"{path} key") + mismatches(v, item, f"{path}.{k}")
        ]
    if tp is type(None):
        return [] if value is None else [f"{path}: {value!r} is not null"]
    if tp is float:  # an int is a float to the type checker too
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not a number"]
    if tp is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{path}: {value!r} is not an integer"]
    if isinstance(tp, type):
        return [] if isinstance(value, tp) else [f"{path}: {value!r} is not {tp.__name__}"]
    raise TypeError(f"{path}: the test does not read {tp!r}")


def conforms(report, facts_type) -> None:
    """The report's facts and target have exactly the declared shape, as JSON too."""
    for value in (report.facts, json.loads(json.dumps(report.to_dict()))["facts"]):
        assert mismatches(value, facts_type) == []
    assert mismatches(report.target, model.TargetSummary, "target") == []


def test_the_reader_itself_finds_missing_undeclared_and_mistyped_keys():
    good = {"port": 6543, "role": "pooled", "pool_mode": None}
    assert mismatches(good, model.HostPort) == []
    assert mismatches({"port": 6543, "role": "pooled"}, model.HostPort) == [
        "facts.pool_mode: missing"
    ]
    assert mismatches({**good, "extra": 1}, model.HostPort) == ["facts.extra: not declared"]
    assert mismatches({**good, "port": "6543"}, model.HostPort) == [
        "facts.port: '6543' is not an integer"
    ]
    assert mismatches({**good, "role": "other"}, model.HostPort) != []
    assert mismatches({**good, "port": True}, model.HostPort) != []


# -- live probes ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def maria():
    with running(lambda: servers_mysql.MariaDBServer("facts", max_connections=29).start()) as m:
        yield m


def test_postgres_probe_facts_match_the_model(pg_plain):
    report = probe(parse_target(pg_plain.url()), checks.Context(), timeout=10)
    assert report.exit_code() != 3, report.findings
    conforms(report, model.PostgresReportFacts)
    assert "direct" not in report.facts and "admin" not in report.facts["pooler"]


def test_pgbouncer_probe_with_console_and_direct_url_matches_the_model(pg_plain, pgbouncer_txn):
    ctx = checks.Context(direct_target=parse_target(pg_plain.url()), concurrency=5)
    report = probe(
        parse_target(pgbouncer_txn.url()),
        ctx,
        timeout=10,
        admin_target=parse_target(pgbouncer_txn.admin_url()),
    )
    conforms(report, model.PostgresReportFacts)
    facts = report.facts
    assert facts["pooler"]["pool_mode"] == "transaction" and facts["pooler"]["admin"]["pools"]
    assert mismatches(facts["direct"], model.DirectProbed) == []
    assert {"direct_url", "direct"} <= facts.keys()


def test_mariadb_probe_facts_match_the_model(maria):
    target = parse_target(maria.url())
    report = probe(target, checks.Context(direct_target=target), timeout=10)
    assert report.exit_code() != 3, report.findings
    conforms(report, model.MySQLReportFacts)
    direct = report.facts["direct"]  # probing a direct URL is for PostgreSQL only
    assert mismatches(direct, model.DirectFailed) == [] and "url" not in direct


def test_failed_probe_facts_match_the_model(pg_plain):
    for url, direct in ((CLOSED, pg_plain.url()), (CLOSED.replace("postgresql", "mysql"), None)):
        ctx = checks.Context(direct_target=parse_target(direct) if direct else None)
        report = probe(parse_target(url), ctx, timeout=5)
        assert report.exit_code() == 3
        conforms(report, model.FailedProbeFacts)


def test_every_lint_vector_s_facts_match_the_model():
    linted = 0
    for vector in VECTORS:
        try:
            target = parse_target(vector["url"])
            direct = parse_target(vector["direct_url"]) if vector.get("direct_url") else None
        except InvalidTarget:
            continue
        ctx = checks.Context(orm=vector.get("orm"), direct_target=direct)
        report = lint(target, ctx, source="argument", direct_source="DIRECT_URL")
        conforms(report, model.LintFacts)
        linted += 1
    assert linted > 100


# -- the model, the schema and the report --------------------------------------------


def test_the_model_agrees_with_the_json_schema():
    schema = json.loads(SCHEMA.read_text())
    facts = schema["properties"]["facts"]
    url = schema["$defs"]["url_facts"]
    pairs = [
        (facts, model.LintFacts),
        (facts, model.FailedProbeFacts),
        (facts, model.PostgresReportFacts),
        (facts, model.MySQLReportFacts),
        (facts["properties"]["pooler"], model.PoolerFacts),
        (facts["properties"]["tls"], model.PostgresTLS),
        (facts["properties"]["tls"], model.MySQLTLS),
        (facts["properties"]["tls"]["properties"]["client"], model.ClientTLS),
        (facts["properties"]["tls"]["properties"]["server"], model.PostgresServerTLS),
        (facts["properties"]["tls"]["properties"]["server"], model.MySQLServerTLS),
        (url, model.URLFacts),
        (url["properties"]["endpoint"], model.EndpointFacts),
        (schema["properties"]["target"], model.TargetSummary),
    ]
    for part, typed in pairs:  # what the schema requires, the model always provides
        assert set(part["required"]) <= typed.__required_keys__, typed.__name__
    assert schema["properties"]["schema_version"]["const"] == model.FACTS_VERSION
    assert SCHEMA_VERSION == model.FACTS_VERSION
    report = lint(parse_target("postgresql://db.example.com/app"), checks.Context())
    assert report.to_dict()["schema_version"] == model.FACTS_VERSION


# -- Context is made once --------------------------------------------------------------


def test_context_is_frozen_and_probe_and_lint_leave_the_callers_alone(pg_plain):
    target = parse_target(pg_plain.url())
    ctx = checks.Context(orm="prisma")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.target = target  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ctx.concurrency = 10  # type: ignore[misc]
    lint(target, ctx)
    probe(target, ctx, timeout=10)
    assert ctx.target is None and ctx == checks.Context(orm="prisma")  # no copy was changed


# -- one catalog match per target --------------------------------------------------------


@pytest.fixture
def match_calls(monkeypatch):
    """Every call of providers.match_endpoint, through whichever module calls it."""
    calls: list[tuple] = []
    real = providers.match_endpoint

    def counted(engine, host, port, *rest, **kw):
        calls.append((engine, host, port))
        return real(engine, host, port, *rest, **kw)

    for module in list(sys.modules.values()):
        if (getattr(module, "__name__", "") or "").startswith("advisor") and (
            getattr(module, "match_endpoint", None) is real
        ):
            monkeypatch.setattr(module, "match_endpoint", counted)
    return calls


def test_the_catalog_is_matched_once_per_target(match_calls, pg_plain, maria):
    pooled = parse_target(
        "postgresql://postgres.abcdefghijklmnopqrst:x@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    )
    direct = parse_target("postgresql://app:x@db.abcdefghijklmnopqrst.supabase.co:5432/postgres")
    lint(pooled, checks.Context())
    assert len(match_calls) == 1
    lint(pooled, checks.Context(direct_target=direct))
    assert len(match_calls) == 1 + 2
    match_calls.clear()
    probe(parse_target(pg_plain.url()), checks.Context(), timeout=10)
    assert len(match_calls) == 1
    match_calls.clear()
    pg = parse_target(pg_plain.url())
    probe(pg, checks.Context(direct_target=pg), timeout=10)
    assert len(match_calls) == 2  # the URL and the direct URL: two targets
    match_calls.clear()
    report = probe(parse_target(maria.url()), checks.Context(), timeout=10)
    assert report.exit_code() != 3 and len(match_calls) == 1
