"""URL or keyword DSN -> Target, and the redacted form every output uses.

Parsing is done here rather than by libpq so that `advisor lint` needs no driver
import, and so that parameters meant for Prisma or other clients are recorded
instead of being handed to libpq (which rejects them).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote

from .errors import InvalidTarget

DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}

SCHEMES = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
}

OTHER_SCHEMES = ("http", "https", "jdbc:postgresql", "jdbc:mysql", "jdbc:mariadb", "pg", "psql",
                 "mongodb", "mongodb+srv", "redis", "rediss", "sqlite", "mssql", "sqlserver", "file")

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
MYSQL_SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")

# libpq connection keywords other than host/port/dbname/user/password.
LIBPQ_PARAMS = frozenset("""
    hostaddr connect_timeout client_encoding options application_name
    fallback_application_name keepalives keepalives_idle keepalives_interval
    keepalives_count tcp_user_timeout replication gssencmode sslmode requiressl
    sslcompression sslcert sslkey sslpassword sslcertmode sslrootcert sslcrl sslcrldir
    sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version krbsrvname
    gsslib gssdelegation service target_session_attrs load_balance_hosts
    channel_binding sslnegotiation require_auth passfile
""".split())

# Understood and recorded, never passed to libpq: Prisma's URL parameters and a
# few other clients' (Supabase's Vercel workaround, node-postgres' libpq switch).
PG_CLIENT_PARAMS = frozenset("""
    pgbouncer connection_limit pool_timeout schema sslaccept socket_timeout
    statement_cache_size sslidentity max_idle_connection_lifetime
    max_connection_lifetime workaround uselibpqcompat
""".split())

# MySQL client options (mysql CLI spelling) and Prisma's MySQL parameters.
MYSQL_PARAMS = frozenset("""
    ssl-mode ssl-ca ssl-cert ssl-key ssl-cipher tls-version connect-timeout
    connect_timeout socket charset
""".split())
MYSQL_CLIENT_PARAMS = frozenset("""
    sslaccept sslcert sslidentity sslpassword connection_limit pool_timeout
    socket_timeout statement_cache_size
""".split())

PASSWORD_KEYS = ("password", "sslpassword")
# Any parameter whose name looks like a credential is masked in every output.
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|api_?key|credential", re.IGNORECASE)
_MASK = "***"


_KEYWORD_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*")


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
    engine: str                      # "postgresql" | "mysql"
    scheme: str                      # as written, e.g. "postgres" or "mariadb"
    host: str | None                 # hostname, IP literal, or a socket directory/path
    port: int | None                 # as written; see `effective_port`
    database: str | None
    user: str | None
    password: str | None = field(default=None, repr=False)
    params: dict = field(default_factory=dict)         # for the driver
    client_params: dict = field(default_factory=dict)  # Prisma & co: recorded only
    unknown_params: dict = field(default_factory=dict)
    form: str = "url"                # "url" | "keywords"
    driver: str | None = None        # SQLAlchemy-style "+psycopg2" suffix, if any

    # -- derived -------------------------------------------------------------
    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.engine]

    @property
    def is_socket(self) -> bool:
        return bool(self.host) and self.host.startswith("/")

    @property
    def sslmode(self) -> str | None:
        return self.params.get("sslmode")

    @property
    def secrets(self) -> list[str]:
        """Every secret this target carries or the driver may use for it (PGPASSWORD,
        MYSQL_PWD, matching .pgpass lines), for scrubbing messages and logs."""
        found = [self.password] + [v for k, v in self.all_params().items() if is_secret_key(k)]
        found.append(os.environ.get("PGPASSWORD" if self.engine == "postgresql" else "MYSQL_PWD"))
        if self.engine == "postgresql" and self.password is None:
            found += pgpass_passwords(self)
        return [s for s in dict.fromkeys(found) if s]

    def all_params(self) -> dict:
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
        host = self.host or ""
        if self.is_socket:
            host = quote(host, safe="")
        elif ":" in host:
            host = f"[{quote(host, safe=':.')}]"
        else:  # a host from ?host= or ?socket= is not checked: keep the display one line
            host = quote(host, safe="-._~")
        port = f":{self.port}" if self.port else ""
        path = "/" + quote(self.database, safe="") if self.database else ""
        scheme = self.scheme + (f"+{self.driver}" if self.driver else "")
        query = "&".join(
            f"{quote(k, safe='-_.')}={_MASK if is_secret_key(k) else quote(str(v), safe='-_./,')}"
            for k, v in self.all_params().items()
        )
        return f"{scheme}://{userinfo}{host}{port}{path}" + (f"?{query}" if query else "")

    def scrub(self, text: str) -> str:
        """Remove every secret (raw, percent-encoded, DSN-quoted) from a message."""
        return scrub(text, self.secrets)

    def libpq_kwargs(self) -> dict:
        """Keyword arguments for psycopg.connect; only libpq's own parameters."""
        kw = {k: v for k, v in self.params.items()}
        for key, value in (("host", self.host), ("port", self.port),
                           ("dbname", self.database), ("user", self.user),
                           ("password", self.password)):
            if value is not None:
                kw[key] = str(value)
        return kw


