"""URL checks: what a connection string gets wrong, judged offline."""

from __future__ import annotations

import re

from . import Context, Result, check
from .tls import _stays_local

PG_WEAK = {
    None: "no sslmode: libpq's default `prefer` falls back to plain text without a word",
    "disable": "sslmode=disable never encrypts",
    "allow": "sslmode=allow tries plain text first and encrypts only if the server insists",
    "prefer": "sslmode=prefer falls back to plain text when TLS fails",
}
MY_WEAK = {
    None: "no ssl-mode: the default PREFERRED falls back to plain text when the server has no TLS",
    "DISABLED": "ssl-mode=DISABLED never encrypts",
    "PREFERRED": "ssl-mode=PREFERRED falls back to plain text when the server has no TLS",
}
PRISMA_ONLY = ("pgbouncer", "connection_limit", "pool_timeout", "schema", "sslaccept",
               "socket_timeout", "statement_cache_size")


def _url(facts: dict) -> dict | None:
    return facts.get("url")


def _is_prisma(ctx: Context, url: dict) -> bool:
    if ctx.orm:
        return ctx.orm == "prisma"
    return any(p in url["client_params"] for p in ("pgbouncer", "connection_limit", "pool_timeout"))


def _transaction_pooled(endpoint: dict) -> bool:
    return endpoint.get("role") == "pooled" and endpoint.get("pool_mode") in ("transaction", "statement")


def _where(endpoint: dict) -> str:
    if endpoint.get("label") and endpoint.get("provider_name"):
        return f"{endpoint['provider_name']} {endpoint['label']}"
    return endpoint.get("label") or "this endpoint"


