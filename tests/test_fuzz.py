"""Fuzzing the URL / DSN parser with Hypothesis: over 20,000 generated inputs per run.

The only failure parse_target may raise is InvalidTarget (exit 2, one line, no secret).
Whatever parses must redact every secret in `display` and hand libpq / PyMySQL the same
host, port and database it parsed. Derandomized: every CI run sees the same inputs.
"""

from __future__ import annotations

import dataclasses
import ssl
from collections import Counter
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from advisor.errors import InvalidTarget
from advisor.facts import mysql
from advisor.target import LIBPQ_PARAMS, is_secret_key, parse_target, secret_forms

RUNS: Counter = Counter()  # examples per test, checked by the last test
BUDGETS: list[int] = []  # max_examples of every fuzz test in this module


def fuzz(n: int):
    BUDGETS.append(n)
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


# -- strategies ----------------------------------------------------------------

CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
ANY_TEXT = st.text(CHARS, max_size=24)
WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_."), min_size=1, max_size=12)
HOSTNAME = st.lists(
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-"), min_size=1, max_size=10),
    min_size=1,
    max_size=4,
).map(".".join)
IPV4 = st.tuples(*[st.integers(0, 255)] * 4).map(lambda t: ".".join(map(str, t)))
IPV6 = st.sampled_from(
    ["::1", "fe80::1", "2001:db8::42", "::ffff:127.0.0.1", "fe80::1%25eth0", "2600:1f18:abcd::9"]
)
SECRET = st.text(CHARS, min_size=4, max_size=20)
SAFE_PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "application_name",
            "options",
            "sslmode",
            "connect_timeout",
            "pgbouncer",
            "connection_limit",
            "schema",
            "keepalives",
            "target_session_attrs",
            "sslrootcert",
            "weird_param",
            "api_key",
            "token",
        ]
    ),
    ANY_TEXT,
    max_size=4,
)


ENCODING = st.integers(0, 2)
SCHEME = st.sampled_from(
    [
        "postgresql",
        "postgres",
        "mysql",
        "mariadb",
        "MySQL",
        "postgresql+asyncpg",
        "mysql+pymysql",
        "postgres+",
        "jdbc:postgresql",
        "http",
        "",
        "pg",
        "postgresql:",
        "mysql://mysql",
    ]
)
ODD_HOST = st.sampled_from(
    [
        "",
        "[",
        "]",
        "[::1",
        "::1]",
        "%2Ftmp",
        "h,h2",
        "ho st",
        "[]",
        "[zz]",
        "xn--80ak6aa92e.com",
        "пример.рф",
        "h%0A",
        "%5B::1%5D",
    ]
)
ANY_HOST = st.one_of(HOSTNAME, IPV4, IPV6.map(lambda h: f"[{h}]"), IPV6, ODD_HOST, ANY_TEXT)
ANY_PORT = st.one_of(
    st.none(),
    st.integers(-5, 70000).map(str),
    ANY_TEXT,
    st.sampled_from(["", "0", "65535", "65536", "54a", "٣٤", "+5", " 5"]),
)
ANY_PATH = st.one_of(
    st.none(), ANY_TEXT, st.sampled_from(["%", "%zz", "%C3%28", "%00", "a/b", "%2F", "/", "//"])
)
QUERY = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(
                sorted(LIBPQ_PARAMS)
                + [
                    "password",
                    "host",
                    "port",
                    "dbname",
                    "user",
                    "socket",
                    "ssl-mode",
                    "ssl-ca",
                    "charset",
                    "api_key",
                    "",
                    "a b",
                ]
            ),
            ANY_TEXT,
        ),
        st.one_of(
            ANY_TEXT,
            SECRET,
            st.sampled_from(["", "%", "%ff", "=", "&", "require", "REQUIRED", "10", "-1"]),
        ),
        ENCODING,
    ),
    max_size=4,
)
# Grammar-ish fuzzing: URL fragments glued in random order (cheap, finds edge cases).
TOKENS = [
    "postgresql://",
    "postgres://",
    "mysql://",
    "mariadb://",
    "+psycopg",
    "://",
    "@",
    ":",
    "::",
    "[",
    "]",
    "[::1]",
    "%",
    "%25",
    "%2F",
    "%00",
    "%zz",
    "%C3",
    "%A9",
    "/",
    "//",
    "?",
    "&",
    "=",
    "#",
    "password=",
    "host=",
    "port=",
    "dbname=",
    "sslmode=",
    "socket=",
    "user=",
    "u",
    "secretpw",
    "localhost",
    "127.0.0.1",
    "5432",
    "65536",
    "-1",
    "db",
    " ",
    "'",
    "\\",
    "é",
    "🔑",
    "\t",
    "\x1b[31m",
    "<script>",
    "|",
    "**",
    ",",
    ".",
    "host=h ",
    "password='x y' ",
]
TOKEN_TEXT = st.lists(st.sampled_from(TOKENS), max_size=16).map("".join)


