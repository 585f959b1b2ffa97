"""Shape checks for the provider catalog (advisor/catalog/providers.toml) and
the host/port matcher. Pure data: no network, no servers, no DB drivers."""

from __future__ import annotations

import ast
import datetime as dt
import re
import tomllib
from pathlib import Path

import pytest

from advisor.catalog import providers as catalog

TOML_PATH = Path(catalog.__file__).with_name("providers.toml")
TODAY = dt.date.today()

REQUIRED_PROVIDERS = {
    "supabase",
    "neon",
    "vercel",
    "prisma-postgres",
    "heroku",
    "digitalocean",
    "aws-rds",
    "azure",
    "google-cloud-sql",
    "render",
    "railway",
    "aiven",
    "crunchy-bridge",
    "planetscale",
    "cloudflare-hyperdrive",
    "self-hosted",
}
PROVIDER_KEYS = ("name", "engines", "docs_page", "summary", "host_regex", "tls")
ENDPOINT_KEYS = ("id", "label", "engine", "role", "host_regex", "source", "checked", "verified")
# Regex features that JS lacks or that we ban for portability.
NON_PORTABLE = re.compile(r"\(\?<[=!]|\(\?P|\(\?<[A-Za-z]|\(\?[aiLmsux]+[):]")


@pytest.fixture(scope="module")
def raw() -> dict:
    with TOML_PATH.open("rb") as fh:
        return tomllib.load(fh)


@pytest.fixture(scope="module")
def providers(raw) -> dict:
    return raw["providers"]


def iter_cited(providers):
    """Every table that must carry source/checked/verified: (where, table)."""
    for pid, p in providers.items():
        yield f"{pid}.tls", p["tls"]
        if "max_connections" in p:
            yield f"{pid}.max_connections", p["max_connections"]
        for e in p.get("endpoints", []):
            yield f"{pid}.endpoints.{e.get('id')}", e
        for i, f in enumerate(p.get("facts", [])):
            yield f"{pid}.facts[{i}]", f
        for pit in p.get("pitfalls", []):
            yield f"{pid}.pitfalls.{pit.get('id')}", pit
        for orm, entry in p.get("orm", {}).items():
            yield f"{pid}.orm.{orm}", entry


def iter_regexes(providers):
    for pid, p in providers.items():
        for rx in p["host_regex"]:
            yield f"{pid}.host_regex", rx
        for e in p.get("endpoints", []):
            yield f"{pid}.endpoints.{e['id']}.host_regex", e["host_regex"]
            if "user_regex" in e:
                yield f"{pid}.endpoints.{e['id']}.user_regex", e["user_regex"]


# --------------------------------------------------------------------------- file-level


def test_toml_loads_and_schema_version(raw):
    assert raw["schema_version"] == 1
    assert isinstance(raw["providers"], dict) and raw["providers"]


def test_required_providers_present(providers):
    missing = REQUIRED_PROVIDERS - set(providers)
    assert not missing, f"missing providers: {sorted(missing)}"


def test_only_self_hosted_is_generic(providers):
    generic = {pid for pid, p in providers.items() if p.get("generic")}
    assert generic == {"self-hosted"}


# --------------------------------------------------------------------------- providers


@pytest.mark.parametrize("pid", sorted(REQUIRED_PROVIDERS))
def test_provider_required_keys(providers, pid):
    p = providers[pid]
    for key in PROVIDER_KEYS:
        assert key in p, f"{pid} lacks {key}"
    assert isinstance(p["name"], str) and p["name"].strip()
    assert isinstance(p["summary"], str) and p["summary"].strip()
    assert p["engines"] and set(p["engines"]) <= set(catalog.ENGINES)
    assert p["docs_page"] == f"providers/{pid}"
    assert isinstance(p["host_regex"], list)
    if not p.get("generic"):
        assert p["host_regex"], f"{pid} needs at least one host_regex"
    assert isinstance(p["tls"].get("required"), bool)
    assert isinstance(p["tls"].get("note"), str) and p["tls"]["note"].strip()
    if "max_connections" in p:
        assert p["max_connections"]["note"].strip()
    assert p.get("homepage", "https://").startswith("https://")


