"""URL checks: what a connection string gets wrong, judged offline."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..catalog.providers import load_providers
from ..options import MIGRATING_ORMS
from . import Context, Result, check
from .common import stays_local

if TYPE_CHECKING:
    from ..facts.model import EndpointFacts, Facts, URLFacts

PG_WEAK = {
    None: "no sslmode: libpq's default `prefer` tries TLS but carries on in plain text if the "
    "handshake fails, so anyone on the path can strip it",
    "disable": "sslmode=disable never encrypts: password and queries cross the network in plain text",
    "allow": "sslmode=allow starts in plain text and encrypts only if the server refuses that",
    "prefer": "sslmode=prefer tries TLS but carries on in plain text if the handshake fails, "
    "so anyone on the path can strip it",
}
MY_WEAK = {
    None: "no ssl-mode: the mysql client's default PREFERRED falls back to plain text, and "
    "Prisma and mysql2 do not use TLS at all unless asked",
    "DISABLED": "ssl-mode=DISABLED never encrypts",
    "PREFERRED": "ssl-mode=PREFERRED falls back to plain text when TLS cannot be set up",
}
# Prisma's MySQL `sslaccept` turns TLS on; the value says whether the certificate is checked.
SSLACCEPT = {"strict": "VERIFY_IDENTITY", "accept_invalid_certs": "REQUIRED"}
PRISMA_ONLY = (
    "pgbouncer",
    "connection_limit",
    "pool_timeout",
    "schema",
    "sslaccept",
    "socket_timeout",
    "statement_cache_size",
)
# These hand every URL parameter to libpq (or asyncpg), which refuses ones it does not know.
STRICT_CLIENTS = ("django", "sqlalchemy")


def _url(facts: Facts) -> URLFacts | None:
    # Every report's facts carry `url`; only URL207 and URL301 still read it through this.
    return facts["url"]


def _is_prisma(ctx: Context, url: URLFacts) -> bool:
    if ctx.orm:
        return ctx.orm == "prisma"
    return any(p in url["client_params"] for p in ("pgbouncer", "connection_limit", "pool_timeout"))


def _transaction_pooled(endpoint: EndpointFacts) -> bool:
    return endpoint["role"] == "pooled" and endpoint["pool_mode"] in (
        "transaction",
        "statement",
    )


def _mode_unknown_pgbouncer(endpoint: EndpointFacts) -> bool:
    """A PgBouncer whose mode the user picks per pool (DigitalOcean, Crunchy Bridge)."""
    return (
        endpoint["role"] == "pooled"
        and endpoint["pool_mode"] is None
        and endpoint["pooler"] == "pgbouncer"
    )


def _node_aliases(ctx: Context, url: URLFacts) -> bool:
    """node-postgres (pg-connection-string 2.x) reads prefer/require/verify-ca as verify-full
    unless uselibpqcompat=true asks for libpq's meaning."""
    return ctx.orm == "node-postgres" and str(url["params"].get("uselibpqcompat")).lower() != "true"


def _where(endpoint: EndpointFacts) -> str:
    if endpoint["label"] and endpoint["provider_name"]:
        return f'the {endpoint["provider_name"]} endpoint "{endpoint["label"]}"'
    return f'the endpoint "{endpoint["label"]}"' if endpoint["label"] else "this endpoint"


def _mysql_mode(url: URLFacts) -> tuple[str | None, str]:
    """(effective ssl-mode, how it was spelt) for a MySQL URL."""
    params = url["params"]
    if params.get("ssl-mode"):
        return params["ssl-mode"], f"ssl-mode={params['ssl-mode']}"
    accept = params.get("sslaccept")
    if accept in SSLACCEPT:
        return SSLACCEPT[accept], f"sslaccept={accept}"
    return None, "ssl-mode"


def _catalog_endpoint(endpoint: EndpointFacts) -> dict[str, Any]:
    """The matched endpoint's own catalog entry ({} when none matched)."""
    provider = load_providers().get(endpoint["provider"] or "")
    if not provider or endpoint["endpoint_id"] is None:
        return {}
    return next((e for e in provider["endpoints"] if e["id"] == endpoint["endpoint_id"]), {})


