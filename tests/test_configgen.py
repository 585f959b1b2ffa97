"""The config generator (advisor/configgen.py), which the browser tool and the provider pages
run: for every provider endpoint x every stack of the stack catalog, the snippet's URL passes
`advisor lint` with that stack, and every setting in it comes from the catalogs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from advisor import configgen
from advisor.catalog import stacks as stack_catalog
from advisor.catalog.providers import load_providers
from advisor.catalog.stacks import load_stacks
from advisor.webtools import run_cli

PROVIDERS = load_providers()
STACKS = load_stacks()
ENDPOINTS = [(pid, e["id"]) for pid, p in PROVIDERS.items() for e in p["endpoints"]]


def _filled(url: str, port: int | None) -> str:
    """An example URL with its <placeholders> filled, as `advisor lint` takes it."""
    url = re.sub(r":<[^>]+>(?=/|$)", f":{port or 5432}", url)
    return re.sub(r"<[^>]+>", "abc", url)


def _lint(out: dict, platform: str, major: int, url: str) -> dict:
    s = out["stack"]
    argv = ["lint", "--format", "json"]
    argv.append("--serverless" if platform != "server" else "--no-serverless")
    if s["orm"]:
        argv += ["--orm", s["orm"]]
    argv += ["--driver", s["driver"]]
    if s["orm"] == "prisma":
        argv += ["--prisma-version", str(major)]
    for option in out["in_code"]:  # what the code sets; the URL speaks for itself
        argv += ["--driver-option", option]
    if "DIRECT_URL" in out["urls"]:
        argv += ["--direct-url", _filled(out["urls"]["DIRECT_URL"], None)]
    code, stdout, stderr = run_cli([*argv, "--", url])
    assert stdout, stderr
    return {f["id"]: f for f in json.loads(stdout)["findings"]}


def _uncovered(stack_id: str, driver: str) -> list[dict]:
    """Features the stack uses by default that have no safe option in the catalog: the
    generator can only show their fix line (a gap in the catalog, not in the generator)."""
    orm = stack_id if STACKS[stack_id]["kind"] == "orm" else None
    stack = (
        stack_catalog.resolve(orm, driver if orm else None)
        if orm
        else stack_catalog.resolve(driver=driver)
    )
    return [
        f
        for name, f in stack.features.items()
        if f["usage"] == "default" and not f.get("safe_options") and name not in configgen.PREPARED
    ]


@pytest.mark.parametrize("pid,endpoint", ENDPOINTS)
def test_every_stack_on_every_endpoint_lints_clean(pid, endpoint):
    e = next(x for x in PROVIDERS[pid]["endpoints"] if x["id"] == endpoint)
    # Serverless code on a pooled endpoint; a direct one from a long-running server.
    platform = "vercel" if e["role"] == "pooled" else "server"
    seen = 0
    for sid, entry in STACKS.items():
        for major in configgen.PRISMA_MAJORS if sid == "prisma" else (6,):
            try:
                out = configgen.generate(pid, sid, platform, major, endpoint=endpoint)
            except ValueError as exc:  # only what the catalog cannot offer
                message = str(exc)
                assert "\n" not in message
                assert (
                    e["engine"] not in entry["engines"]
                    or "runs on no mysql driver" in message
                    or (configgen._prisma_only(e) and sid != "prisma")
                ), message
                continue
            seen += 1
            assert json.loads(json.dumps(out)) == out
            text = "\n".join(code for _, code in out["blocks"])
            app = out["urls"]["DATABASE_URL"]
            example = configgen.example_url(e["example"])
            assert app.startswith(example or configgen.PLACEHOLDER_URLS[e["engine"]]), app
            assert app.count("?") <= 1
            if sid in (PROVIDERS[pid].get("snippets") or {}):  # the provider's own blocks
                special = PROVIDERS[pid]["snippets"][sid].get("blocks", [])
                assert [c for _, c in special] == [
                    c for t, c in out["blocks"] if t in dict(special)
                ]
            else:
                assert "DATABASE_URL=" in out["blocks"][0][1]
            if configgen._prisma_only(e):  # Accelerate: no URL lint reads; check the direct one
                url = _filled(out["urls"]["DIRECT_URL"], 5432)
            else:
                url = _filled(app, e.get("port"))
            found = _lint(out, "server" if configgen._prisma_only(e) else platform, major, url)
            fails = {k: f["message"] for k, f in found.items() if f["status"] == "fail"}
            uncovered = _uncovered(sid, out["stack"]["driver"])
            if fails and set(fails) == {"STK102"} and uncovered:
                # The catalog has no setting to make: the snippet carries its fix line.
                assert all(f["fix"] in text for f in uncovered if f.get("fix")), (sid, text)
            else:
                assert not fails, (pid, endpoint, sid, major, out["settings"], fails)
            # Every setting is a safe option of the stack's catalog entry, in URL or code.
            for setting in out["settings"]:
                name, _, value = setting.partition("=")
                assert (
                    name in text
                    or f"{name.replace(' ', '%20')}={value}" in app
                    or (setting in out["in_code"])
                ), (sid, setting)
    assert seen


def test_safe_setting_follows_the_pool_mode():
    # asyncpg: statement_cache_size=0 where the pool loses statements, nothing where kept.
    supabase = configgen.generate("supabase", "asyncpg", "vercel")
    assert supabase["settings"] == ["statement_cache_size=0"]
    assert "statement_cache_size=0" in supabase["blocks"][1][1]
    assert "statement_cache_size" not in supabase["urls"]["DATABASE_URL"]  # not a URL option
    neon = configgen.generate("neon", "asyncpg", "vercel")
    assert neon["settings"] == [] and "statement_cache_size" not in neon["blocks"][1][1]
    # pgx reads its setting from the URL; the pool size too.
    pgx = configgen.generate("azure", "pgx", "vercel")
    assert "default_query_exec_mode=exec" in pgx["urls"]["DATABASE_URL"]
    assert "pool_max_conns=1" in pgx["urls"]["DATABASE_URL"]
    # Prisma 6 on a transaction pooler: pgbouncer=true and one connection; Prisma 7: neither.
    p6 = configgen.generate("azure", "prisma", "vercel", 6)["urls"]["DATABASE_URL"]
    assert p6.endswith("?sslmode=require&pgbouncer=true&connection_limit=1")
    p7 = configgen.generate("azure", "prisma", "vercel", 7)
    assert "pgbouncer" not in p7["urls"]["DATABASE_URL"] and "max: 1 }" in p7["blocks"][2][1]
    # A long-running server gets the catalog's default pool size.
    assert (
        "pool_max_conns=4" in configgen.generate("azure", "pgx", "server")["urls"]["DATABASE_URL"]
    )
    # Direct or session mode: nothing to set.
    assert configgen.generate("azure", "asyncpg", "server", endpoint="direct")["settings"] == []


# Heroku's Connection Pooling attachment as the provider catalog describes a pooled endpoint
# (DATABASE_CONNECTION_POOL_URL, PgBouncer in transaction mode on the database server).
HEROKU_POOL = {
    "id": "connection-pooling",
    "label": "Connection Pooling attachment (PgBouncer on the database server)",
    "engine": "postgresql",
    "role": "pooled",
    "pooler": "pgbouncer",
    "pool_mode": "transaction",
    "example": "postgres://<user>:<password>@ec2-<ip>.compute-1.amazonaws.com:5432/<db>",
    "env_var": "DATABASE_CONNECTION_POOL_URL",
    "for_migrations": False,
}


def test_heroku_connection_pooling_attachment(monkeypatch):
    catalog = {k: dict(v) for k, v in PROVIDERS.items()}
    catalog["heroku"]["endpoints"] = [HEROKU_POOL, *PROVIDERS["heroku"]["endpoints"]]
    monkeypatch.setattr(configgen, "load_providers", lambda: catalog)
    for e in PROVIDERS["heroku"]["endpoints"]:  # once the catalog has it, the real one too
        if e["role"] == "pooled":
            catalog["heroku"]["endpoints"].append(e)
    for pooled in [x for x in catalog["heroku"]["endpoints"] if x["role"] == "pooled"]:
        out = configgen.generate("heroku", "rails", "vercel", endpoint=pooled["id"])
        assert out["stack"]["endpoint"] == pooled["id"]
        assert out["urls"]["DATABASE_URL"].startswith(configgen.example_url(pooled["example"]))
        assert out["urls"]["DIRECT_URL"] == configgen.example_url(
            next(x for x in PROVIDERS["heroku"]["endpoints"] if x["id"] == "direct")["example"]
        )
        notes = " ".join(out["notes"])
        assert f"as {pooled['env_var']}: use its value as DATABASE_URL" in notes
        assert "as DATABASE_URL: use its value as DIRECT_URL" in notes
        yml = dict(out["blocks"])["config/database.yml"]
        assert "prepared_statements: false" in yml and "max_connections: 1" in yml
    default = configgen.generate("heroku", "asyncpg", "vercel")  # the pooled one is the default
    assert default["stack"]["endpoint"] == "connection-pooling"
    assert default["settings"] == ["statement_cache_size=0"]


def test_mysql_providers():
    mysql = configgen.generate("aws-rds", "mysql2", "vercel")
    assert mysql["stack"]["endpoint"] == "rds-proxy-mysql"
    assert "connectionLimit: 1" in mysql["blocks"][1][1]
    drizzle = configgen.generate("planetscale", "drizzle", "vercel", endpoint="vitess-mysql")
    assert drizzle["stack"]["driver"] == "mysql2"
    prisma = configgen.generate("digitalocean", "prisma", "vercel", endpoint="mysql-direct")
    assert 'provider  = "mysql"' in prisma["blocks"][1][1]
    assert prisma["urls"]["DATABASE_URL"].startswith("mysql://")


def test_settings_come_from_the_stack_catalog(tmp_path, monkeypatch):
    copy = tmp_path / "stacks.toml"
    shutil.copy(stack_catalog.CATALOG_FILE, copy)
    text = Path(copy).read_text()
    old = 'fix = "await asyncpg.connect(dsn, statement_cache_size=0)'
    assert old in text
    text = text.replace(old, 'fix = "asyncpg.connect(dsn, statement_cache_size=0, marker=1)')
    text = text.replace(
        'setting = "asyncpg.create_pool(dsn, min_size=1, max_size=N)"',
        'setting = "asyncpg.create_pool(dsn, max_size=N, marker=2)"',
    )
    Path(copy).write_text(text)
    changed = stack_catalog.read_stacks(copy)
    monkeypatch.setattr(stack_catalog, "load_stacks", lambda: changed)
    monkeypatch.setattr(configgen, "load_stacks", lambda: changed)
    code = configgen.generate("supabase", "asyncpg", "vercel")["blocks"][1][1]
    assert "asyncpg.connect(dsn, statement_cache_size=0, marker=1)" in code
    assert "asyncpg.create_pool(dsn, max_size=1, marker=2)" in code


def test_platforms_are_plain_data():
    ids = [x["id"] for x in configgen.PLATFORMS]
    assert len(ids) == len(set(ids)) and "server" in ids and "vercel" in ids
    for x in configgen.PLATFORMS:
        assert set(x) == {"id", "name", "serverless", "note"}
        assert isinstance(x["serverless"], bool) and x["name"] and x["note"]
    assert {x["serverless"] for x in configgen.PLATFORMS} == {True, False}
    json.dumps(configgen.PLATFORMS)


def test_choices_are_every_provider_endpoint_and_stack():
    assert [p["id"] for p in configgen.providers()] == list(PROVIDERS)
    assert sum(len(p["endpoints"]) for p in configgen.providers()) == len(ENDPOINTS)
    assert [s["id"] for s in configgen.stacks()] == list(STACKS)


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
        (("supabase", "nope", "vercel", 6), "ORM or driver 'nope'"),
        (("supabase", "prisma", "heroku", 6), "platform 'heroku'"),
        (("supabase", "prisma", "vercel\nx", 6), "platform 'vercel\\nx'"),
        (("supabase", "prisma", "vercel", 5), "Prisma major version 5"),
        (("supabase", "prisma", "vercel", "6"), "Prisma major version '6'"),
        (("supabase", "drizzle", "vercel", True), "Prisma major version True"),
        (("supabase", "pymysql", "vercel", 6), "PyMySQL speaks mysql"),
        (("supabase", "asyncpg", "vercel", 6, "nope"), "Supabase endpoint 'nope'"),
        (("aws-rds", "asyncpg", "vercel", 6, "rds-proxy-mysql"), "does not speak mysql"),
        (("prisma-postgres", "asyncpg", "vercel", 6, "accelerate"), "only Prisma"),
    ],
)
def test_bad_input_is_one_line(args, named):
    with pytest.raises(ValueError) as exc:
        configgen.generate(*args)
    message = str(exc.value)
    assert named in message and "\n" not in message and len(message) < 300


def _endpoint(pid: str, eid: str) -> dict:
    return next(e for e in PROVIDERS[pid]["endpoints"] if e["id"] == eid)


def test_corrected_url_adds_and_removes_the_stacks_url_settings():
    u = "postgresql://u.x:***@h:6543/postgres?sslmode=require"
    supabase, neon = _endpoint("supabase", "supavisor-transaction"), _endpoint("neon", "pooled")
    p6 = configgen.corrected_url(u, supabase, "prisma", None, 6)
    assert p6["url"] == u + "&pgbouncer=true&connection_limit=1" and not p6["removed"]
    p7 = configgen.corrected_url(
        u + "&pgbouncer=true&connection_limit=1", supabase, "prisma", None, 7
    )
    assert p7["url"] == u and p7["removed"] == ["pgbouncer=true", "connection_limit=1"]
    pgx = configgen.corrected_url(u, supabase, None, "pgx")
    assert pgx["added"] == ["default_query_exec_mode=exec", "pool_max_conns=1"]
    kept = configgen.corrected_url(
        u + "&default_query_exec_mode=exec", neon, None, "pgx", None, False
    )
    assert kept["url"] == u and kept["removed"] == ["default_query_exec_mode=exec"]
    asyncpg = configgen.corrected_url(u, supabase, None, "asyncpg")
    assert asyncpg["url"] == u and asyncpg["in_code"] == ["statement_cache_size=0"]
    assert configgen.corrected_url(u, supabase) is None


@pytest.mark.parametrize("sid", [s for s in STACKS if "postgresql" in STACKS[s]["engines"]])
def test_corrected_url_lints_clean_on_every_pooled_endpoint(sid):
    kind = STACKS[sid]["kind"]
    orm, driver = (sid, None) if kind == "orm" else (None, sid)
    for pid, p in PROVIDERS.items():
        for e in p["endpoints"]:
            example = configgen.example_url(e.get("example"))
            if e["role"] != "pooled" or e["engine"] != "postgresql" or not example:
                continue
            if example.startswith("prisma+"):
                continue
            url = _filled(example, e.get("port"))
            fixed = configgen.corrected_url(url, e, orm, driver, 6 if sid == "prisma" else None)
            argv = ["lint", "--format", "json", "--serverless"]
            argv += ["--orm", orm] if orm else ["--driver", driver]
            for option in fixed["in_code"]:
                argv += ["--driver-option", option]
            code, stdout, _ = run_cli([*argv, "--", fixed["url"]])
            found = {f["id"]: f for f in json.loads(stdout)["findings"]}
            if "STK101" in found:
                assert found["STK101"]["status"] == "pass", (pid, e["id"], fixed, found["STK101"])


def test_check_url_hands_back_the_corrected_url_and_no_command_line_finding():
    from advisor.webtools import check_url, lint_argv

    url = "postgresql://postgres.abc:s3cret@aws-0-eu.pooler.supabase.com:6543/postgres?sslmode=require"
    code, stdout, _ = run_cli(lint_argv(url, orm="prisma", prisma_version=6))
    assert "URL301" in {f["id"] for f in json.loads(stdout)["findings"]}  # the CLI's own
    got = check_url(url, orm="prisma", prisma_version=6)
    assert "URL301" not in {f["id"] for f in got["report"]["findings"]}
    assert got["report"]["summary"]["warn"] == sum(
        f["status"] == "warn" for f in got["report"]["findings"]
    )
    assert got["corrected"]["url"].endswith("?sslmode=require&pgbouncer=true&connection_limit=1")
    assert "s3cret" not in json.dumps(got) and ":***@" in got["corrected"]["url"]
    assert check_url(url)["corrected"] is None