@check("URL101")
def sslmode(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or url["socket"]:
        return None
    weak = PG_WEAK if facts["engine"] == "postgresql" else MY_WEAK
    mode = url["sslmode"]
    if mode not in weak:
        return Result("pass", f"{'sslmode' if facts['engine'] == 'postgresql' else 'ssl-mode'}={mode} refuses plain text")
    local = _stays_local(ctx.target.host if ctx.target else None)
    if local:
        return Result("warn", weak[mode] + "; acceptable only while the database is on this machine")
    hard = mode in ("disable", "allow", "DISABLED")
    return Result("fail" if hard else "warn", weak[mode])


@check("URL102")
def verification(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or url["sslmode"] not in ("require", "REQUIRED"):
        return None
    params = url["params"]
    if facts["engine"] == "postgresql" and params.get("sslrootcert"):
        return Result("pass", "sslmode=require with sslrootcert: libpq verifies the chain (like verify-ca)")
    return Result("warn", f"{'sslmode=require' if facts['engine'] == 'postgresql' else 'ssl-mode=REQUIRED'} "
                  "encrypts but accepts any certificate")


@check("URL201")
def prisma_pgbouncer(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None:
        return None
    endpoint = url["endpoint"]
    flag = url["params"].get("pgbouncer")
    has_flag = str(flag).lower() == "true" if flag is not None else False
    if not _is_prisma(ctx, url):
        if flag is not None:
            return Result("warn", "pgbouncer=... is read only by Prisma; this client ignores it "
                          "(disable prepared statements in the driver instead)")
        return None
    if _transaction_pooled(endpoint):
        where = _where(endpoint)
        if endpoint.get("prepared_statements") is False:
            if has_flag:
                return Result("pass", f"pgbouncer=true set for {where}, which cannot track prepared statements")
            return Result("fail", f"{where} runs in {endpoint['pool_mode']} mode without prepared-statement "
                          "support: add pgbouncer=true or Prisma fails with 'prepared statement \"s0\" "
                          "already exists'")
        if endpoint.get("prepared_statements") is True:
            if has_flag:
                return Result("warn", f"{where} tracks prepared statements (PgBouncer 1.21+ with "
                              "max_prepared_statements > 0): pgbouncer=true is no longer needed")
            return Result("pass", f"{where} tracks prepared statements; pgbouncer=true not needed")
        if has_flag:
            return Result("pass", "pgbouncer=true set for a transaction-mode pooler")
        return Result("warn", f"{where} is a transaction-mode pooler of unknown version: add pgbouncer=true "
                      "unless it is PgBouncer 1.21+ with max_prepared_statements > 0 (probe it to know)")
    if has_flag and endpoint.get("role") == "direct":
        return Result("warn", "pgbouncer=true on a direct endpoint only turns off Prisma's prepared statements")
    if has_flag and endpoint.get("pool_mode") == "session":
        return Result("warn", "pgbouncer=true is not needed for a session-mode pooler")
    return None


@check("URL202")
def prisma_connection_limit(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or not ctx.serverless or not _is_prisma(ctx, url):
        return None
    limit = url["params"].get("connection_limit")
    if ctx.prisma_version and ctx.prisma_version >= 7:
        if limit is not None:
            return Result("warn", "Prisma 7 ignores connection_limit in the URL: set the driver "
                          "adapter's pool size (e.g. PrismaPg({ max: 1 })) instead")
        return Result("pass", "Prisma 7: the pool size comes from the driver adapter, not the URL "
                      "(keep its max small, e.g. 1, per serverless instance)")
    if limit is None:
        return Result("warn", "no connection_limit: Prisma 6 opens num_cpus*2+1 connections per "
                      "instance; add connection_limit=1 (on Prisma 7 set the adapter's max instead)")
    if not str(limit).isdigit():
        return Result("fail", "connection_limit must be a whole number")
    if int(limit) > 1:
        return Result("warn", f"connection_limit={limit}: every serverless instance may hold {limit} "
                      "connections; start at 1 and raise only after measuring")
    return Result("pass", f"connection_limit={limit} per serverless instance")


@check("URL203")
def direct_is_direct(facts: dict, ctx: Context):
    direct = facts.get("direct_url")
    if direct is None:
        return None
    endpoint = direct["endpoint"]
    if _transaction_pooled(endpoint):
        return Result("fail", f"the direct URL points at {_where(endpoint)} "
                      f"({endpoint['pool_mode']} mode): migrations need a direct connection")
    if endpoint.get("role") == "pooled":
        return Result("pass", f"the direct URL uses {_where(endpoint)} in session mode, which migrations tolerate")
    if endpoint.get("role") == "direct":
        return Result("pass", f"the direct URL points at {_where(endpoint)}")
    return Result("pass", "the direct URL does not match any known pooled endpoint")


@check("URL204")
def migrations_have_direct_url(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or facts.get("direct_url") is not None:
        return None
    endpoint = url["endpoint"]
    if not _transaction_pooled(endpoint):
        return None
    if ctx.orm not in (None, "prisma", "django", "rails", "sqlalchemy", "drizzle"):
        return None
    return Result("warn", f"the URL goes through {_where(endpoint)}; give migrations a direct URL "
                  "(--direct-url / DIRECT_URL) so they bypass the pooler")


@check("URL205")
def port_matches(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None:
        return None
    endpoint = url["endpoint"]
    if endpoint.get("host_provider") is None or endpoint.get("endpoint_id") is not None:
        return None
    ports = sorted({e["port"] for e in endpoint.get("other_endpoints", []) if e.get("port")})
    if not ports:
        return None
    port = ctx.target.effective_port if ctx.target else None
    listed = ", ".join(f"{e['port']} ({e['role']}{', ' + e['pool_mode'] if e.get('pool_mode') else ''})"
                       for e in endpoint["other_endpoints"] if e.get("port"))
    return Result("warn", f"port {port} is not one of {endpoint['provider_name']}'s endpoints for this "
                  f"host: {listed}")


@check("URL206")
def serverless_uses_pooled(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or not ctx.serverless:
        return None
    endpoint = url["endpoint"]
    if endpoint.get("role") != "direct" or endpoint.get("provider") in (None, "self-hosted"):
        return None
    pooled = [e for e in endpoint.get("other_endpoints", []) if e.get("role") == "pooled"]
    if not pooled:
        return None
    return Result("fail", f"{_where(endpoint)} is a direct endpoint; serverless traffic should use "
                  f"{endpoint['provider_name']}'s pooled endpoint ({pooled[0]['label']})")


@check("URL207")
def ipv4_reachable(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or not url["endpoint"].get("ipv6_only"):
        return None
    status = "warn" if ctx.serverless else "pass"
    return Result(status, f"{_where(url['endpoint'])} resolves to IPv6 only by default; platforms "
                  "without outbound IPv6 cannot reach it")


@check("URL208")
def user_format(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or not url["endpoint"].get("user_regex") or ctx.target is None:
        return None
    user = ctx.target.user or ""
    if re.fullmatch(url["endpoint"]["user_regex"], user, re.IGNORECASE):
        return Result("pass", f"user name has the form {_where(url['endpoint'])} expects")
    return Result("fail", f"{_where(url['endpoint'])} expects a user name matching "
                  f"{url['endpoint']['user_regex']}, got {user!r}")


@check("URL301")
def password_on_command_line(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None or not url["has_password"]:
        return None
    if url.get("source") == "argument":
        return Result("warn", "the password was given on the command line, where the process "
                      "list shows it; pass the URL through DATABASE_URL or --env-file")
    return Result("pass", f"the password came from {url.get('source') or 'the environment'}, "
                  "not the command line")


@check("URL302")
def unknown_params(facts: dict, ctx: Context):
    url = _url(facts)
    if url is None:
        return None
    unknown = url["unknown_params"]
    if unknown:
        return Result("warn", "unknown parameter(s): " + ", ".join(unknown[:10]))
    if (ctx.orm and ctx.orm != "prisma" and facts["engine"] == "postgresql"
            and any(p in url["client_params"] for p in PRISMA_ONLY)):
        found = [p for p in PRISMA_ONLY if p in url["client_params"]]
        return Result("warn", f"{', '.join(found)} is read only by Prisma; {ctx.orm} ignores it")
    return None
