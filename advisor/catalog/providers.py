"""Load the provider catalog (catalog/providers.toml) and match hosts to endpoints.

Pure data access: no database driver is imported here, so the docs site and the
lint commands can use it without psycopg or pymysql installed.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from ..options import ORMS  # noqa: F401  the one list: --orm, targets files, the [orm] tables
from ..target import is_ip_address
from .loader import load_toml

HERE = Path(__file__).parent
CATALOG_FILE = HERE / "providers.toml"

ENGINES = ("postgresql", "mysql")
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}
ROLES = ("pooled", "direct")
POOLERS = (
    "pgbouncer",
    "supavisor",
    "rds-proxy",
    "pgpool-ii",
    "proxysql",
    "hyperdrive",
    "vitess",
    "cloud-sql-mcp",
    "alloydb-mcp",
    "prisma-accelerate",
)
POOL_MODES = ("transaction", "session", "statement")


@lru_cache(maxsize=1)
def _raw_catalog() -> dict[str, Any]:
    return load_toml(CATALOG_FILE)


@lru_cache(maxsize=1)
def load_providers() -> dict[str, dict[str, Any]]:
    """provider id -> entry (file order kept).

    Each entry gets `id`, and defaults for the optional collections:
    `endpoints`, `facts`, `pitfalls` = [] and `orm` = {}; `generic` defaults to False.
    Callers must treat the result as read-only (it is cached).
    """
    data = _raw_catalog()
    if data.get("schema_version") != 1:
        raise ValueError(
            f"unsupported provider catalog schema_version: {data.get('schema_version')!r}"
        )
    providers: dict[str, dict[str, Any]] = {}
    for provider_id, entry in data.get("providers", {}).items():
        entry = dict(entry)
        entry["id"] = provider_id
        entry.setdefault("generic", False)
        entry.setdefault("endpoints", [])
        entry.setdefault("facts", [])
        entry.setdefault("pitfalls", [])
        entry.setdefault("orm", {})
        entry.setdefault("host_regex", [])
        providers[provider_id] = entry
    return providers


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _is_socket_or_missing(host: str | None) -> bool:
    return not host or host.startswith("/")


def _names_no_provider(host: str | None) -> bool:
    """No host, a socket, or an IP address: providers are told apart by host name only,
    so there is no need to compile their host patterns (a few ms on every run)."""
    return host is None or _is_socket_or_missing(host) or is_ip_address(host)


def _effective_port(engine: str, port: int | str | None) -> int | None:
    if port is None or port == "":
        return DEFAULT_PORTS.get(engine)
    return int(port)


def _names_match(pattern: str | None, value: str | None) -> bool:
    """An endpoint's `user_match` / `database_match`: no pattern always matches; with one,
    the name must be given and match it whole."""
    if pattern is None:
        return True
    return value is not None and _compile(pattern).fullmatch(value) is not None


def _endpoint_matches(
    endpoint: dict[str, Any],
    engine: str,
    host: str | None,
    port: int | None,
    user: str | None = None,
    database: str | None = None,
) -> bool:
    if endpoint.get("engine") != engine:
        return False
    if endpoint.get("matchable") is False:  # listed on the page, never told apart by URL
        return False
    if "port" in endpoint and endpoint["port"] != port:
        return False
    if not _names_match(endpoint.get("user_match"), user):
        return False
    if not _names_match(endpoint.get("database_match"), database):
        return False
    if host is None:
        # Only reached for generic endpoints (sockets / no host): port decides.
        return True
    return _compile(endpoint["host_regex"]).fullmatch(host) is not None


def provider_for_host(host: str | None) -> str | None:
    """The first non-generic provider whose `host_regex` list matches the host (searched)."""
    if host is None or _names_no_provider(host):
        return None
    host = host.rstrip(".")
    for provider_id, provider in load_providers().items():
        if provider["generic"]:
            continue
        if any(_compile(rx).search(host) for rx in provider["host_regex"]):
            return provider_id
    return None


def match_endpoint(
    engine: str,
    host: str | None,
    port: int | str | None,
    user: str | None = None,
    database: str | None = None,
) -> tuple[str | None, dict[str, Any] | None, str | None]:
    """Say which provider endpoint a (engine, host, port) triple points at.

    Returns (provider_id, endpoint, host_matched_provider_id):
    - a real provider's endpoint matched: (id, endpoint, id)
    - only a provider's host_regex matched: (id, None, id)
    - only a generic self-hosted convention matched by port: ("self-hosted", endpoint, None)
    - nothing: (None, None, None)
    `port=None` means the engine default (5432 / 3306). A missing host, a Unix socket
    path (starting with '/') or an IP address only gets the generic port match.
    An endpoint with `user_match` / `database_match` also needs the user / database name
    to match (Heroku's hosts look like Aurora's; its generated names tell them apart);
    one with `matchable = false` is only listed (its port is not published).
    """
    eff_port = _effective_port(engine, port)
    providers = load_providers()

    if host is not None and not _names_no_provider(host):
        clean_host = host.rstrip(".")
        for provider_id, provider in providers.items():
            if provider["generic"]:
                continue
            for endpoint in provider["endpoints"]:
                if _endpoint_matches(endpoint, engine, clean_host, eff_port, user, database):
                    return provider_id, endpoint, provider_id
        owner = provider_for_host(clean_host)
        if owner is not None:
            return owner, None, owner

    for provider_id, provider in providers.items():
        if not provider["generic"]:
            continue
        for endpoint in provider["endpoints"]:
            if _endpoint_matches(endpoint, engine, None, eff_port):
                return provider_id, endpoint, None
    return None, None, None
