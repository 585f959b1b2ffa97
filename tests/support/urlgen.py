"""Hypothesis strategies for connection URLs built from the provider catalog: its example
hosts (placeholders filled in), its ports and user formats, the parameters the parser knows,
the ORMs, and some mess (odd ports, unknown parameters, encoded characters, bad syntax)."""

from __future__ import annotations

import re
from urllib.parse import quote

from hypothesis import strategies as st

from advisor import target
from advisor.catalog.providers import load_providers
from advisor.catalog.stacks import load_stacks
from advisor.options import ORM_CHOICES, SESSION_FEATURES

DRIVERS = sorted(sid for sid, s in load_stacks().items() if s["kind"] == "driver")
# Every safe setting the catalog names (applied or not), and a few that are none.
DRIVER_OPTIONS = sorted(
    {
        f"{o['name']}={v}"
        for s in load_stacks().values()
        for f in s["features"].values()
        for o in f.get("safe_options", [])
        for v in o["values"]
    }
    | {"statement_cache_size=100", "prepare=true", "x"}
)
PLACEHOLDER = re.compile(r"<([a-z-]+)>")
TOKEN = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)


def _catalog_urls() -> list[str]:
    urls = []
    for p in load_providers().values():
        for e in p["endpoints"]:
            for m in re.finditer(
                r"(?:postgres(?:ql)?|mysql|mariadb)://[^\s)'\"`]+", e.get("example") or ""
            ):
                urls.append(m.group(0))
    return sorted(set(urls))


CATALOG_URLS = _catalog_urls()
PORTS = sorted(
    {e["port"] for p in load_providers().values() for e in p["endpoints"] if e.get("port")}
)


@st.composite
def filled(draw: st.DrawFn, template: str) -> str:
    """A catalog example with each <placeholder> replaced by a random token."""
    return PLACEHOLDER.sub(lambda m: draw(TOKEN), template)


def _value(name: str) -> st.SearchStrategy[str]:
    choices: dict[str, list[str]] = {
        "sslmode": [*target.SSLMODES, "REQUIRE", "bogus"],
        "ssl-mode": [*target.MYSQL_SSL_MODES, "required", "nope"],
        "pgbouncer": ["true", "false", "TRUE", "1"],
        "connection_limit": ["1", "2", "10", "0", "-1", "x"],
        "sslaccept": ["strict", "accept_invalid_certs", "other"],
        "uselibpqcompat": ["true", "false"],
        "connect_timeout": ["5", "-1", "abc", " 7 "],
        "sslrootcert": ["/etc/ssl/ca.pem", "system"],
    }
    if name in choices:
        return st.sampled_from(choices[name])
    return st.one_of(TOKEN, st.text(min_size=0, max_size=6).map(lambda s: quote(s, safe="")))


PARAM_NAMES = sorted(
    target.LIBPQ_PARAMS
    | target.PG_CLIENT_PARAMS
    | target.MYSQL_PARAMS
    | target.MYSQL_CLIENT_PARAMS
    | {"unknown_x", "Sslmode", "api_key", "password"}
)


@st.composite
def query(draw: st.DrawFn) -> str:
    names = draw(st.lists(st.sampled_from(PARAM_NAMES), max_size=4, unique=True))
    pairs = [f"{n}={draw(_value(n))}" for n in names]
    return ("?" + "&".join(pairs)) if pairs else ""


SCHEMES = ["postgresql", "postgres", "mysql", "mariadb", "postgresql+asyncpg", "mysql+pymysql"]
HOSTS = st.one_of(
    st.sampled_from(["localhost", "127.0.0.1", "[::1]", "db.example.com", "10.0.0.5", ""]),
    st.builds("{}.{}.com".format, TOKEN, TOKEN),
    st.just("%2Fvar%2Frun%2Fpostgresql"),
)
PASSWORD = st.text(min_size=1, max_size=12).map(lambda s: quote(s, safe=""))


@st.composite
def built_url(draw: st.DrawFn) -> str:
    """A URL assembled part by part: scheme, user[:password]@host[:port]/db?params."""
    scheme = draw(st.sampled_from(SCHEMES))
    user = draw(st.one_of(st.just(""), TOKEN, st.builds("{}.{}".format, TOKEN, TOKEN)))
    password = draw(st.one_of(st.none(), PASSWORD))
    auth = f"{user}:{password}@" if password is not None else (f"{user}@" if user else "")
    port = draw(st.one_of(st.none(), st.sampled_from(PORTS), st.integers(0, 70000)))
    db = draw(st.one_of(st.just(""), TOKEN))
    return f"{scheme}://{auth}{draw(HOSTS)}{'' if port is None else f':{port}'}/{db}{draw(query())}"


@st.composite
def catalog_url(draw: st.DrawFn) -> str:
    """A catalog example URL, placeholders filled, sometimes with its port or query changed."""
    url = draw(filled(draw(st.sampled_from(CATALOG_URLS))))
    if draw(st.booleans()):
        url = url.split("?", 1)[0] + draw(query())
    if draw(st.integers(0, 4)) == 0:
        url = re.sub(r":(\d+)/", f":{draw(st.sampled_from(PORTS))}/", url, count=1)
    return url


@st.composite
def keywords(draw: st.DrawFn) -> str:
    host = draw(
        st.sampled_from(["localhost", "db.example.com", "/tmp", "aws-0-x.pooler.supabase.com"])
    )
    parts = [f"host={host}", f"dbname={draw(TOKEN)}"]
    if draw(st.booleans()):
        parts.append(f"port={draw(st.sampled_from(PORTS))}")
    if draw(st.booleans()):
        parts.append(f"sslmode={draw(st.sampled_from(target.SSLMODES))}")
    if draw(st.booleans()):
        parts.append(f"password='{draw(TOKEN)}'")
    return " ".join(parts)


URLS = st.one_of(catalog_url(), catalog_url(), built_url(), keywords(), st.text(max_size=30))


@st.composite
def checker_input(draw: st.DrawFn) -> dict:
    """One submission of the URL checker form: the same fields `advisor lint` takes. Stack
    settings mostly come with a stack named (without one they are a usage error, which a
    few cases still try)."""
    orm = draw(st.one_of(st.none(), st.sampled_from(ORM_CHOICES)))
    driver = draw(st.one_of(st.none(), st.none(), st.sampled_from(DRIVERS)))
    named = orm is not None or driver is not None or draw(st.integers(0, 9)) == 0
    return {
        "url": draw(URLS),
        "direct_url": draw(st.one_of(st.just(""), catalog_url(), built_url())),
        "orm": orm,
        "serverless": draw(st.booleans()),
        "prisma_version": draw(st.one_of(st.none(), st.sampled_from([5, 6, 7, 8]))),
        "driver": driver,
        "driver_options": draw(st.lists(st.sampled_from(DRIVER_OPTIONS), max_size=2))
        if named
        else [],
        "uses": draw(st.lists(st.sampled_from(SESSION_FEATURES), max_size=2, unique=True))
        if named
        else [],
    }
