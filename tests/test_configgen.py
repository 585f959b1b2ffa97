"""The config generator's logic (advisor/configgen.py), which the browser tool runs: for every
PostgreSQL provider x ORM x platform x Prisma major, the snippets say what the catalog says."""

from __future__ import annotations

import json
import re

import pytest

from advisor import configgen
from advisor.catalog.providers import load_providers
from advisor.options import ORMS

PG = {pid: p for pid, p in load_providers().items() if "postgresql" in p["engines"]}
CASES = [
    (pid, orm, platform, major)
    for pid in PG
    for orm in ORMS
    for platform in (x["id"] for x in configgen.PLATFORMS)
    for major in configgen.PRISMA_MAJORS
]


def _pg_endpoints(p: dict, role: str) -> list[dict]:
    return [e for e in p["endpoints"] if e.get("role") == role and e["engine"] == "postgresql"]


def _chosen_pooled(p: dict) -> dict | None:
    """A transaction-mode pooler if the provider has one, else its first pooled endpoint."""
    pooled = _pg_endpoints(p, "pooled")
    return next((e for e in pooled if e.get("pool_mode") == "transaction"), None) or next(
        iter(pooled), None
    )


def _no_prepared_statements(p: dict) -> bool:
    e = _chosen_pooled(p)
    return (
        e is not None
        and e.get("pool_mode") == "transaction"
        and e.get("prepared_statements") is not True
    )


def _env(out: dict) -> dict[str, str]:
    title, code = out["blocks"][0]
    assert title == "Environment variables"
    return dict(re.fullmatch(r'([A-Z_]+)="(.*)"', line).groups() for line in code.splitlines())


def _serverless(platform: str) -> bool:
    return next(x for x in configgen.PLATFORMS if x["id"] == platform)["serverless"]


def test_the_catalog_has_both_kinds_of_pooler():
    # Otherwise the prepared-statement assertions below would test only one side.
    kinds = {_no_prepared_statements(p) for p in PG.values() if _chosen_pooled(p)}
    assert kinds == {True, False}
    assert any(_chosen_pooled(p) is None for p in PG.values())


def test_providers_are_the_postgresql_ones_in_catalog_order():
    assert configgen.providers() == [{"id": pid, "name": p["name"]} for pid, p in PG.items()]


def test_platforms_are_plain_data():
    ids = [x["id"] for x in configgen.PLATFORMS]
    assert len(ids) == len(set(ids)) and "server" in ids and "vercel" in ids
    for x in configgen.PLATFORMS:
        assert set(x) == {"id", "name", "serverless", "note"}
        assert isinstance(x["serverless"], bool) and x["name"] and x["note"]
    assert {x["serverless"] for x in configgen.PLATFORMS} == {True, False}
    json.dumps(configgen.PLATFORMS)