@pytest.mark.parametrize("pid", sorted(REQUIRED_PROVIDERS - {"self-hosted"}))
def test_facts_count(providers, pid):
    n = len(providers[pid].get("facts", []))
    assert 3 <= n <= 8, f"{pid} has {n} facts (want 3-8)"


def test_every_cited_table_has_source_checked_verified(providers):
    problems = []
    for where, table in iter_cited(providers):
        src = table.get("source")
        if not (isinstance(src, str) and re.match(r"^https?://\S+$", src)):
            problems.append(f"{where}: bad source {src!r}")
        checked = table.get("checked")
        try:
            day = dt.date.fromisoformat(checked)
        except (TypeError, ValueError):
            problems.append(f"{where}: bad checked {checked!r}")
        else:
            if day > TODAY:
                problems.append(f"{where}: checked {checked} is in the future")
        if not isinstance(table.get("verified"), bool):
            problems.append(f"{where}: verified must be true/false")
    assert not problems, "\n".join(problems)


def test_text_fields_non_empty(providers):
    for pid, p in providers.items():
        for f in p.get("facts", []):
            assert f["text"].strip(), pid
            if "outdated_seed_claim" in f:
                assert f["outdated_seed_claim"].strip(), pid
        for pit in p.get("pitfalls", []):
            assert pit["id"].strip() and pit["title"].strip() and pit["text"].strip(), pid
        for orm, entry in p.get("orm", {}).items():
            assert orm in catalog.ORMS, f"{pid}: unknown ORM {orm}"
            assert isinstance(entry["pooled_params"], dict), f"{pid}.{orm}"
            assert all(isinstance(v, str) for v in entry["pooled_params"].values()), f"{pid}.{orm}"
            assert isinstance(entry["direct_url"], bool), f"{pid}.{orm}"
            assert entry["note"].strip(), f"{pid}.{orm}"


def test_pitfall_ids_unique(providers):
    ids = [pit["id"] for p in providers.values() for pit in p.get("pitfalls", [])]
    assert len(ids) == len(set(ids))


def test_seed_corrections_present(providers):
    """The seed page's outdated claims are each corrected by a cited fact."""
    claims = " ".join(
        f.get("outdated_seed_claim", "") for p in providers.values() for f in p.get("facts", [])
    ).lower()
    for needle in (
        "pgbouncer for connection pooling",
        "supabase.io",
        "6543",
        "pgbouncer=true",
        "same vpc",
        "mysql is not yet supported",
    ):
        assert needle in claims, f"no fact corrects the seed claim about {needle!r}"


# --------------------------------------------------------------------------- endpoints


def test_endpoint_shape(providers):
    problems = []
    for pid, p in providers.items():
        seen = set()
        for e in p.get("endpoints", []):
            where = f"{pid}.{e.get('id')}"
            for key in ENDPOINT_KEYS:
                if key not in e:
                    problems.append(f"{where}: missing {key}")
            if e.get("id") in seen:
                problems.append(f"{where}: duplicate endpoint id")
            seen.add(e.get("id"))
            if e.get("engine") not in catalog.ENGINES or e.get("engine") not in p["engines"]:
                problems.append(f"{where}: engine {e.get('engine')!r}")
            if e.get("role") not in catalog.ROLES:
                problems.append(f"{where}: role {e.get('role')!r}")
            if "pooler" in e and e["pooler"] not in catalog.POOLERS:
                problems.append(f"{where}: pooler {e['pooler']!r}")
            if "pool_mode" in e and e["pool_mode"] not in catalog.POOL_MODES:
                problems.append(f"{where}: pool_mode {e['pool_mode']!r}")
            if e.get("role") == "direct" and ("pooler" in e or "pool_mode" in e):
                problems.append(f"{where}: direct endpoint names a pooler/pool_mode")
            if e.get("role") == "pooled" and "pooler" not in e:
                problems.append(f"{where}: pooled endpoint without pooler")
            if "port" in e and not (isinstance(e["port"], int) and 0 < e["port"] < 65536):
                problems.append(f"{where}: port {e['port']!r}")
            for flag in ("prepared_statements", "for_migrations", "ipv6_only"):
                if flag in e and not isinstance(e[flag], bool):
                    problems.append(f"{where}: {flag} must be a boolean")
            for num in ("max_prepared_statements",):
                if num in e and not (isinstance(e[num], int) and e[num] >= 0):
                    problems.append(f"{where}: {num} must be a non-negative integer")
            if "example" in e and re.search(r"://[^:/@<]+:[^<@/]+@", e["example"]):
                problems.append(f"{where}: example looks like it holds a real password")
    assert not problems, "\n".join(problems)