def encode(text: str, how: int) -> str:
    """0: fully percent-encoded, 1: only reserved characters, 2: raw."""
    return [quote(text, safe=""), quote(text, safe="!$'()*+,;=~-._"), text][how]


VALID_PARTS = st.fixed_dictionaries(
    {
        "scheme": st.sampled_from(["postgresql", "postgres", "PostgreSQL", "postgresql+psycopg"]),
        "user": ANY_TEXT,
        "password": st.one_of(st.none(), SECRET),
        "host": st.one_of(HOSTNAME, IPV4, IPV6),
        "port": st.one_of(st.none(), st.integers(1, 65535)),
        "database": st.one_of(st.none(), st.text(CHARS, min_size=1, max_size=20)),
        "sslmode": st.sampled_from(["disable", "require", "verify-full"]),
        "timeout": st.integers(0, 99).map(str),
    }
)


@st.composite
def valid_pg_url(draw):
    """A URL that must parse, with the parts it was built from."""
    parts, params = draw(VALID_PARTS), draw(SAFE_PARAMS)
    for key, value in (
        ("sslmode", parts.pop("sslmode")),
        ("connect_timeout", parts.pop("timeout")),
    ):
        if key in params:
            params[key] = value
    userinfo = quote(parts["user"], safe="")
    if parts["password"] is not None:
        userinfo += ":" + quote(parts["password"], safe="")
    host = f"[{parts['host']}]" if ":" in parts["host"] else parts["host"]
    port = f":{parts['port']}" if parts["port"] else ""
    db = "/" + quote(parts["database"], safe="") if parts["database"] else ""
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in params.items())
    url = f"{parts['scheme']}://{userinfo}@{host}{port}{db}" + (f"?{query}" if query else "")
    return url, parts, params


@st.composite
def urlish(draw):
    """Anything shaped roughly like a URL: every piece may be broken."""
    scheme = draw(SCHEME)
    password = draw(st.one_of(st.none(), SECRET))
    userinfo = ""
    if password is not None or draw(st.booleans()):
        userinfo = encode(draw(ANY_TEXT), draw(ENCODING))
        userinfo += "" if password is None else ":" + encode(password, draw(ENCODING))
        userinfo += "@"
    port, path, query = draw(ANY_PORT), draw(ANY_PATH), draw(QUERY)
    url = f"{scheme}://{userinfo}{draw(ANY_HOST)}" + (f":{port}" if port is not None else "")
    url += f"/{encode(path, 1)}" if path is not None else ""
    if query:
        url += "?" + "&".join(f"{encode(k, 1)}={encode(v, how)}" for k, v, how in query)
    secrets = [s for s in [password] + [v for k, v, _ in query if is_secret_key(k)] if s]
    return url, secrets


