"""URL212: libpq's multi-host URLs, host by host (lint: the catalog's match for each;
probe: which one answered and which failed before it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import Context, Result, check

if TYPE_CHECKING:
    from ..facts.model import Facts


def _name(host: str | None, port: int) -> str:
    host = host or "(local socket)"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@check("URL212")
def several_hosts(facts: Facts, ctx: Context) -> Result | None:
    hosts = facts["url"].get("hosts")
    if not hosts:
        return None
    attrs = facts["url"]["params"].get("target_session_attrs", "any")
    order = (
        "in random order"
        if facts["url"]["params"].get("load_balance_hosts") == "random"
        else "in this order"
    )
    listed = ", ".join(
        _name(h["host"], h["port"])
        + (
            f" ({h['provider_name']}{': ' + h['label'] if h['label'] else ''})"
            if h["provider_name"]
            else ""
        )
        for h in hosts
    )
    seen = facts.get("hosts")
    if not isinstance(seen, list):  # lint, or a probe that did not get in
        return Result(
            "pass",
            f"libpq tries {len(hosts)} hosts {order} (target_session_attrs={attrs}): {listed}; "
            "the other checks judge the first",
        )
    answered = next((a for a in seen if a["result"] == "answered"), None)
    failed = [a for a in seen if a["result"] == "failed"]
    reached = f"the probe got in at {_name(answered['host'], answered['port'])}" if answered else ""
    if failed:
        before = "; ".join(f"{_name(a['host'], a['port'])}: {a['error']}" for a in failed)
        return Result(
            "warn",
            f"{reached} after {len(failed)} host(s) before it failed ({before}): every new "
            "connection tries them first and waits for the failure",
        )
    return Result(
        "pass",
        f"{reached}, the first of {len(hosts)} hosts (target_session_attrs={attrs}): {listed}",
    )
