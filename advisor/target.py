"""URL or keyword DSN -> Target, and the redacted form every output uses.

Parsing is done here rather than by libpq so that `advisor lint` needs no driver
import, and so that parameters meant for Prisma or other clients are recorded
instead of being handed to libpq (which rejects them). URLs are split exactly as
libpq splits them; see `_split_uri`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, unquote

from .errors import InvalidTarget

T = TypeVar("T")

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}

SCHEMES = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}

OTHER_SCHEMES = (
    "http",
    "https",
    "jdbc:postgresql",
    "jdbc:mysql",
    "jdbc:mariadb",
    "pg",
    "psql",
    "mongodb",
    "mongodb+srv",
    "redis",
    "rediss",
    "sqlite",
    "mssql",
    "sqlserver",
    "file",
)

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
MYSQL_SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")

# libpq connection keywords other than host/port/dbname/user/password.
LIBPQ_PARAMS = frozenset(
    """
    hostaddr connect_timeout client_encoding options application_name
    fallback_application_name keepalives keepalives_idle keepalives_interval
    keepalives_count tcp_user_timeout replication gssencmode sslmode requiressl
    sslcompression sslcert sslkey sslpassword sslcertmode sslrootcert sslcrl sslcrldir
    sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version krbsrvname
    gsslib gssdelegation service target_session_attrs load_balance_hosts
    channel_binding sslnegotiation require_auth passfile
""".split()
)

# Understood and recorded, never passed to libpq: Prisma's URL parameters and a
# few other clients' (Supabase's Vercel workaround, node-postgres' libpq switch).
PG_CLIENT_PARAMS = frozenset(
    """
    pgbouncer connection_limit pool_timeout schema sslaccept socket_timeout
    statement_cache_size sslidentity max_idle_connection_lifetime
    max_connection_lifetime workaround uselibpqcompat
    prepare prepared_statement_cache_size default_query_exec_mode binary_parameters
    prepared_statements advisory_locks statement_cache_mode prefer_simple_protocol
""".split()
)  # the last two lines: the stack catalog's URL settings (postgres.js, SQLAlchemy's
# asyncpg dialect, pgx v5 and v4, lib/pq, Rails); tests/test_stack_catalog.py keeps them in step

# MySQL client options (mysql CLI spelling) and Prisma's MySQL parameters.
MYSQL_PARAMS = frozenset(
    """
    ssl-mode ssl-ca ssl-cert ssl-key ssl-cipher tls-version connect-timeout
    connect_timeout socket charset
""".split()
)
MYSQL_CLIENT_PARAMS = frozenset(
    """
    sslaccept sslcert sslidentity sslpassword connection_limit pool_timeout
    socket_timeout statement_cache_size