KEYWORD_PAIRS = st.lists(
    st.tuples(
        st.one_of(
            st.sampled_from(
                [
                    "host",
                    "port",
                    "dbname",
                    "user",
                    "password",
                    "sslmode",
                    "application_name",
                    "options",
                    "sslpassword",
                    "bogus",
                ]
            ),
            WORD,
        ),
        st.one_of(ANY_TEXT, SECRET),
        ENCODING,
        st.sampled_from(["=", " = ", "=  "]),
    ),
    min_size=1,
    max_size=5,
)


@st.composite
def keyword_dsn(draw):
    pairs = draw(KEYWORD_PAIRS)
    out = []
    for key, value, style, eq in pairs:
        if style == 0:
            value = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        elif style == 1:
            value = value.replace(" ", "")
        out.append(f"{key}{eq}{value}")
    secrets = [v for k, v, _, _ in pairs if is_secret_key(k) and len(v) >= 4]
    return " ".join(out), secrets


# -- properties ----------------------------------------------------------------


def check_parsed(t) -> None:
    """What must hold for every target that parsed."""
    display = t.display
    assert "\n" not in display
    # The display does not depend on secret values: swap them for a marker, same display.
    mark = "\u2603MARK"

    def swap(d):
        return {k: (mark if is_secret_key(k) else v) for k, v in d.items()}

    other = dataclasses.replace(
        t,
        password=None if t.password is None else mark,
        params=swap(t.params),
        client_params=swap(t.client_params),
        unknown_params=swap(t.unknown_params),
    ).display
    assert display == other
    # So no secret shows, raw or encoded, unless the same text is part of the URL anyway.
    for secret in t.secrets:
        if len(secret) >= 4:
            for form in secret_forms(secret):
                assert form not in display or form in other.replace("***", "")
    if t.engine == "postgresql":
        kw = t.libpq_kwargs()
        assert kw.get("dbname") == t.database
        if t.more_hosts:  # libpq's comma lists, one entry per host
            assert kw["host"].split(",") == [h or "" for h, _ in t.hosts]
            ports = kw.get("port", "").split(",")
            assert ports == [""] or ports == [str(p) if p else "" for _, p in t.hosts]
        else:
            assert kw.get("host") == t.host
            assert kw.get("port") == (str(t.port) if t.port else None)
        # libpq itself reads back what the driver will send (PQconninfoParse).
        back = conninfo_to_dict(make_conninfo(**kw))
        for key in ("host", "port", "dbname", "user", "password"):
            assert back.get(key) == kw.get(key)
    else:
        try:
            kw = mysql.connect_kwargs(t, 5.0)
        except InvalidTarget:
            return
        except (OSError, ssl.SSLError):  # CA/key files and ciphers are checked at probe time
            assert {"ssl-ca", "ssl-cert", "ssl-key", "ssl-cipher", "sslcert"} & set(t.all_params())
            return
        assert kw["database"] == t.database
        if t.is_socket:
            assert kw["unix_socket"] == t.host
        else:
            assert kw["host"] == (t.host or "localhost") and kw["port"] == t.effective_port
        assert kw["password"] == (t.password or "").encode()


def rotate(text: str) -> str:
    """Same shape, other characters: a0 -> b1 (to tell an echo from fixed message text)."""
    out = []
    for c in text:
        if c.isascii() and c.isdigit():
            c = str((int(c) + 1) % 10)
        elif c.isascii() and c.isalpha():
            base = ord("a") if c.islower() else ord("A")
            c = chr((ord(c) - base + 1) % 26 + base)
        out.append(c)
    return "".join(out)


def parse_or_invalid(text: str, secrets=()):
    try:
        t = parse_target(text)
    except InvalidTarget as exc:
        message = str(exc)
        assert message and "\n" not in message
        for secret in secrets:
            if len(secret) >= 4 and text.count(secret) == 1 and secret in message:
                # Fixed wording ("invalid ...") may contain a short secret by chance; an echo
                # follows the secret when it changes.
                other = rotate(secret)
                try:
                    parse_target(text.replace(secret, other))
                except InvalidTarget as again:
                    assert other == secret or other not in str(again), message
        return None
    check_parsed(t)
    return t