@check("URL101")
def sslmode(facts: Facts, ctx: Context) -> Result | None:
    url = facts["url"]
    if url["socket"]:
        return None
    hop = _catalog_endpoint(url["endpoint"]).get("local_hop_tls")
    if hop:  # e.g. Hyperdrive: the runtime writes sslmode=disable for a hop it keeps local
        return Result("pass", f"{_where(url['endpoint'])}: {hop}")
    if facts["engine"] == "postgresql":
        mode, weak, spelt = url["sslmode"], PG_WEAK, f"sslmode={url['sslmode']}"
    else:
        (mode, spelt), weak = _mysql_mode(url), MY_WEAK
    if facts["engine"] == "postgresql" and _node_aliases(ctx, url):
        if mode is None:
            return Result(
                "warn",
                "no sslmode: node-postgres uses no TLS at all unless the code passes an ssl option",
            )
        if mode == "prefer":
            return Result(
                "pass",
                "node-postgres currently treats sslmode=prefer as verify-full; "
                "spell it verify-full, since that alias is deprecated",
            )
    if mode not in weak:
        return Result("pass", f"{spelt} refuses plain text")
    if stays_local(ctx.target.host if ctx.target else None):
        return Result(
            "warn", weak[mode] + "; acceptable only while the database is on this machine"
        )
    hard = mode in ("disable", "allow", "DISABLED")
    return Result("fail" if hard else "warn", weak[mode])


@check("URL102")
def verification(facts: Facts, ctx: Context) -> Result | None:
    url = facts["url"]
    if url["socket"]:
        return None
    params = url["params"]
    if facts["engine"] == "mysql":
        mode, spelt = _mysql_mode(url)
        if mode == "REQUIRED":
            return Result(
                "warn",
                f"{spelt} encrypts but accepts any certificate, so it does not "
                "stop an impostor server",
            )
        if mode in ("VERIFY_CA", "VERIFY_IDENTITY"):
            return Result("pass", f"{spelt} checks the server certificate")
        return None
    mode = url["sslmode"]
    if mode == "verify-full":
        return Result("pass", "sslmode=verify-full checks the certificate chain and the host name")
    if mode == "verify-ca":
        return Result(
            "pass", "sslmode=verify-ca checks the certificate chain but not the host name"
        )
    if mode != "require":
        return None
    if params.get("sslrootcert"):
        return Result(
            "pass", "sslmode=require with sslrootcert: libpq verifies the chain (like verify-ca)"
        )
    if _node_aliases(ctx, url):
        return Result(
            "pass",
            "node-postgres currently treats sslmode=require as verify-full; "
            "spell it verify-full, since that alias is deprecated",
        )
    if _is_prisma(ctx, url) and params.get("sslaccept") == "strict":
        return Result(
            "pass", "sslmode=require with sslaccept=strict: Prisma checks the certificate"
        )
    return Result(
        "warn",
        "sslmode=require encrypts but accepts any certificate, so it does not "
        "stop an impostor server",
    )


@check("URL201")
def prisma_pgbouncer(facts: Facts, ctx: Context) -> Result | None:
    url = facts["url"]
    if not _is_prisma(ctx, url):
        return None  # other clients ignore pgbouncer=...; URL302 says so
    if ctx.prisma_version and ctx.prisma_version >= 7:
        # The driver adapter (node-postgres) takes the URL: it sends unnamed statements,
        # which every pool keeps, and reads no pgbouncer flag (STK101 judges the stack).
        if "pgbouncer" not in url["params"]:
            return None
        return Result(
            "warn",
            "Prisma 7 hands the URL to its driver adapter, which ignores pgbouncer=true "
            "and sends unnamed statements (which any pool keeps): drop the parameter",
        )
    endpoint = url["endpoint"]
    flag = url["params"].get("pgbouncer")
    has_flag = str(flag).lower() == "true" if flag is not None else False
    where = _where(endpoint)
    if _transaction_pooled(endpoint):
        if endpoint["prepared_statements"] is False:
            if has_flag:
                return Result(
                    "pass",
                    f"pgbouncer=true is set for {where}, which cannot keep "
                    "prepared statements across transactions",
                )
            return Result(
                "fail",
                f"{where} cannot keep prepared statements across transactions: "
                'add pgbouncer=true or Prisma fails with \'prepared statement "s0" '
                "already exists'",
            )
        if endpoint["prepared_statements"] is True:
            if has_flag:
                return Result(
                    "warn",
                    f"{where} tracks prepared statements (PgBouncer 1.21+ with "
                    "max_prepared_statements > 0): pgbouncer=true is no longer needed "
                    "and only costs speed",
                )
            return Result(
                "pass", f"{where} tracks prepared statements; pgbouncer=true is not needed"
            )
        if has_flag:
            return Result("pass", "pgbouncer=true is set for a transaction-mode pooler")
        return Result(
            "warn",
            f"{where} pools by transaction and its prepared-statement support is "
            "not known: add pgbouncer=true unless it is PgBouncer 1.21+ with "
            "max_prepared_statements > 0 (probe it to know)",
        )
    if _mode_unknown_pgbouncer(endpoint) and not has_flag:
        return Result(
            "warn",
            f"{where} runs whatever mode the pool was created with: in "
            "transaction mode on PgBouncer before 1.21 (or with "
            "max_prepared_statements = 0) Prisma needs pgbouncer=true",
        )
    if has_flag and endpoint["role"] == "direct":
        return Result(
            "warn",
            "pgbouncer=true on a direct endpoint only turns off Prisma's prepared statements",
        )
    if has_flag and endpoint["pool_mode"] == "session":
        return Result("warn", "pgbouncer=true is not needed for a session-mode pooler")
    return None