@pytest.mark.parametrize("pid,orm,platform,major", CASES)
def test_every_combination(pid, orm, platform, major):
    p, serverless = PG[pid], _serverless(platform)
    out = configgen.generate(pid, orm, platform, major)
    assert json.loads(json.dumps(out)) == out  # lists and strings only: what the page gets
    env, titles = _env(out), [t for t, _ in out["blocks"]]
    text = "\n".join(code for _, code in out["blocks"])
    params = (p["orm"].get(orm) or {}).get("pooled_params") or {}
    pooled, no_prep = _chosen_pooled(p), _no_prepared_statements(p)
    app_url = env["DATABASE_URL"]

    # The application goes through the pooler, with the catalog's parameters, one query string.
    if pooled is not None:
        assert app_url.startswith(configgen.example_url(pooled["example"]))
    else:
        assert any("No pooler for" in n for n in out["notes"])
    assert app_url.count("?") <= 1
    query = app_url.partition("?")[2].split("&")
    for k, v in params.items():
        assert f"{k}={v}" in query
    assert ("DIRECT_URL" in env) == (orm != "node-postgres")
    assert out["notes"][0] == next(x["note"] for x in configgen.PLATFORMS if x["id"] == platform)

    if orm == "prisma":
        assert ("pgbouncer=true" in app_url) == (no_prep or params.get("pgbouncer") == "true")
        if major == 6:
            assert titles == ["Environment variables", "schema.prisma (Prisma 6)"]
            assert 'directUrl = env("DIRECT_URL")' in text
            assert ("connection_limit=1" in app_url) == serverless
        else:
            assert titles == ["Environment variables", "prisma.config.ts (Prisma 7)", "db.ts"]
            assert "PrismaPg" in text and "connection_limit" not in text
            assert f"max: {1 if serverless else 10} }}" in text
    else:
        assert ("pgbouncer=true" in app_url) == (params.get("pgbouncer") == "true")
        assert "connection_limit" not in app_url
    if orm == "drizzle":
        assert "drizzle-orm/postgres-js" in text and "process.env.DIRECT_URL" in text
        assert ("prepare: false" in text) == no_prep
    if orm == "node-postgres":
        assert "new pg.Pool(" in text and "idleTimeoutMillis" in text
        assert f"max: {1 if serverless else 10}," in text
    if orm == "django":
        assert '"DISABLE_SERVER_SIDE_CURSORS": True' in text
        assert f'"CONN_MAX_AGE": {0 if serverless else 60},' in text
        assert ('"prepare_threshold": None' in text) == no_prep
        assert ["migrate", 'DATABASE_URL="$DIRECT_URL" python manage.py migrate'] in out["blocks"]
    if orm == "sqlalchemy":
        assert ("poolclass=NullPool" in text) == (serverless or pooled is not None)
        assert ('"prepare_threshold": None' in text) == no_prep
    if orm == "rails":
        assert "prepared_statements: false" in text and "advisory_locks: false" in text
        assert f"pool: {1 if serverless else 5}" in text


def test_supabase_prisma_on_vercel():
    out = configgen.generate("supabase", "prisma", "vercel", 6)
    env = _env(out)
    assert ":6543/" in env["DATABASE_URL"]
    assert env["DATABASE_URL"].endswith("&pgbouncer=true&connection_limit=1")
    assert ":6543/" not in env["DIRECT_URL"]


def test_example_url_and_pick():
    assert configgen.example_url("use postgresql://u:p@h:6543/db?x=1 (pooled)") == (
        "postgresql://u:p@h:6543/db?x=1"
    )
    assert configgen.example_url("no URL here") is None and configgen.example_url(None) is None
    provider = {
        "endpoints": [
            dict(role="pooled", engine="postgresql", pool_mode="session", id="s"),
            dict(role="pooled", engine="mysql", pool_mode="transaction", id="m"),
            dict(role="pooled", engine="postgresql", pool_mode="transaction", id="t"),
            dict(role="direct", engine="postgresql", id="d"),
            dict(role="direct", engine="postgresql", for_migrations=True, id="mig"),
        ]
    }
    assert configgen.pick(provider, "pooled")["id"] == "t"
    assert configgen.pick(provider, "pooled", "mysql")["id"] == "m"
    assert configgen.pick(provider, "direct")["id"] == "mig"
    assert configgen.pick({"endpoints": []}, "pooled") is None


@pytest.mark.parametrize(
    "args,named",
    [
        (("nope", "prisma", "vercel", 6), "provider 'nope'"),
        ((None, "prisma", "vercel", 6), "provider None"),
        (("supabase", "typeorm", "vercel", 6), "ORM or driver 'typeorm'"),
        (("supabase", "prisma", "heroku", 6), "platform 'heroku'"),
        (("supabase", "prisma", "vercel\nx", 6), "platform 'vercel\\nx'"),
        (("supabase", "prisma", "vercel", 5), "Prisma major version 5"),
        (("supabase", "prisma", "vercel", "6"), "Prisma major version '6'"),
        (("supabase", "drizzle", "vercel", True), "Prisma major version True"),
    ],
)
def test_bad_input_is_one_line(args, named):
    with pytest.raises(ValueError) as exc:
        configgen.generate(*args)
    message = str(exc.value)
    assert named in message and "\n" not in message and len(message) < 300