def test_regexes_compile_and_are_portable(providers):
    problems = []
    for where, rx in iter_regexes(providers):
        try:
            re.compile(rx, re.IGNORECASE)
        except re.error as exc:
            problems.append(f"{where}: {rx!r} does not compile: {exc}")
        if NON_PORTABLE.search(rx):
            problems.append(f"{where}: {rx!r} uses lookbehind, named groups or inline flags")
    assert not problems, "\n".join(problems)


def test_generic_endpoints_match_any_host(providers):
    for e in providers["self-hosted"]["endpoints"]:
        assert e["host_regex"] == ".*"
        assert "port" in e, "generic endpoints are matched by port only"


# --------------------------------------------------------------------------- matcher


def test_loader_is_cached_and_keeps_order(raw):
    a = catalog.load_providers()
    assert a is catalog.load_providers()
    assert list(a) == list(raw["providers"])
    assert all(a[pid]["id"] == pid for pid in a)


def test_loader_does_not_import_drivers():
    """The docs site and lint commands import the loader without DB drivers installed."""
    tree = ast.parse(Path(catalog.__file__).read_text())
    imported = {
        (n.module or "") if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in (n.names if isinstance(n, ast.Import) else [n])
    }
    assert not any(m.split(".")[0] in {"psycopg", "psycopg2", "pymysql"} for m in imported)


