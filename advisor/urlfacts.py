"""Facts that come from the URL alone: no network, no DNS, no driver import."""

from __future__ import annotations

import re

from .catalog.providers import load_providers, match_endpoint
from .facts.model import EndpointFacts, TargetSummary, URLFacts, engine_of
from .target import Target, is_secret_key


def endpoint_facts(target: Target) -> EndpointFacts:
    """What the provider catalog says about this host and port."""
    host = None if target.is_socket else target.host
    provider_id, endpoint, host_provider = match_endpoint(
        target.engine, host, target.effective_port, target.user, target.database
    )
    provider = load_providers().get(provider_id) if provider_id else None
    facts: EndpointFacts = {
        "provider": provider_id,
        "provider_name": provider["name"] if provider else None,
        "host_provider": host_provider,
        "endpoint_id": None,
        "label": None,
        "role": None,
        "pooler": None,
        "pool_mode": None,
        "prepared_statements": None,
        "for_migrations": None,
        "ipv6_only": False,
        "user_regex": None,
    }
    if endpoint:
        facts.update(
            {
                "endpoint_id": endpoint["id"],
                "label": endpoint.get("label"),
                "role": endpoint.get("role"),
                "pooler": endpoint.get("pooler"),
                "pool_mode": endpoint.get("pool_mode"),
                "prepared_statements": endpoint.get("prepared_statements"),
                "for_migrations": endpoint.get("for_migrations"),
                "ipv6_only": bool(endpoint.get("ipv6_only")),
                "user_regex": endpoint.get("user_regex"),
            }
        )
    if provider:
        # Endpoints this very host serves on other ports: tells a wrong port from an
        # unknown host of the same provider (e.g. Railway's TCP proxy on a random port).
        # (Catalog entries are TOML: `port`, `label`, ... are optional there.)
        facts["host_ports"] = [
            {"port": e["port"], "role": e.get("role"), "pool_mode": e.get("pool_mode")}
            for e in provider["endpoints"]
            if e.get("engine") == target.engine
            and e.get("port")
            and host
            and re.fullmatch(e["host_regex"], host.rstrip("."), re.IGNORECASE)
        ]
        facts["other_endpoints"] = [
            {
                "id": e["id"],
                "role": e.get("role"),
                "port": e.get("port"),
                "label": e.get("label"),
                "pool_mode": e.get("pool_mode"),
            }
            for e in provider["endpoints"]
            if e.get("engine") == target.engine
        ]
    return facts


def url_facts(target: Target, source: str | None = None) -> URLFacts:
    """The URL part of a report's facts: parameters (secrets masked) and its endpoint,
    matched here once for this target (target_summary and the MySQL probe reuse it)."""
    masked = {k: ("***" if is_secret_key(k) else v) for k, v in target.all_params().items()}
    facts: URLFacts = {
        "form": "keywords" if target.form == "keywords" else "url",
        "source": source,
        "has_password": target.password is not None,
        "socket": target.is_socket,
        "sslmode": target.params.get("sslmode")
        if target.engine == "postgresql"
        else target.params.get("ssl-mode"),
        "params": masked,
        "client_params": sorted(target.client_params),
        "unknown_params": sorted(target.unknown_params),
        "endpoint": endpoint_facts(target),
    }
    if target.more_hosts:
        facts["hosts"] = []
        for i, one in enumerate(target.each_host()):
            match = facts["endpoint"] if i == 0 else endpoint_facts(one)
            facts["hosts"].append(
                {
                    "host": one.host,
                    "port": one.effective_port,
                    "provider_name": match["provider_name"],
                    "label": match["label"],
                }
            )
    return facts


def target_summary(target: Target, url: URLFacts) -> TargetSummary:
    """The report's `target`; `url` is this target's url_facts (its endpoint is reused)."""
    provider = url["endpoint"]["provider"]
    return {
        "url": target.display,
        "engine": engine_of(target.engine),
        "host": target.host,
        "port": target.effective_port,
        "database": target.database,
        "provider": provider if provider != "self-hosted" else None,
    }