""".split()
)

PASSWORD_KEYS = ("password", "sslpassword")
# Any parameter whose name looks like a credential is masked in every output.
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|api_?key|credential", re.IGNORECASE)
_MASK = "***"


_KEYWORD_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*", re.ASCII)
_BLANKS = " \t\n\r\f\v"  # libpq's isspace() in the C locale


def is_ip_address(host: str) -> bool:
    """An IPv4 or IPv6 literal (brackets allowed): no name to look up or to match."""
    import ipaddress  # small, and only the callers that see a host need it

    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


@dataclass(frozen=True)
class Target:
    engine: str  # "postgresql" | "mysql"
    scheme: str  # as written, e.g. "postgres" or "mariadb"
    host: str | None  # hostname, IP literal, or a socket directory/path
    port: int | None  # as written; see `effective_port`
    database: str | None
    user: str | None
    password: str | None = field(default=None, repr=False)
    params: dict[str, Any] = field(default_factory=dict)  # for the driver
    client_params: dict[str, Any] = field(default_factory=dict)  # Prisma & co: recorded only
    unknown_params: dict[str, Any] = field(default_factory=dict)
    form: str = "url"  # "url" | "keywords"
    driver: str | None = None  # SQLAlchemy-style "+psycopg2" suffix, if any
    # libpq's multi-host form (host1:5433,host2:5434): the hosts after the first, in the
    # order libpq tries them. `host`/`port` are the first; the catalog judges that one.
    more_hosts: tuple[tuple[str, int | None], ...] = ()

    @property
    def hosts(self) -> tuple[tuple[str | None, int | None], ...]:
        return ((self.host, self.port), *self.more_hosts)

    def each_host(self) -> list[Target]:
        """One single-host Target per host, in libpq's order (just this one when single)."""
        if not self.more_hosts:
            return [self]
        from dataclasses import replace

        return [replace(self, host=h, port=p, more_hosts=()) for h, p in self.hosts]

    # -- derived -------------------------------------------------------------
    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.engine]

    @property
    def is_socket(self) -> bool:
        return self.host is not None and self.host.startswith("/")

    @property
    def sslmode(self) -> str | None:
        return self.params.get("sslmode")

    @cached_property
    def secrets(self) -> list[str]:
        """Every secret this target carries or the driver will use for it, for scrubbing
        messages, logs and reports. PostgreSQL: resolved as libpq resolves them (service
        file, PGPASSWORD, the password file matched through PGHOST/PGPORT/PGUSER/...)."""
        found = [self.password] + [v for k, v in self.all_params().items() if is_secret_key(k)]
        if self.engine == "postgresql":
            from .pgenv import libpq_secrets

            for one in self.each_host():  # libpq matches the password file per host
                found += libpq_secrets(one)
        else:
            found.append(os.environ.get("MYSQL_PWD"))
        return [s for s in dict.fromkeys(found) if s]

    def all_params(self) -> dict[str, Any]:
        return {**self.params, **self.client_params, **self.unknown_params}

    @property
    def display(self) -> str:
        """The redacted form: the only form of the target any output may use."""
        if self.form == "keywords":
            return _keywords_display(self)
        userinfo = ""
        if self.user is not None or self.password is not None:
            userinfo = quote(self.user or "", safe="")
            if self.password is not None:
                userinfo += ":" + _MASK
            userinfo += "@"
        hostport = ",".join(_shown_host(h, p) for h, p in self.hosts)
        path = "/" + quote(self.database, safe="") if self.database else ""
        scheme = self.scheme + (f"+{self.driver}" if self.driver else "")
        query = "&".join(
            f"{quote(k, safe='-_.')}={_MASK if is_secret_key(k) else quote(str(v), safe='-_./,')}"
            for k, v in self.all_params().items()
        )
        return f"{scheme}://{userinfo}{hostport}{path}" + (f"?{query}" if query else "")

    def scrub(self, text: str) -> str:
        """Remove every secret (raw, percent-encoded, DSN-quoted) from a message."""
        return scrub(text, self.secrets)

    def libpq_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for psycopg.connect; only libpq's own parameters."""
        kw = dict(self.params)
        for key, value in (
            ("host", self.host),
            ("port", self.port),
            ("dbname", self.database),
            ("user", self.user),
            ("password", self.password),
        ):
            if value is not None:
                kw[key] = str(value)
        if self.more_hosts:  # libpq's comma lists; an empty port entry is the default
            kw["host"] = ",".join(h or "" for h, _ in self.hosts)
            ports = [str(p) if p else "" for _, p in self.hosts]
            if any(ports):
                kw["port"] = ",".join(ports)
        return kw


def _shown_host(host: str | None, port: int | None) -> str:
    host = host or ""
    if host.startswith("/"):
        host = quote(host, safe="")
    elif ":" in host:
        host = f"[{quote(host, safe=':.')}]"
    else:  # a host from ?host= or ?socket= is not checked: keep the display one line
        host = quote(host, safe="-._~")
    return host + (f":{port}" if port else "")