# (engine, host, port, expected provider, expected endpoint id or role, expected host provider)
MATCH_CASES = [
    # Supabase: same pooler host, port decides the mode; db host 5432 vs 6543
    (
        "postgresql",
        "aws-0-eu-central-1.pooler.supabase.com",
        6543,
        "supabase",
        "supavisor-transaction",
        "supabase",
    ),
    (
        "postgresql",
        "aws-0-eu-central-1.pooler.supabase.com",
        5432,
        "supabase",
        "supavisor-session",
        "supabase",
    ),
    (
        "postgresql",
        "AWS-1-us-east-1.pooler.supabase.com",
        None,
        "supabase",
        "supavisor-session",
        "supabase",
    ),
    ("postgresql", "db.abcdefghijklmnop.supabase.co", 5432, "supabase", "direct", "supabase"),
    (
        "postgresql",
        "db.abcdefghijklmnop.supabase.co",
        6543,
        "supabase",
        "dedicated-pgbouncer",
        "supabase",
    ),
    ("postgresql", "db.abcdefghijklmnop.supabase.co", 7777, "supabase", None, "supabase"),
    # Neon: -pooler suffix decides
    (
        "postgresql",
        "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech",
        None,
        "neon",
        "pooled",
        "neon",
    ),
    (
        "postgresql",
        "ep-cool-darkness-123456.us-east-2.aws.neon.tech",
        5432,
        "neon",
        "direct",
        "neon",
    ),
    # Legacy Vercel Postgres
    (
        "postgresql",
        "ep-small-cake-15698116-pooler.us-east-1.postgres.vercel-storage.com",
        5432,
        "vercel",
        "legacy-pooled",
        "vercel",
    ),
    (
        "postgresql",
        "ep-small-cake-15698116.us-east-1.postgres.vercel-storage.com",
        5432,
        "vercel",
        "legacy-direct",
        "vercel",
    ),
    # Prisma Postgres
    ("postgresql", "pooled.db.prisma.io", 5432, "prisma-postgres", "pooled", "prisma-postgres"),
    ("postgresql", "db.prisma.io", 5432, "prisma-postgres", "direct", "prisma-postgres"),
    # DigitalOcean: 25061 pool vs 25060 direct, MySQL direct only
    (
        "postgresql",
        "db-postgresql-nyc3-37693-do-user-27496845-0.k.db.ondigitalocean.com",
        25061,
        "digitalocean",
        "pgbouncer-pool",
        "digitalocean",
    ),
    (
        "postgresql",
        "db-postgresql-nyc3-37693-do-user-27496845-0.k.db.ondigitalocean.com",
        25060,
        "digitalocean",
        "direct",
        "digitalocean",
    ),
    (
        "postgresql",
        "backend-do-user-19081923-0.db.ondigitalocean.com",
        25061,
        "digitalocean",
        "pgbouncer-pool",
        "digitalocean",
    ),
    (
        "mysql",
        "db-mysql-fra1-1234-do-user-1-0.b.db.ondigitalocean.com",
        25060,
        "digitalocean",
        "mysql-direct",
        "digitalocean",
    ),
    # AWS: RDS Proxy vs instance vs Aurora cluster
    (
        "postgresql",
        "my-proxy.proxy-abcdefghijkl.us-east-1.rds.amazonaws.com",
        5432,
        "aws-rds",
        "rds-proxy-postgresql",
        "aws-rds",
    ),
    (
        "postgresql",
        "reader.endpoint.proxy-abcdefghijkl.us-east-1.rds.amazonaws.com",
        5432,
        "aws-rds",
        "rds-proxy-postgresql",
        "aws-rds",
    ),
    (
        "mysql",
        "my-proxy.proxy-abcdefghijkl.eu-west-1.rds.amazonaws.com",
        None,
        "aws-rds",
        "rds-proxy-mysql",
        "aws-rds",
    ),
    (
        "postgresql",
        "mydb.abcdefghijkl.us-east-1.rds.amazonaws.com",
        5432,
        "aws-rds",
        "instance-postgresql",
        "aws-rds",
    ),
    (
        "postgresql",
        "mycluster.cluster-ro-abcdefghijkl.us-east-1.rds.amazonaws.com",
        5432,
        "aws-rds",
        "cluster-postgresql",
        "aws-rds",
    ),
    # Azure: 6432 built-in PgBouncer vs 5432 direct
    ("postgresql", "myserver.postgres.database.azure.com", 6432, "azure", "pgbouncer", "azure"),
    ("postgresql", "myserver.postgres.database.azure.com", 5432, "azure", "direct", "azure"),
    (
        "postgresql",
        "myserver.postgres.database.azure.com",
        8432,
        "azure",
        "pgbouncer-elastic-workers",
        "azure",
    ),
    # PlanetScale: Postgres 6432 vs 5432, Vitess MySQL
    (
        "postgresql",
        "abcd1234-useast1-1.horizon.psdb.cloud",
        6432,
        "planetscale",
        "postgres-pgbouncer",
        "planetscale",
    ),
    (
        "postgresql",
        "abcd1234-useast1-1.horizon.psdb.cloud",
        5432,
        "planetscale",
        "postgres-direct",
        "planetscale",
    ),
    ("mysql", "aws.connect.psdb.cloud", None, "planetscale", "vitess-mysql", "planetscale"),
    # Crunchy Bridge 5431 pooler
    (
        "postgresql",
        "p.43lmodgbqvdmlpbjirv22dfciu.db.postgresbridge.com",
        5431,
        "crunchy-bridge",
        "pgbouncer",
        "crunchy-bridge",
    ),
    (
        "postgresql",
        "p.43lmodgbqvdmlpbjirv22dfciu.db.postgresbridge.com",
        None,
        "crunchy-bridge",
        "direct",
        "crunchy-bridge",
    ),
    # Render, Railway, Hyperdrive, Google
    (
        "postgresql",
        "dpg-cmnu2imd3nmc739h84h0-a.frankfurt-postgres.render.com",
        5432,
        "render",
        "external-direct",
        "render",
    ),
    ("postgresql", "dpg-cmnu2imd3nmc739h84h0-a", None, "render", "internal-direct", "render"),
    ("postgresql", "pgbouncer.railway.internal", 6432, "railway", "pgbouncer", "railway"),
    ("postgresql", "postgres.railway.internal", 5432, "railway", "direct-private", "railway"),
    (
        "postgresql",
        "abc123.hyperdrive.local",
        5432,
        "cloudflare-hyperdrive",
        "binding-postgresql",
        "cloudflare-hyperdrive",
    ),
    (
        "postgresql",
        "abc.us-central1.sql.goog",
        6432,
        "google-cloud-sql",
        "managed-pooling",
        "google-cloud-sql",
    ),
    # Host known, endpoint not: Aiven ports are per service, Heroku pool port unpublished
    ("postgresql", "pg-1234abcd-myproject.aivencloud.com", 12691, "aiven", None, "aiven"),
    ("postgresql", "ec2-50-19-210-113.compute-1.amazonaws.com", 5432, "heroku", "direct", "heroku"),
    # Generic fallbacks: matched by port only, host_provider None
    ("postgresql", "localhost", 6432, "self-hosted", "pgbouncer", None),
    ("postgresql", "127.0.0.1", None, "self-hosted", "postgresql-direct", None),
    ("postgresql", "10.0.0.5", 9999, "self-hosted", "pgpool-ii", None),
    ("mysql", "proxysql.internal", 6033, "self-hosted", "proxysql", None),
    ("mysql", "db.example.com", None, "self-hosted", "mysql-direct", None),
    ("postgresql", "/var/run/postgresql", 6432, "self-hosted", "pgbouncer", None),
    ("postgresql", None, None, "self-hosted", "postgresql-direct", None),
    ("postgresql", "db.example.com", 6543, None, None, None),
]