@check("URL202")
def prisma_connection_limit(facts: Facts, ctx: Context) -> Result | None:
    url = facts["url"]
    if not ctx.serverless or not _is_prisma(ctx, url):
        return None
    limit = url["params"].get("connection_limit")
    if ctx.prisma_version and ctx.prisma_version >= 7:
        if limit is not None:
            return Result(
                "warn",
                "Prisma 7 ignores connection_limit in the URL: the driver "
                "adapter owns the pool, so set its size (e.g. PrismaPg({ "
                "connectionString, max: 1 })) and drop the parameter",
            )
        return Result(
            "pass",
            "Prisma 7 takes the pool size from the driver adapter, not the "
            "URL: keep its max small (e.g. 1) per serverless instance",
        )
    if limit is None:
        return Result(
            "warn",
            "no connection_limit: Prisma 6 opens num_cpus*2+1 connections per "
            "instance; add connection_limit=1 (on Prisma 7 set the adapter's max instead)",
        )
    if not str(limit).isdigit() or int(limit) < 1:
        return Result("fail", "connection_limit must be a whole number of at least 1")
    if int(limit) > 1:
        return Result(
            "warn",
            f"connection_limit={limit}: every serverless instance may hold {limit} "
            "connections; start at 1 and raise only after measuring",
        )
    return Result("pass", f"connection_limit={limit} per serverless instance")


@check("URL203")
def direct_is_direct(facts: Facts, ctx: Context) -> Result | None:
    if "direct_url" not in facts:  # only with --direct-url
        return None
    endpoint = facts["direct_url"]["endpoint"]
    if _transaction_pooled(endpoint):
        return Result(
            "fail",
            f"the direct URL points at {_where(endpoint)}, which pools by "
            f"{endpoint['pool_mode']}: migrations need a direct connection or a "
            "session-mode pooler",
        )
    if _mode_unknown_pgbouncer(endpoint):
        return Result(
            "warn",
            f"the direct URL points at {_where(endpoint)}: fine only if that "
            "pool is in session mode; use the direct port to be sure",
        )
    if endpoint["role"] == "pooled":
        return Result(
            "pass",
            f"the direct URL uses {_where(endpoint)}, which keeps a server "
            "connection per session, as migrations need",
        )
    if endpoint["role"] == "direct":
        return Result("pass", f"the direct URL points at {_where(endpoint)}")
    return Result("pass", "the direct URL does not match any known pooled endpoint")


@check("URL204")
def migrations_have_direct_url(facts: Facts, ctx: Context) -> Result | None:
    if "direct_url" in facts:
        return None
    endpoint = facts["url"]["endpoint"]
    if not (_transaction_pooled(endpoint) or _mode_unknown_pgbouncer(endpoint)):
        return None
    if ctx.orm is not None and ctx.orm not in MIGRATING_ORMS:
        return None
    return Result(
        "warn",
        f"the URL goes through {_where(endpoint)}; give migrations a direct URL "
        "(--direct-url / DIRECT_URL) so they bypass the pooler",
    )