@fuzz(3000)
@given(valid_pg_url())
def test_valid_urls_round_trip(case):
    RUNS["valid"] += 1
    url, parts, params = case
    t = parse_target(url)
    assert (t.host, t.port, t.database, t.user, t.password) == (
        parts["host"].replace("%25", "%"),
        parts["port"],
        parts["database"],
        parts["user"] or None,  # libpq: an empty user name is no user name
        parts["password"],
    )
    assert {**t.params, **t.client_params, **t.unknown_params} == params
    check_parsed(t)
    # The redacted form is itself a URL that names the same server and database.
    again = parse_target(t.display)
    assert (again.host, again.port, again.database) == (t.host, t.port, t.database)


@fuzz(3000)
@given(urlish())
def test_urlish_strings(case):
    RUNS["urlish"] += 1
    url, secrets = case
    parse_or_invalid(url, secrets)


@fuzz(2000)
@given(keyword_dsn())
def test_keyword_dsns(case):
    RUNS["keywords"] += 1
    dsn, secrets = case
    parse_or_invalid(dsn, secrets)


@fuzz(8000)
@given(TOKEN_TEXT)
def test_url_fragments(text):
    RUNS["fragments"] += 1
    parse_or_invalid(text)


@fuzz(4000)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=80).map(lambda b: b.decode("latin-1"))))
def test_raw_text(text):
    RUNS["raw"] += 1
    parse_or_invalid(text)