@pytest.mark.parametrize("engine,host,port,provider,expected,host_provider", MATCH_CASES)
def test_match_endpoint(engine, host, port, provider, expected, host_provider):
    got_provider, endpoint, got_host_provider = catalog.match_endpoint(engine, host, port)
    assert got_provider == provider
    assert got_host_provider == host_provider
    if expected is None:
        assert endpoint is None
    elif expected in catalog.ROLES:
        assert endpoint is not None and endpoint["role"] == expected
    else:
        assert endpoint is not None and endpoint["id"] == expected


def test_match_roles_for_pairs():
    """The headline pooled/direct distinctions, by role."""
    pairs = [
        ("ep-a-1-pooler.us-east-2.aws.neon.tech", "ep-a-1.us-east-2.aws.neon.tech", None, None),
        ("aws-0-us-east-1.pooler.supabase.com", "db.abcdefghijklmnop.supabase.co", 6543, 5432),
        ("s.postgres.database.azure.com", "s.postgres.database.azure.com", 6432, 5432),
        (
            "c-do-user-1-0.db.ondigitalocean.com",
            "c-do-user-1-0.db.ondigitalocean.com",
            25061,
            25060,
        ),
    ]
    for pooled_host, direct_host, pooled_port, direct_port in pairs:
        _, pooled, _ = catalog.match_endpoint("postgresql", pooled_host, pooled_port)
        _, direct, _ = catalog.match_endpoint("postgresql", direct_host, direct_port)
        assert pooled["role"] == "pooled", pooled_host
        assert direct["role"] == "direct", direct_host


def test_match_case_study_table_is_large_enough():
    assert len(MATCH_CASES) >= 15


IP_HOSTS = ["127.0.0.1", "10.0.0.5", "192.168.1.20", "::1", "[::1]", "2600:1f18::1", "fe80::1"]


