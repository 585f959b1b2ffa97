"""What libpq reads besides the connection string: service files, PG* variables, the
password file.

libpq fills what the connection string leaves out from a service file, then from
environment variables, then from defaults, and looks a password up in the password
file when none is given (fe-connect.c: conninfo_add_defaults, parseServiceInfo,
connectOptions2, passwordFromFile). The same steps here tell which passwords the
server may see, so that none of them can come back in a report.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Protocol


class Target(Protocol):
    """What these functions read of an advisor.target.Target (which imports this module)."""

    @property
    def password(self) -> str | None: ...

    def libpq_kwargs(self) -> dict[str, Any]: ...


ENV_DEFAULTS = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "dbname": "PGDATABASE",
    "user": "PGUSER",
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "service": "PGSERVICE",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
}
DEFAULT_SOCKET_DIRS = ("/var/run/postgresql", "/run/postgresql", "/tmp")
SYSCONFDIR = "/etc/postgresql-common"  # where the libpq psycopg ships looks without PGSYSCONFDIR
SECRET_KEYWORDS = (
    "password",
    "sslpassword",
)  # the libpq keywords a service file may hold secrets in


def libpq_option(t: Target, key: str, service: dict[str, Any] | None = None) -> str | None:
    """The value libpq ends up with for `key` before its built-in defaults: the
    connection string (an empty value too), else the service file, else the environment."""
    given = t.libpq_kwargs()
    value: str | None = given.get(key)
    if value is not None:
        return value
    if service is None:
        service = service_options(libpq_option(t, "service", {}))
    if key in service:
        found: str | None = service[key]
        return found
    return os.environ.get(ENV_DEFAULTS[key]) if key in ENV_DEFAULTS else None


def libpq_secrets(t: Target) -> list[str]:
    service = service_options(libpq_option(t, "service", {}))

    def pick(key: str) -> str | None:
        return libpq_option(t, key, service)

    found = [v for k, v in service.items() if k in SECRET_KEYWORDS]
    found.append(os.environ.get("PGPASSWORD"))
    # libpq reads the password file when no password is set (PGPASSWORD included); kept
    # even with PGPASSWORD, as a superset: an unset or empty variable changes the choice.
    if not t.password and not service.get("password"):
        user = pick("user") or _os_user()
        host = pick("host") or pick("hostaddr") or ""
        if not host or host in DEFAULT_SOCKET_DIRS:
            host = "localhost"
        found += pgpass_passwords(
            pick("passfile") or _home_file(".pgpass"),
            (host, pick("port") or "5432", pick("dbname") or user, user),
        )
    return found


def service_options(name: str | None) -> dict[str, Any]:
    """The keywords of service `name`: PGSERVICEFILE or ~/.pg_service.conf first, then
    PGSYSCONFDIR/pg_service.conf; the first file that has the group wins."""
    if not name:
        return {}
    first = os.environ.get("PGSERVICEFILE") or _home_file(".pg_service.conf")
    system = Path(os.environ.get("PGSYSCONFDIR") or SYSCONFDIR) / "pg_service.conf"
    for path in (first, system):
        group = _service_group(path, name) if path else None
        if group is not None:
            return group
    return {}


def _read_lines(path: str | Path) -> list[str] | None:
    """A regular file's lines (libpq skips anything else: a FIFO must not block us)."""
    try:
        if not Path(path).is_file():
            return None
        return Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, ValueError):
        return None


def _service_group(path: str | Path, name: str) -> dict[str, Any] | None:
    lines = _read_lines(path)
    if lines is None:
        return None
    group = False
    found: dict[str, str] | None = None
    for line in (raw.strip() for raw in lines):
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if found is not None:
                break
            group = line.startswith(f"[{name}]")  # libpq ignores what follows the ']'
            found = {} if group else None
        elif group and found is not None and "=" in line:
            key, _, value = line.partition("=")
            found.setdefault(key, value)  # the first setting of a keyword wins
    return found


def pgpass_passwords(path: str | Path | None, wanted: tuple[Any, ...]) -> list[str]:
    """Passwords of the password-file lines matching (host, port, dbname, user), with
    libpq's matching (`*` fields, backslash escapes). libpq uses the first; all are kept."""
    lines = _read_lines(path) if path else None
    found: list[str] = []
    for line in lines or ():
        if not line or line.startswith("#"):
            continue
        pos: int | None = 0
        for token in wanted:
            pos = _pgpass_field(line, pos, str(token)) if pos is not None else None
        if pos is not None:  # the password runs to the next unescaped ':'
            field_text = re.match(r"(?:\\.|[^:\\])*\\?", line[pos:]).group()  # type: ignore[union-attr]  # matches "" at least
            found.append(re.sub(r"\\(.)", r"\1", field_text))
    return found


def _pgpass_field(line: str, pos: int, token: str) -> int | None:
    """libpq's pwdfMatchesString: where the next field starts if this one matches `token`."""
    if line.startswith("*:", pos):
        return pos + 2
    t = 0
    while pos < len(line):
        escaped = line[pos] == "\\"
        if escaped:
            pos += 1
            if pos == len(line):
                return None
        if line[pos] == ":" and t == len(token) and not escaped:
            return pos + 1
        if t == len(token) or line[pos] != token[t]:
            return None
        pos, t = pos + 1, t + 1
    return None


def _home_file(name: str) -> str | None:
    try:
        return str(Path.home() / name)  # $HOME, else the password database, as libpq
    except (RuntimeError, KeyError):
        return None


def _os_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return ""