# Real-world shapes that broke parsers somewhere, plus hostile ones.
CORPUS = [
    "postgresql://postgres.abcdefghijklmnop:pa%24%24w0rd@aws-0-us-east-1.pooler.supabase.com:6543/postgres?pgbouncer=true&connection_limit=1",
    "postgres://neondb_owner:npg_SECRETpw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require",
    "postgresql://u:p@ss:w0rd@host/db",  # unencoded @ and : in the password
    "postgresql://u:100%secret@host/db",  # unencoded %
    "postgresql://u:pass#word@host/db",  # unencoded #
    "postgresql://u:pa ss@host/db",
    "postgresql://user:secretpw/db",  # forgot the host: the password looks like a port
    "postgresql://u:hunter2pw@[fe80::1%25eth0]:5432/db",
    "postgresql://u:hunter2pw@[::1]5432/db",
    "postgresql://u:hunter2pw@[::1/db",
    "postgresql://u:hunter2pw@::1:5432/db",
    "postgresql://u:hunter2pw@h1:5432,h2:5433/db?target_session_attrs=read-write",
    "postgresql://%2Fvar%2Frun%2Fpostgresql/db",
    "postgresql:///db?host=/tmp&port=5433",
    "postgresql://",
    "postgresql:///",
    "postgresql://:@:/",
    "postgresql://@/?",
    "postgresql://u@h/d?&&=&==&a=b=c",
    "postgresql://u@h:0/d",
    "postgresql://u@h:65536/d",
    "postgresql://u@h:-1/d",
    "postgresql://u@h:5432abc/d",
    "postgresql://u@h:٥٤٣٢/d",
    "postgresql://u@h/d%2Fe",
    "postgresql://u@h/d%00",
    "postgresql://u:%00pw@h/d",
    "postgresql://u:%E2%82@h/d",
    "postgresql://u:%zz@h/d",
    "postgresql://u:%@h/d",
    "postgresql://u@h/d?password=hunter2pw&sslpassword=keypass99",
    "postgresql://u@h/d?options=-c%20statement_timeout%3D5s&application_name=%3Cscript%3E",
    "postgresql://u@h/d?sslmode=verify-full&sslrootcert=system",
    "postgresql://u@h/d?api_key=abcd1234&token=tok_9999&client_secret=cs_7777&PWD=pwd8888",
    "postgresql://üser:pässwörd@host/dätabase",
    "postgresql://u:🔑🔑🔑🔑@host/db",
    "postgresql://u:p@xn--bcher-kva.example/db",
    "postgresql://u:p@пример.рф/db",
    "postgresql://u:p@host./db",
    "postgresql://u:p@host:5432:5433/db",
    "postgresql+asyncpg://u:secretpw@h/d",
    "postgresql+psycopg2://u:secretpw@h/d?sslmode=require",
    "postgres+://u@h/d",
    "POSTGRESQL://U:SECRETPW@H/D",
    "jdbc:postgresql://h:5432/d?user=u&password=secretpw",
    "DATABASE_URL=postgres://u:secretpw@h/d",
    '"postgres://u:secretpw@h/d"',
    "'postgres://u:secretpw@h/d'",
    "  postgres://u:secretpw@h/d  ",
    "postgres://u:secretpw@h/d\n",
    "postgres://u:secret\tpw@h/d",
    "postgres://u:secretpw@h/d?sslmode=require\x1b[31m",
    "mysql://root:secretpw@127.0.0.1:3306/shop?ssl-mode=required&charset=utf8mb4",
    "mysql://u:secretpw@/db?socket=/var/run/mysqld/mysqld.sock",
    "mysql://u:secretpw@h/db?ssl-mode=VERIFY_IDENTITY&sslaccept=strict&sslcert=/nonexistent/ca.pem",
    "mysql://u:secretpw@h/db?charset=klingon",
    "mysql://u:secretpw@h/db?connect_timeout=soon",
    "mysql://u:secretpw@h/db?connect_timeout=0&connect-timeout=1e9",
    "mariadb://u:secretpw@[::1]:3307/db?tls-version=TLSv1.9",
    "mysql://u:secretpw@aws.connect.psdb.cloud/db?sslaccept=strict",
    "host=db port=5432 dbname=app user=app password='it''s'",
    "host=db password='unterminated",
    "host=db password=secretpw sslmode=verify-full sslrootcert=/x",
    r"host=db password='a\'b\\c secretpw'",
    "host = db password = secretpw",
    "host=h1,h2 password=secretpw",
    "host=[::1] port=5432 password=secretpw",
    "password=",
    "user=u password=secretpw bogus=1",
    "=secretpw",
    "host",
    "host=",
    "service=prod",
    "postgresql://u:p@h/d?" + "a=b&" * 5000,
    "postgresql://" + "a" * 100_000 + "@h/d",
    "postgresql://u:" + "x" * 100_000 + "@h/d",
    "postgresql://u@" + "h" * 300 + "/d",
    "postgresql://u@h/" + "%41" * 10_000,
]


@pytest.mark.parametrize("url", CORPUS, ids=range(len(CORPUS)))
def test_corpus_of_nasty_urls(url):
    RUNS["corpus"] += 1
    secrets = [
        "secretpw",
        "hunter2pw",
        "keypass99",
        "abcd1234",
        "tok_9999",
        "cs_7777",
        "pwd8888",
        "npg_SECRETpw",
        "pässwörd",
        "🔑🔑🔑🔑",
        "pa$$w0rd",
    ]
    parse_or_invalid(url, secrets)


def test_secret_looking_parameters_are_masked():
    t = parse_target(CORPUS[33])
    for value in ("abcd1234", "tok_9999", "cs_7777", "pwd8888"):
        assert value not in t.display and value in t.secrets


def test_at_least_20000_generated_inputs():
    generated = sum(n for key, n in RUNS.items() if key != "corpus")
    if set(RUNS) >= {"valid", "urlish", "keywords", "fragments", "raw"}:
        assert generated >= 20_000, RUNS
    else:  # only part of the module ran: the budgets still promise 20,000 for a full run
        assert sum(BUDGETS) >= 20_000, BUDGETS