def test_no_host_pattern_matches_an_ip_address(providers):
    """match_endpoint skips the host patterns for IP addresses (they cost a few ms to
    compile on every run): that is only right while no pattern can match one."""
    for where, rx in iter_regexes(providers):
        if ".user_regex" in where or rx == ".*":
            continue
        for ip in IP_HOSTS:
            assert not re.search(rx, ip, re.IGNORECASE), f"{where} matches {ip}"


@pytest.mark.parametrize("ip", IP_HOSTS)
def test_ip_hosts_get_the_generic_port_match(ip):
    assert catalog.match_endpoint("postgresql", ip, 6432)[:1] == ("self-hosted",)
    assert catalog.match_endpoint("postgresql", ip, 6432)[1]["id"] == "pgbouncer"
    assert catalog.match_endpoint("mysql", ip, None)[1]["id"] == "mysql-direct"
    assert catalog.provider_for_host(ip) is None


# --------------------------------------------------------------------------- 2026-12-02 fixes
# Heroku's current hosts have Aurora's shape; Heroku's generated names tell them apart.
HEROKU_HOST = "caij57unh724n3.cluster-czrs8kj4isg7.us-east-1.rds.amazonaws.com"


@pytest.mark.parametrize(
    "user,database,provider,endpoint_id",
    [
        ("ua4egv33qg6g91", "ddggum3j7vputj", "heroku", "direct"),
        ("app_user", "ddggum3j7vputj", "aws-rds", "cluster-postgresql"),  # own user
        ("ua4egv33qg6g91", "appdb", "aws-rds", "cluster-postgresql"),  # own database
        (None, None, "aws-rds", "cluster-postgresql"),  # names unknown: no guess
    ],
)
def test_heroku_cluster_host_needs_heroku_names(user, database, provider, endpoint_id):
    got, endpoint, _ = catalog.match_endpoint("postgresql", HEROKU_HOST, 5432, user, database)
    assert (got, endpoint["id"]) == (provider, endpoint_id)


def test_heroku_pool_attachment_is_listed_but_never_matched(providers):
    pool = next(e for e in providers["heroku"]["endpoints"] if e["id"] == "connection-pool")
    assert pool["role"] == "pooled" and pool["env_var"] == "DATABASE_CONNECTION_POOL_URL"
    assert pool["matchable"] is False
    for port in (None, 5432, 5433, 6432):
        _, endpoint, _ = catalog.match_endpoint(
            "postgresql", HEROKU_HOST, port, "ua4egv33qg6g91", "ddggum3j7vputj"
        )
        assert endpoint is None or endpoint["id"] != "connection-pool"


def test_name_matched_endpoints_say_how_sure(providers):
    """An endpoint told apart by user/database names carries the notice URL211 shows."""
    for pid, p in providers.items():
        for e in p.get("endpoints", []):
            if "user_match" in e or "database_match" in e:
                assert "looks like" in e["match_note"] and "If this is" in e["match_note"], pid


@pytest.mark.parametrize(
    "host,port,endpoint_id",
    [
        ("aws-us-east-1-3.pg.psdb.cloud", 6432, "postgres-pgbouncer-regional"),
        ("us-east-3.pg.psdb.cloud", 5432, "postgres-direct-regional"),
        (
            "planetscale-main.gcp-us-central1-1.private-pg.psdb.cloud",
            5432,
            "postgres-direct-regional",
        ),
        ("xk3j9a2b1c0d-useast1-1.horizon.psdb.cloud", 6432, "postgres-pgbouncer"),
    ],
)
def test_planetscale_postgres_host_forms(host, port, endpoint_id):
    got, endpoint, _ = catalog.match_endpoint("postgresql", host, port)
    assert got == "planetscale" and endpoint["id"] == endpoint_id


