"""MySQL and MariaDB: reachability, slots now and at peak, errors, idle timeout, TLS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Context, Result, check, common, mysql_facts
from .common import headroom_status
from .common import pct as _pct

if TYPE_CHECKING:
    from ..facts.model import Facts, MySQLReportFacts


def _duration(seconds: int | None) -> str:
    if seconds is None:
        return "an unknown time"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}".replace(".0 ", " ")
    return f"{seconds} s"


def _server(my: MySQLReportFacts) -> str:
    version = my["server_version"]
    product = "MariaDB" if my["flavor"] == "mariadb" else "MySQL"
    return version if product.lower() in version.lower() else f"{product} {version}"


@check("MY001")
def reachable(facts: Facts, ctx: Context) -> Result | None:
    my = mysql_facts(facts)
    return common.reachable(facts, _server(my) if my else "MySQL None")


@check("MY101")
def headroom(facts: Facts, ctx: Context) -> Result | None:
    my = mysql_facts(facts)
    if my is None:
        return None
    total, free, used = my["max_connections"], my["available_connections"], my["connections_in_use"]
    pct = _pct(free, total)
    message = (
        f"{free} of {total} slots free ({pct:.0f} %): max_connections {total}, {used} in use "
        f"(this probe included); the {my['reserved_connections']} admin slot(s) come on "
        "top and are not counted as free"
    )
    return Result(headroom_status("MY101", free, pct, ctx), message)


@check("MY102")
def peak_headroom(facts: Facts, ctx: Context) -> Result | None:
    my = mysql_facts(facts)
    peak = my["max_used_connections"] if my else None
    if my is None or peak is None:
        return None
    total = my["max_connections"]
    pct = _pct(peak, total)
    at = my["max_used_connections_time"]
    when = f" (at {at})" if at else ""
    message = (
        f"peak {peak} of {total} connections ({pct:.0f} %){when} since the server started "
        f"{_duration(my['uptime_seconds'])} ago; {my['connections_in_use']} in use now"
    )
    if peak > total:
        message += ": the admin slot was taken too, at least briefly"
    if pct >= ctx.param("MY102", "fail_above_percent"):
        return Result("fail", message)
    if pct >= ctx.param("MY102", "warn_above_percent"):
        return Result("warn", message)
    return Result("pass", message)


@check("MY103")
def connection_errors(facts: Facts, ctx: Context) -> Result | None:
    my = mysql_facts(facts)
    refused = my["connection_errors_max_connections"] if my else None
    if my is None or refused is None:  # None: a server without the counter
        return None
    since = f"in {_duration(my['uptime_seconds'])} since the server started"
    if refused > 0:
        return Result(
            "fail", f"{refused} connection(s) refused because max_connections was reached, {since}"
        )
    aborted, attempts = my["aborted_connects"] or 0, my["connections_total"] or 0
    pct = _pct(aborted, attempts)
    message = (
        f"no connection refused with every slot taken; {aborted} of {attempts} connection "
        f"attempts aborted ({pct:.1f} %) {since}"
    )
    peak, total = my["max_used_connections"], my["max_connections"]
    if aborted and peak is not None and total and peak >= total:
        # The counter above only sees refusals once the admin slot is taken too; ordinary
        # accounts turned away earlier are counted as aborted connects.
        return Result(
            "warn",
            message + f": the peak reached max_connections ({peak} of {total}), "
            "so some of them were probably refused with 'Too many connections'",
        )
    if attempts >= ctx.param("MY103", "min_attempts") and pct > ctx.param(
        "MY103", "warn_above_aborted_percent"
    ):
        return Result("warn", message + ": failed logins, handshake timeouts or TLS errors")
    return Result("pass", message)


@check("MY104")
def idle_timeout(facts: Facts, ctx: Context) -> Result | None:
    my = mysql_facts(facts)
    wait = my["wait_timeout"] if my else None
    if my is None or wait is None:
        return None
    if not ctx.serverless:
        return Result("skip", "not checked: --no-serverless says clients are long-lived")
    limit = ctx.param("MY104", "warn_above_seconds")
    message = (
        f"wait_timeout is {wait} s ({_duration(wait)}), interactive_timeout "
        f"{my['interactive_timeout']} s"
    )
    if wait > limit:
        return Result(
            "warn",
            message + ": a connection left open by a frozen or finished instance "
            f"keeps its slot that long (suggested: at most {limit} s)",
        )
    return Result("pass", message)


@check("MY105")
def user_limit(facts: Facts, ctx: Context) -> Result | None:
    my = mysql_facts(facts)
    if my is None:
        return None
    limits = my["max_user_connections"]
    limit, used = limits["effective"], limits["connections"]
    account = limits["account_name"] or "this account"
    if limit <= 0:
        return Result(
            "pass", f"no per-account connection limit for {account} (max_user_connections 0)"
        )
    source = (
        "the account's MAX_USER_CONNECTIONS" if limits["account"] else "global max_user_connections"
    )
    if used is None:
        return Result(
            "warn" if limit < 10 else "pass",
            f"{account} is limited to {limit} connections ({source})",
        )
    free = limit - used
    message = f"{account} is limited to {limit} connections ({source}); {used} in use, {free} free"
    if free < ctx.param("MY105", "fail_below_slots"):
        return Result("fail", message)
    if _pct(free, limit) < ctx.param("MY105", "warn_below_percent") or limit < 10:
        return Result("warn", message)
    return Result("pass", message)


@check("MY301")
def tls_in_use(facts: Facts, ctx: Context) -> Result | None:
    return common.tls_in_use(mysql_facts(facts), ctx)


@check("MY302")
def tls_verified(facts: Facts, ctx: Context) -> Result | None:
    return common.tls_verified(mysql_facts(facts))


@check("MY303")
def tls_required_by_server(facts: Facts, ctx: Context) -> Result | None:
    my = mysql_facts(facts)
    if my is None:
        return None
    server = my["tls"]["server"]
    if server["ssl_enabled"] is False:
        return Result("warn", "the server does not offer TLS at all, so it cannot require it")
    required = server["require_secure_transport"]
    if required is None:
        return None
    if required:
        return Result(
            "pass", "require_secure_transport=ON: the server refuses plain-text TCP connections"
        )
    return Result(
        "warn",
        "require_secure_transport=OFF: a client with ssl-mode=PREFERRED or DISABLED "
        "may still connect in plain text",
    )