@check("URL205")
def port_matches(facts: Facts, ctx: Context) -> Result | None:
    endpoint = facts["url"]["endpoint"]
    if ctx.target is None or endpoint["endpoint_id"] is not None:
        return None
    ports = endpoint.get("host_ports")  # only when a provider matched the host
    port = ctx.target.effective_port
    if not ports or port in {e["port"] for e in ports}:
        return None
    listed = ", ".join(
        f"{e['port']} ({e['role']}{', ' + e['pool_mode'] if e['pool_mode'] else ''})" for e in ports
    )
    return Result(
        "warn",
        f"port {port} is not one {endpoint['provider_name']} serves on this host; "
        f"it serves {listed}",
    )


@check("URL206")
def serverless_uses_pooled(facts: Facts, ctx: Context) -> Result | None:
    endpoint = facts["url"]["endpoint"]
    if not ctx.serverless or endpoint["role"] != "direct":
        return None
    if endpoint["provider"] in (None, "self-hosted") or "other_endpoints" not in endpoint:
        return None
    pooled = [e for e in endpoint["other_endpoints"] if e["role"] == "pooled"]
    if not pooled:
        return None
    listed = load_providers()[str(endpoint["provider"])]["endpoints"]
    unmatched = {e["id"] for e in listed if e.get("matchable") is False}
    if all(e["id"] in unmatched for e in pooled):
        # A pooler the URL cannot be told apart from (Heroku's attachment): not on every plan.
        return Result(
            "warn",
            f"{_where(endpoint)} is direct: each serverless instance holds its own server "
            f'connections; if your plan offers it, use "{pooled[0]["label"]}" instead',
        )
    return Result(
        "fail",
        f"{_where(endpoint)} is direct: each serverless instance holds its "
        f'own server connections; use the pooled one ("{pooled[0]["label"]}")',
    )


@check("URL208")
def user_format(facts: Facts, ctx: Context) -> Result | None:
    endpoint = facts["url"]["endpoint"]
    pattern = endpoint["user_regex"]
    if not pattern or ctx.target is None:
        return None
    user = ctx.target.user or ""
    if re.fullmatch(pattern, user, re.IGNORECASE):
        return Result("pass", f"the user name has the form {_where(endpoint)} expects")
    return Result(
        "fail",
        f"{_where(endpoint)} expects a user name matching {pattern}, got {user!r}",
    )


@check("URL209")
def provider_pitfalls(facts: Facts, ctx: Context) -> Result | None:
    provider_id = facts["url"]["endpoint"]["host_provider"]
    if not provider_id:
        return None
    provider = load_providers().get(provider_id)
    if not provider or not provider["pitfalls"]:
        return None
    titles = "; ".join(p["title"] for p in provider["pitfalls"])
    # Informational: the URL cannot show whether they bite, so this never warns.
    return Result(
        "pass",
        f"known {provider['name']} pitfalls the URL cannot show: {titles} "
        f"(details: advisor providers {provider_id})",
    )


@check("URL211")
def provider_recognised_by_names(facts: Facts, ctx: Context) -> Result | None:
    endpoint = facts["url"]["endpoint"]
    note = _catalog_endpoint(endpoint).get("match_note")
    # Only endpoints matched on user/database names as well as the host carry a note.
    return Result("pass", f"{_where(endpoint)}: {note}") if note else None


@check("URL302")
def unknown_params(facts: Facts, ctx: Context) -> Result | None:
    url = facts["url"]
    unknown = url["unknown_params"]
    if unknown:
        return Result("warn", "unknown parameter(s): " + ", ".join(unknown[:10]))
    if ctx.orm and ctx.orm != "prisma" and facts["engine"] == "postgresql":
        found = [p for p in PRISMA_ONLY if p in url["client_params"]]
        if found and ctx.orm in STRICT_CLIENTS:
            return Result(
                "fail",
                f"{', '.join(found)} is read only by Prisma; {ctx.orm} hands URL "
                "parameters to the driver, which refuses the connection "
                "('invalid connection option')",
            )
        if found:
            return Result(
                "warn", f"{', '.join(found)} is read only by Prisma; {ctx.orm} ignores it"
            )
    return None