@pytest.mark.parametrize(
    "user,ok",
    [
        ("postgres.xk3j9a2b1c0d", True),
        ("postgres.xk3j9a2b1c0d|replica", True),
        ("postgres.xk3j9a2b1c0d|read-bouncer", True),
        ("app_rw.xk3j9a2b1c0d|write_pool", True),
        ("postgres.xk3j9a2b1c0d|", False),
        ("postgres", False),
        ("postgres.xk3j9a2b1c0d|a|b", False),
    ],
)
def test_planetscale_user_names(providers, user, ok):
    for e in providers["planetscale"]["endpoints"]:
        if e["engine"] == "postgresql":
            assert bool(re.fullmatch(e["user_regex"], user, re.IGNORECASE)) is ok, (e["id"], user)


def test_hyperdrive_keeps_prepared_statements(providers):
    pg = next(
        e for e in providers["cloudflare-hyperdrive"]["endpoints"] if e["engine"] == "postgresql"
    )
    assert pg["prepared_statements"] is True and pg["verified"] is True
    assert "developers.cloudflare.com" in pg["source"]


def test_no_weak_sources_left_where_primary_docs_exist(providers):
    weak = ("skills.sh", "goldlapel.com", "docs.rs/dhb-postgres-heroku")
    for where, table in iter_cited(providers):
        assert not any(w in table["source"] for w in weak), (where, table["source"])


def test_snippet_tables_have_text_or_blocks(providers):
    for pid, p in providers.items():
        for orm, snippet in (p.get("snippets") or {}).items():
            assert orm in catalog.ORMS, (pid, orm)
            assert snippet.get("text") or snippet.get("blocks"), (pid, orm)
            for block in snippet.get("blocks", []):
                assert len(block) == 2 and all(isinstance(x, str) and x.strip() for x in block)


def _page(pid: str) -> str:
    from tests.support.hooks import load_hook

    load_hook("generate")  # which puts its folder on sys.path, as under MkDocs
    provider_page = load_hook("pages_providers").provider_page
    return provider_page(catalog.load_providers()[pid], "")


def test_hyperdrive_page_fits_workers():
    page = _page("cloudflare-hyperdrive")
    assert "prepare: false" not in page and "pgbouncer=true&" not in page
    assert "connection_limit" not in page
    assert "env.HYPERDRIVE.connectionString" in page and "nodejs_compat" in page
    assert "new PrismaPg({ connectionString: env.HYPERDRIVE.connectionString" in page
    # the probe suggestion targets the origin, never the hyperdrive.local host
    probes = [line for line in page.splitlines() if "advisor probe" in line and "=" in line]
    assert probes and all("hyperdrive.local" not in line for line in probes)
    assert "Prisma query engine" not in page  # verdicts only for the drivers Cloudflare names


def test_heroku_page_has_the_pool_and_no_doubled_env_var():
    page = _page("heroku")
    assert "DATABASE_CONNECTION_POOL_URL" in page
    assert "(DATABASE_URL) (`DATABASE_URL`)" not in page
    assert "**Direct** (`DATABASE_URL`)" in page


def test_prisma_page_states_prisma_7_as_it_is():
    page = (Path(__file__).resolve().parents[1] / "docs" / "orms" / "prisma.md").read_text()
    assert "P1012" in page and "deprecated" not in page
    assert "new PrismaPg({ connectionString: process.env.DATABASE_URL, max: 1 })" in page
    assert '=== "Prisma 7"' in page
    assert "guides/performance-and-optimization" not in page  # moved (see the seed fact)
    assert "neon.com/docs/guides/prisma" in page and "5.10" in page


def test_every_unconfirmed_item_says_what_to_check(providers):
    """verified = false items carry `check`: advice of the form "If you see X, do Y"."""
    missing = [
        where
        for where, table in iter_cited(providers)
        if table.get("verified") is False and not str(table.get("check", "")).startswith("If ")
    ]
    assert not missing, missing


def test_pages_show_the_check_advice(providers):
    for pid in ("digitalocean", "heroku", "railway"):
        page = _page(pid)
        for where, table in iter_cited({pid: providers[pid]}):
            if table.get("verified") is False:
                head = table["check"].split("'")[0][:40]  # prose() escapes quotes and <>
                assert head in page, (where, head)