def secret_forms(secret: str) -> list[str]:
    """The ways a secret shows up in URLs, DSNs and messages; longest first."""
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret),
             secret.replace("\\", "\\\\").replace("'", "\\'")}
    return sorted((f for f in forms if f), key=len, reverse=True)


def scrub(text: str, secrets) -> str:
    for secret in secrets:
        for form in secret_forms(secret):
            text = text.replace(form, _MASK)
    return text


def pgpass_passwords(t: Target) -> list[str]:
    """Passwords of the .pgpass lines libpq could use for `t` (matched leniently)."""
    name = t.params.get("passfile") or os.environ.get("PGPASSFILE") or "~/.pgpass"
    try:
        lines = Path(name).expanduser().read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    host = "localhost" if not t.host or t.is_socket else t.host
    wanted = (host, str(t.effective_port), t.database, t.user)
    found = []
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = [f.replace("\\:", ":").replace("\\\\", "\\")
                  for f in re.split(r"(?<!\\):", line, maxsplit=4)]
        if len(fields) == 5 and all(f == "*" or w is None or f == w
                                    for f, w in zip(fields, wanted)):
            found.append(fields[4])
    return found


def _keywords_display(t: Target) -> str:
    parts = []
    for key, value in (("host", t.host), ("port", t.port), ("dbname", t.database),
                       ("user", t.user), ("password", t.password)):
        if value is not None:
            parts.append((key, _MASK if key == "password" else str(value)))
    parts += [(k, _MASK if is_secret_key(k) else str(v)) for k, v in t.params.items()]
    return " ".join(f"{k}={_quote_keyword(v)}" for k, v in parts)