def secret_forms(secret: str) -> list[str]:
    """The ways a secret shows up in URLs, DSNs and messages; longest first."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        secret.replace("\\", "\\\\").replace("'", "\\'"),
    }
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        for form in secret_forms(secret):
            text = text.replace(form, _MASK)
    return text


SHORT = 4  # secrets shorter than this are masked as whole words only (scrub_data)


def scrub_data(value: T, secrets: Iterable[str]) -> T:
    """`value` (a str, or dicts and lists holding them) with every form of every secret in
    its strings masked; dict keys (the advisor's own names) and other values unchanged.
    A secret shorter than SHORT is masked only as a whole word ("p" in "15.0 p", not in
    "pgbouncer"): masking it everywhere would leave nothing readable."""
    forms = sorted(
        {f for s in secrets if s and s.strip("*") for f in secret_forms(s)}, key=len, reverse=True
    )
    if not forms:
        return value
    long = [f for f in forms if len(f) >= SHORT]
    short = [
        re.compile(rf"(?<![A-Za-z0-9]){re.escape(f)}(?![A-Za-z0-9])")
        for f in forms
        if len(f) < SHORT
    ]

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            for form in long:
                if form in v:
                    v = v.replace(form, _MASK)
            for pattern in short:
                v = pattern.sub(_MASK, v)
            return v
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(walk(x) for x in v)
        return v

    return walk(value)  # type: ignore[no-any-return]  # same shape as value


def _keywords_display(t: Target) -> str:
    parts = []
    kw = t.libpq_kwargs()
    for key, value in (
        ("host", kw.get("host")),
        ("port", kw.get("port")),
        ("dbname", t.database),
        ("user", t.user),
        ("password", t.password),
    ):
        if value is not None:
            parts.append((key, _MASK if key == "password" else str(value)))
    parts += [(k, _MASK if is_secret_key(k) else str(v)) for k, v in t.params.items()]
    return " ".join(f"{k}={_quote_keyword(v)}" for k, v in parts)


def _quote_keyword(value: str) -> str:
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- parsing ---------------------------------------------------------------
#
# No message quotes the input: any part of a URL that fails to parse may be a password.

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_SCHEME_TYPO = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?!//)")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
OVERRIDES = ("host", "port", "dbname", "user", "password")
AMBIGUOUS = (
    "ambiguous URL: libpq would not read the user name and password as written "
    "(an '@' after the host); percent-encode '@', '/', ':' and '?' in them "
    "(%40, %2F, %3A, %3F)"
)


def parse_target(text: str | None) -> Target:
    """Parse a URL (postgresql://, postgres://, mysql://, mariadb://) or a libpq
    keyword string. Raises InvalidTarget with a message that never quotes the input."""
    if text is None or not text.strip():
        raise InvalidTarget("no database URL given (pass one or set DATABASE_URL)")
    text = text.strip()
    if "\x00" in text or any(ord(c) < 32 for c in text):
        raise InvalidTarget("the URL contains control characters")
    scheme = _SCHEME.match(text)
    if scheme:
        return _parse_url(scheme.group(1), text[scheme.end() :])
    typo = _SCHEME_TYPO.match(text)
    if typo and typo.group(1).lower().partition("+")[0] in SCHEMES:
        base = SCHEMES[typo.group(1).lower().partition("+")[0]]
        raise InvalidTarget(
            f"the scheme must be followed by '://' (two slashes), e.g. {base}://user@host/db"
        )
    keyword = _KEYWORD_RE.match(text)
    if keyword:
        if _SCHEME.match(text, keyword.end()):
            raise InvalidTarget("this looks like NAME=URL: pass the URL alone")
        return _parse_keywords(text)
    if text[0] in "'\"":
        raise InvalidTarget("the URL is wrapped in quotes: remove them")
    if "://" in text:
        known = next(
            (
                s
                for s in sorted(OTHER_SCHEMES, key=len, reverse=True)
                if text.lower().startswith(s + "://")
            ),
            None,
        )
        shown = f" {known!r}" if known else ""
        raise InvalidTarget(
            f"unsupported scheme{shown}: use postgresql://, postgres://, mysql:// or mariadb://"
        )
    raise InvalidTarget(
        "not a database URL: expected postgresql://, postgres://, mysql://, mariadb:// "
        "or a keyword string such as 'host=... dbname=...'"
    )


def _parse_url(scheme_text: str, rest: str) -> Target:
    base, _, driver = scheme_text.lower().partition("+")
    if base not in SCHEMES:
        # Echo only well-known schemes: text before :// may be a pasted password.
        shown = f" {base!r}" if base in OTHER_SCHEMES else ""
        raise InvalidTarget(
            f"unsupported scheme{shown}: use postgresql://, postgres://, mysql:// or mariadb://"
        )
    if driver and not re.fullmatch(r"[a-z0-9_]+", driver):
        raise InvalidTarget(
            f"unsupported scheme: after {base}+ comes a driver name (letters, digits and '_')"
        )
    engine = SCHEMES[base]
    uri = _split_uri(rest)
    pieces = _query_pieces(uri.query, uri.query_at)
    _refuse_ambiguous(engine, rest, uri, pieces)

    user = password = None
    if uri.user is not None:
        user = _unquote(uri.user, "user name") or None  # libpq: an empty user is no user
        if uri.password is not None:  # libpq: an empty password is no password
            password = _unquote(uri.password, "password") or None
    if uri.port == "" and uri.database:
        # libpq reads "u:/secret" as host u, default port, database "secret": a password
        # that starts with '/' would land in the database name (and in every output).
        raise InvalidTarget(
            "an empty port before a database name: if the password starts with '/', "
            "percent-encode it as %2F"
        )
    host, port = _host_port(uri.host, uri.bracketed, uri.port)
    more = [_host_port(h, b, p) for h, b, p in uri.more]
    database = None
    if uri.database:
        if "/" in uri.database:
            raise InvalidTarget("the database name contains '/'; percent-encode it as %2F")
        database = _unquote(uri.database, "database name")

    raw_params = _parse_query(engine, pieces)
    # libpq lets the query override URL parts (e.g. ?host=/var/run/postgresql).
    overrides = {key: raw_params.pop(key) for key in OVERRIDES if key in raw_params}
    if engine == "mysql" and "socket" in raw_params:
        overrides["host"] = raw_params.pop("socket")
    if "host" in overrides or "port" in overrides:
        host, port, more = _host_list(
            overrides.get("host", ",".join(h or "" for h, _ in [(host, port), *more])),
            overrides.get("port", ",".join(str(p or "") for _, p in [(host, port), *more])),
        )
    if "dbname" in overrides:
        database = overrides["dbname"] or None
    user = overrides.get("user", user)
    password = overrides.get("password", password)

    params, client, unknown = _classify(engine, raw_params)
    if more and engine != "postgresql":
        raise InvalidTarget("several hosts in one URL are a libpq form: MySQL URLs take one host")
    return Target(
        engine=engine,
        scheme=base,
        host=host,
        port=port,
        database=database,
        user=user,
        password=password,
        params=params,
        client_params=client,
        unknown_params=unknown,
        form="url",
        driver=driver or None,
        more_hosts=tuple((h or "", p) for h, p in more),
    )


@dataclass
class _Uri:
    """The raw (still percent-encoded) parts of a URL, cut where libpq cuts them."""

    user: str | None = None
    password: str | None = None
    host: str = ""
    bracketed: bool = False
    port: str | None = None  # None: no ':' after the host
    database: str | None = None  # None: no '/' after the host
    query: str | None = None  # None: no '?'
    host_at: int = 0  # where the host starts in the text after '://'
    query_at: int = 0  # where the query starts
    more: list[tuple[str, bool, str | None]] = field(default_factory=list)  # host, [], port


def _split_uri(rest: str) -> _Uri:
    """conninfo_uri_parse_options (libpq, src/interfaces/libpq/fe-connect.c): the user
    name and password end at the first '@', and only if it comes before any '/'; the
    password ends at that same '@' even when it holds '?' or '#'. The host ends at ':',
    '/', '?' or ','; the port at '/', '?' or ','; the database at '?'."""
    uri = _Uri()
    at = _find(rest, "@/", 0)
    pos = 0
    if at < len(rest) and rest[at] == "@":
        uri.user, colon, password = rest[:at].partition(":")
        uri.password = password if colon else None
        pos = at + 1
    uri.host_at = pos
    hosts: list[tuple[str, bool, str | None]] = []
    while True:  # host[:port] items separated by ',' (libpq's multi-host form)
        bracketed, port = False, None
        if rest.startswith("[", pos):
            end = rest.find("]", pos)
            if end == -1:
                raise InvalidTarget("unterminated IPv6 address: '[' without ']'")
            host, bracketed, pos = rest[pos + 1 : end], True, end + 1
            if pos < len(rest) and rest[pos] not in ":/?,":
                raise InvalidTarget("unexpected text after the IPv6 address")
        else:
            end = _find(rest, ":/?,", pos)
            host, pos = rest[pos:end], end
        if rest.startswith(":", pos):
            end = _find(rest, "/?,", pos + 1)
            port, pos = rest[pos + 1 : end], end
        hosts.append((host, bracketed, port))
        if not rest.startswith(",", pos):
            break
        pos += 1
    (uri.host, uri.bracketed, uri.port), uri.more = hosts[0], hosts[1:]
    if rest.startswith("/", pos):
        end = _find(rest, "?", pos + 1)
        uri.database, pos = rest[pos + 1 : end], end
    if rest.startswith("?", pos):
        uri.query, uri.query_at = rest[pos + 1 :], pos + 1
    return uri


def _find(text: str, chars: str, start: int) -> int:
    """Index of the first of `chars` in text[start:], or len(text)."""
    for i in range(start, len(text)):
        if text[i] in chars:
            return i
    return len(text)


_Piece = tuple[str, str | None, int]  # key, value (None: no "="), where the value starts


def _query_pieces(query: str | None, offset: int) -> list[_Piece]:
    """(key, value or None without '=', where the value starts) for each '&' piece; a
    single trailing '&' ends the query, as in libpq."""
    if not query:
        return []
    pieces: list[_Piece] = []
    pos = offset
    parts = query.split("&")
    if parts[-1] == "":
        parts.pop()
    for piece in parts:
        key, eq, value = piece.partition("=")
        pieces.append((key, value if eq else None, pos + len(key) + 1))
        pos += len(piece) + 1
    return pieces


def _known_keys(engine: str) -> frozenset[Any]:
    if engine == "postgresql":
        return LIBPQ_PARAMS | PG_CLIENT_PARAMS | frozenset(OVERRIDES)
    return MYSQL_PARAMS | MYSQL_CLIENT_PARAMS | frozenset(OVERRIDES) | {"socket"}


def _refuse_ambiguous(engine: str, rest: str, uri: _Uri, pieces: list[_Piece]) -> None:
    """An '@' libpq reads as part of the host, port, database or a parameter name means
    the user name or password held an unencoded '/', '@' or '?': what libpq would use is
    not what was written, and parts of the password would land in other fields (and in
    every output). Only the value of a known parameter may hold an '@' (?user=me@corp)."""
    known = _known_keys(engine)
    inside = [
        (start, start + len(value))
        for key, value, start in pieces
        if value is not None and _lenient(key) in known
    ]
    for i in range(uri.host_at, len(rest)):
        if rest[i] == "@" and not any(a <= i < b for a, b in inside):
            raise InvalidTarget(AMBIGUOUS)


def _lenient(text: str) -> str:
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        return ""


def _host_port(raw: str, bracketed: bool, port: str | None) -> tuple[str | None, int | None]:
    if bracketed:
        host = _unquote(raw, "host")  # [fe80::1%25eth0]: zone id eth0
        if not host or not re.fullmatch(r"[0-9A-Fa-f:.%a-zA-Z0-9]+", host) or ":" not in host:
            raise InvalidTarget("invalid IPv6 address in brackets")
    else:
        host = _unquote(raw, "host")
        if host and not host.startswith("/") and not re.fullmatch(r"[A-Za-z0-9._\-]+", host):
            raise InvalidTarget("invalid host name")
    # libpq: an empty port ("host:/") is the default port
    return host or None, None if port is None else _port(port, empty_ok=True)


def _host_list(
    hosts: str, ports: str
) -> tuple[str | None, int | None, list[tuple[str | None, int | None]]]:
    """host=h1,h2 port=p1,p2 as libpq pairs them (fe-connect.c, connectOptions2): one port
    applies to every host, otherwise there must be as many ports as hosts."""
    names = hosts.split(",") if hosts else [""]
    numbers = [_port(p, empty_ok=True) for p in ports.split(",")] if ports else [None]
    if len(numbers) == 1:
        numbers *= len(names)
    elif len(numbers) != len(names):
        raise InvalidTarget(
            f"{len(names)} hosts but {len(numbers)} ports: give one port, or one per host"
        )
    pairs = [
        (h.strip("[]") if ":" in h and not h.startswith("/") else h or None, p)
        for h, p in zip(names, numbers, strict=True)
    ]
    return pairs[0][0], pairs[0][1], pairs[1:]


def _port(text: str, empty_ok: bool = False) -> int | None:
    if text == "" and empty_ok:
        return None
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        # Never echoed: a port that is not a number may be a misplaced password.
        raise InvalidTarget("invalid port: expected a number from 1 to 65535 after the ':'")
    return int(text)


def _parse_query(engine: str, pieces: list[_Piece]) -> dict[str, Any]:
    """libpq's rules: every piece is key=value with exactly one '='. A parameter the
    advisor does not know, right after a password, is the password's own tail when the
    password holds an unencoded '&': refused rather than shown."""
    params: dict[str, Any] = {}
    after_password = False
    for raw_key, raw_value, _ in pieces:
        if raw_value is None:
            raise InvalidTarget("a query parameter has no '=': percent-encode '&' in values as %26")
        if "=" in raw_value:
            raise InvalidTarget(
                "a query parameter has two '=': percent-encode '=' in values as %3D"
            )
        key = _unquote(raw_key, "parameter name")
        if not key:
            raise InvalidTarget("empty parameter name in the query string")
        if after_password and key not in _known_keys(engine) and not is_secret_key(key):
            raise InvalidTarget(
                "an unknown parameter follows the password: if the password "
                "holds '&', percent-encode it as %26"
            )
        after_password = key in PASSWORD_KEYS
        params[key] = _unquote(raw_value, "value of a query parameter")
    return params


def _classify(
    engine: str, raw: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    if engine == "postgresql":
        driver_keys, client_keys = LIBPQ_PARAMS, PG_CLIENT_PARAMS
    else:
        driver_keys, client_keys = MYSQL_PARAMS, MYSQL_CLIENT_PARAMS
    params, client, unknown = {}, {}, {}
    for key, value in raw.items():
        if key in driver_keys:
            params[key] = value
        elif key in client_keys:
            client[key] = value
        else:
            unknown[_safe(key)] = value
    if engine == "postgresql":
        _validate_pg(params)
    else:
        _validate_mysql(params)
    return params, client, unknown


def _validate_pg(params: dict[str, Any]) -> None:
    mode = params.get("sslmode")
    if mode is not None and mode not in SSLMODES:
        raise InvalidTarget(f"unknown sslmode: use one of {', '.join(SSLMODES)}")
    timeout = params.get("connect_timeout")
    if timeout is not None and not re.fullmatch(r"-?\d+", timeout.strip()):
        raise InvalidTarget("connect_timeout must be a whole number of seconds")


def _validate_mysql(params: dict[str, Any]) -> None:
    mode = params.get("ssl-mode")
    if mode is not None:
        if mode.upper() not in MYSQL_SSL_MODES:
            raise InvalidTarget(f"unknown ssl-mode: use one of {', '.join(MYSQL_SSL_MODES)}")
        params["ssl-mode"] = mode.upper()


def _parse_keywords(text: str) -> Target:
    values: dict[str, Any] = {}
    pos = 0
    while pos < len(text):
        m = _KEYWORD_RE.match(text, pos)
        if not m:
            if text[pos:].strip():
                raise InvalidTarget("invalid keyword string: expected key=value pairs")
            break
        key, pos = m.group(1), m.end()
        if pos < len(text) and text[pos] == "'":
            value, pos = _quoted_value(text, pos + 1)
        else:
            value, pos = _unquoted_value(text, pos)
        values[key] = value
    if not values:
        raise InvalidTarget("invalid keyword string: expected key=value pairs")
    known = LIBPQ_PARAMS | {"host", "port", "dbname", "user", "password"}
    bad = [k for k in values if k not in known]
    if bad:
        # Only a name from the advisor's own vocabulary is echoed, never the input.
        prisma = next((k for k in bad if k in PG_CLIENT_PARAMS), None)
        hint = f" ({prisma!r} is a URL parameter for Prisma & co, not for libpq)" if prisma else ""
        raise InvalidTarget(f"unknown connection keyword{hint}")
    host, port, more = _host_list(values.pop("host", ""), values.pop("port", ""))
    database = values.pop("dbname", None) or None
    user = values.pop("user", None)
    password = values.pop("password", None)
    _validate_pg(values)
    return Target(
        engine="postgresql",
        scheme="postgresql",
        host=host,
        port=port,
        database=database,
        user=user,
        password=password,
        params=values,
        form="keywords",
        more_hosts=tuple((h or "", p) for h, p in more),
    )


def _unquoted_value(text: str, pos: int) -> tuple[str, int]:
    """Up to the next blank; a backslash takes the next character as it is (libpq)."""
    out = []
    while pos < len(text) and text[pos] not in _BLANKS:
        if text[pos] == "\\":
            pos += 1
            if pos == len(text):
                break
        out.append(text[pos])
        pos += 1
    return "".join(out), pos


def _quoted_value(text: str, pos: int) -> tuple[str, int]:
    out = []
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
        elif ch == "'":
            return "".join(out), pos + 1
        else:
            out.append(ch)
            pos += 1
    raise InvalidTarget("unterminated quoted value in the keyword string")


def _unquote(text: str, what: str) -> str:
    """libpq's strict percent-decoding (every '%' starts %XY), then UTF-8."""
    if _BAD_PERCENT.search(text):
        raise InvalidTarget(
            f"the {what} has a '%' that is not followed by two hex digits: write '%' as %25"
        )
    try:
        value = unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise InvalidTarget(f"the {what} is not valid percent-encoded UTF-8") from None
    if "\x00" in value:  # libpq and the MySQL protocol cannot carry a NUL
        raise InvalidTarget(f"the {what} contains a NUL character (%00)")
    return value


def _safe(text: str) -> str:
    """Printable, bounded echo of user input that is never a password."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)[:40]
