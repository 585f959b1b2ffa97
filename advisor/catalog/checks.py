"""Load the check catalog (one TOML file per topic in catalog/checks/)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from .loader import load_toml

HERE = Path(__file__).parent / "checks"
SEVERITIES = ("high", "medium", "low")
KINDS = ("probe", "lint")
ENGINES = ("postgresql", "mysql", "any")
REQUIRED = ("title", "topic", "engine", "kind", "severity", "summary", "rationale", "remediation")

# Where the site is published; every finding links to <DOCS_BASE>checks/<ID>/.
DOCS_BASE = os.environ.get("ADVISOR_DOCS_BASE", "https://pooling-advisor.github.io/advisor/")


@lru_cache(maxsize=1)
def load_checks() -> dict[str, dict]:
    """id -> entry, with `params` defaulting to {} and texts stripped."""
    checks: dict[str, dict] = {}
    for path in sorted(HERE.glob("*.toml")):
        data = load_toml(path)
        for check_id, entry in data.items():
            if check_id in checks:
                raise ValueError(f"check {check_id} is defined twice (again in {path.name})")
            entry = {k: (v.strip() if isinstance(v, str) else v) for k, v in entry.items()}
            entry.setdefault("params", {})
            entry["id"] = check_id
            entry["file"] = path.name
            checks[check_id] = entry
    return dict(sorted(checks.items()))  # id order: PG001, PG101, ..., URL302


def docs_url(check_id: str) -> str:
    return f"{DOCS_BASE}checks/{check_id}/"
