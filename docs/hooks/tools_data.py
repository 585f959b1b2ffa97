"""MkDocs hook: write `assets/advisor-data.json` for the browser tools (docs/tools/).

The URL checker, config generator and capacity calculator read everything they know from
this file, built from the package's own data: the provider catalog, the lint check texts
(and the capacity thresholds), and the URL grammar of `advisor.target`. Nothing is copied
into JavaScript by hand.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from advisor import target, urlfacts  # noqa: E402
from advisor.catalog import load_checks  # noqa: E402
from advisor.catalog.providers import ORMS, POOLERS, load_providers  # noqa: E402
from advisor.checks import url as url_checks  # noqa: E402

OUTPUT = "assets/advisor-data.json"
ENDPOINT_KEYS = (
    "id",
    "label",
    "engine",
    "role",
    "host_regex",
    "port",
    "pooler",
    "pool_mode",
    "prepared_statements",
    "user_regex",
    "ipv6_only",
    "for_migrations",
    "env_var",
)
CAPACITY_CHECKS = ("PG101", "PG207")  # the calculator's thresholds and wording


def _example_url(example: str | None) -> str | None:
    m = re.search(r"(?:postgres(?:ql)?|mysql)://[^\s)'\"]+", example or "")
    return m.group(0) if m else None


def _endpoint(e: dict) -> dict:
    out = {k: e[k] for k in ENDPOINT_KEYS if k in e}
    out["example_url"] = _example_url(e.get("example"))
    return out


def tools_data() -> dict:
    providers = [
        {
            "id": pid,
            "name": p["name"],
            "generic": p["generic"],
            "engines": p.get("engines", []),
            "docs_page": p.get("docs_page"),
            "host_regex": p["host_regex"],
            "endpoints": [_endpoint(e) for e in p["endpoints"]],
            "pitfalls": [pit.get("title") or pit.get("id") for pit in p["pitfalls"]],
            "orm": {
                name: {
                    "pooled_params": o.get("pooled_params") or {},
                    "direct_url": bool(o.get("direct_url")),
                    "note": o.get("note"),
                }
                for name, o in p["orm"].items()
            },
        }
        for pid, p in load_providers().items()
    ]
    checks = [
        {
            "id": cid,
            "title": c["title"],
            "severity": c["severity"],
            "engine": c["engine"],
            "kind": c["kind"],
            "summary": c["summary"],
            "remediation": c["remediation"],
            "params": c["params"],
            "docs": f"checks/{cid}/",
        }
        for cid, c in load_checks().items()
        if c["kind"] == "lint" or cid in CAPACITY_CHECKS
    ]
    grammar = {
        "schemes": target.SCHEMES,
        "default_ports": target.DEFAULT_PORTS,
        "sslmodes": list(target.SSLMODES),
        "mysql_ssl_modes": list(target.MYSQL_SSL_MODES),
        "libpq_params": sorted(target.LIBPQ_PARAMS),
        "pg_client_params": sorted(target.PG_CLIENT_PARAMS),
        "mysql_params": sorted(target.MYSQL_PARAMS),
        "mysql_client_params": sorted(target.MYSQL_CLIENT_PARAMS),
        "password_keys": list(target.PASSWORD_KEYS),
        # Parameter names whose values are masked (target.py, or urlfacts.py before it moved).
        "secret_key": getattr(target, "_SECRET_KEY", None) or urlfacts._SECRET_KEY,
    }
    grammar["secret_key"] = grammar["secret_key"].pattern
    lint = {
        "prisma_only": list(url_checks.PRISMA_ONLY),
        "strict_clients": list(url_checks.STRICT_CLIENTS),
        "sslaccept": url_checks.SSLACCEPT,
    }
    return {
        "schema_version": 1,
        "orms": list(ORMS),
        "poolers": list(POOLERS),
        "providers": providers,
        "checks": checks,
        "grammar": grammar,
        "lint": lint,
    }


def on_post_build(config, **kwargs):
    out = Path(config["site_dir"]) / OUTPUT
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(tools_data(), separators=(",", ":")), encoding="utf-8")