def _quote_keyword(value: str) -> str:
    if value and not re.search(r"[\s'\\]", value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- parsing ---------------------------------------------------------------

def parse_target(text: str | None) -> Target:
    """Parse a URL (postgresql://, postgres://, mysql://, mariadb://) or a libpq
    keyword string. Raises InvalidTarget with a message that never quotes the input."""
    if text is None or not text.strip():
        raise InvalidTarget("no database URL given (pass one or set DATABASE_URL)")
    text = text.strip()
    if "\x00" in text or any(ord(c) < 32 for c in text):
        raise InvalidTarget("the URL contains control characters")
    if "://" in text:
        return _parse_url(text)
    if _KEYWORD_RE.match(text):
        return _parse_keywords(text)
    raise InvalidTarget(
        "not a database URL: expected postgresql://, postgres://, mysql://, mariadb:// "
        "or a keyword string such as 'host=... dbname=...'")


def _parse_url(text: str) -> Target:
    scheme_text, rest = text.split("://", 1)
    base, _, driver = scheme_text.lower().partition("+")
    if base not in SCHEMES or (driver and not re.fullmatch(r"[a-z0-9_]+", driver)):
        # Echo only well-known schemes: unknown text before :// may be a pasted password.
        shown = f" {scheme_text!r}" if scheme_text.lower() in OTHER_SCHEMES or base in SCHEMES else ""
        raise InvalidTarget(
            f"unsupported scheme{shown}: use postgresql://, postgres://, mysql:// or mariadb://")
    engine = SCHEMES[base]

    cut = len(rest)
    for sep in "/?":
        pos = rest.find(sep)
        if pos != -1:
            cut = min(cut, pos)
    authority, tail = rest[:cut], rest[cut:]
    userinfo, at, hostport = authority.rpartition("@")
    user = password = None
    if at:
        u, colon, p = userinfo.partition(":")
        user = _unquote(u, "user name")
        password = _unquote(p, "password") if colon else None
    host, port = _split_hostport(hostport)

    path, _, query = tail.partition("?")
    if "/" in path[1:]:
        raise InvalidTarget("the database name contains '/'; percent-encode it as %2F")
    database = _unquote(path[1:], "database name") if path.startswith("/") and len(path) > 1 else None

    raw_params = _parse_query(query)
    # libpq lets the query override URL parts (e.g. ?host=/var/run/postgresql).
    overrides = {"host": None, "port": None, "dbname": None, "user": None, "password": None}
    for key in list(raw_params):
        if key in overrides:
            overrides[key] = raw_params.pop(key)
    if engine == "mysql" and "socket" in raw_params:
        overrides["host"] = raw_params.pop("socket")
    if overrides["host"] is not None:
        host = overrides["host"] or None
    if overrides["port"] is not None:
        port = _port(overrides["port"])
    if overrides["dbname"] is not None:
        database = overrides["dbname"] or None
    if overrides["user"] is not None:
        user = overrides["user"]
    if overrides["password"] is not None:
        password = overrides["password"]

    params, client, unknown = _classify(engine, raw_params)
    return Target(engine=engine, scheme=base, host=host, port=port, database=database,
                  user=user, password=password, params=params, client_params=client,
                  unknown_params=unknown, form="url", driver=driver or None)


def _split_hostport(hostport: str) -> tuple[str | None, int | None]:
    if "," in hostport:
        raise InvalidTarget("several hosts in one URL are not supported; probe each host on its own")
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1:
            raise InvalidTarget("unterminated IPv6 address: '[' without ']'")
        host = _unquote(hostport[1:end], "host")  # [fe80::1%25eth0]: zone id eth0
        if not host or not re.fullmatch(r"[0-9A-Fa-f:.%a-zA-Z0-9]+", host) or ":" not in host:
            raise InvalidTarget("invalid IPv6 address in brackets")
        after = hostport[end + 1:]
        if after and not after.startswith(":"):
            raise InvalidTarget("unexpected text after the IPv6 address")
        return host, _port(after[1:]) if after else None
    if "]" in hostport:
        raise InvalidTarget("unexpected ']' in the host")
    host, colon, port_text = hostport.rpartition(":") if ":" in hostport else (hostport, "", "")
    host = _unquote(host, "host")
    if host and not host.startswith("/") and not re.fullmatch(r"[A-Za-z0-9._\-]+", host):
        raise InvalidTarget("invalid host name")
    return host or None, _port(port_text) if colon else None


def _port(text: str) -> int | None:
    if text == "":
        return None
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        # Echo digits only: a port that is not a number may be a misplaced password.
        shown = f" {text[:12]!r}" if text.isascii() and text.isdigit() else ""
        raise InvalidTarget(f"invalid port{shown}: expected a number from 1 to 65535")
    return int(text)


def _parse_query(query: str) -> dict:
    params: dict = {}
    for piece in query.split("&"):
        if not piece:
            continue
        key, eq, value = piece.partition("=")
        key = _unquote(key.replace("+", " "), "parameter name")
        if not key:
            raise InvalidTarget("empty parameter name in the query string")
        params[key] = _unquote(value, f"value of {_safe(key)}") if eq else ""
    return params


def _classify(engine: str, raw: dict) -> tuple[dict, dict, dict]:
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


def _validate_pg(params: dict) -> None:
    mode = params.get("sslmode")
    if mode is not None and mode not in SSLMODES:
        raise InvalidTarget(f"unknown sslmode {_safe(mode[:20])!r}: use one of {', '.join(SSLMODES)}")
    timeout = params.get("connect_timeout")
    if timeout is not None and not re.fullmatch(r"-?\d+", timeout.strip()):
        raise InvalidTarget("connect_timeout must be a whole number of seconds")


def _validate_mysql(params: dict) -> None:
    mode = params.get("ssl-mode")
    if mode is not None:
        if mode.upper() not in MYSQL_SSL_MODES:
            raise InvalidTarget(
                f"unknown ssl-mode {_safe(mode[:20])!r}: use one of {', '.join(MYSQL_SSL_MODES)}")
        params["ssl-mode"] = mode.upper()


def _parse_keywords(text: str) -> Target:
    values: dict = {}
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
            end = pos
            while end < len(text) and not text[end].isspace():
                end += 1
            value = text[pos:end].replace("\\", "") if "\\" in text[pos:end] else text[pos:end]
            pos = end
        values[key] = value
    if not values:
        raise InvalidTarget("invalid keyword string: expected key=value pairs")
    known = LIBPQ_PARAMS | {"host", "port", "dbname", "user", "password"}
    bad = [k for k in values if k not in known]
    if bad:
        raise InvalidTarget(f"unknown connection keyword {_safe(bad[0][:30])!r}")
    if "," in values.get("host", ""):
        raise InvalidTarget("several hosts in one DSN are not supported; probe each host on its own")
    host = values.pop("host", None) or None
    if host and ":" in host and not host.startswith("/"):
        host = host.strip("[]")
    port = _port(values.pop("port", ""))
    database = values.pop("dbname", None) or None
    user = values.pop("user", None)
    password = values.pop("password", None)
    _validate_pg(values)
    return Target(engine="postgresql", scheme="postgresql", host=host, port=port,
                  database=database, user=user, password=password, params=values,
                  form="keywords")


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
