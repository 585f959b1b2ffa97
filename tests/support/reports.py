"""Sample probe reports and findings, in the JSON schema v1, for the report and site tests."""

from __future__ import annotations

DOCS = "https://pooling-advisor.github.io/advisor/checks/"


def finding(fid: str, status: str, message: str = "msg") -> dict:
    return {
        "id": fid,
        "title": f"title of {fid}",
        "severity": "high",
        "status": status,
        "message": message,
        "remediation": "fix it",
        "docs_url": f"{DOCS}{fid}/",
    }


def report(
    label: str | None,
    findings: list[dict],
    available: int | None = 30,
    host: str = "db.example.com",
) -> dict:
    counts = {
        s: sum(f["status"] == s for f in findings)
        for s in ("pass", "warn", "fail", "skip", "error")
    }
    status = next((s for s in ("error", "fail", "warn") if counts[s]), "pass")
    facts = {
        "engine": "postgresql",
        "url": {
            "form": "url",
            "has_password": True,
            "params": {},
            "endpoint": {"provider": None, "role": None, "pooler": None, "pool_mode": None},
        },
    }
    if available is not None:
        facts.update(
            max_connections=40,
            reserved_connections=3,
            connections_in_use=2,
            available_connections=available,
            server_version="16.4",
            pooler={
                "detected": True,
                "kind": "pgbouncer",
                "pool_mode": "transaction",
                "evidence": [],
            },
            tls={
                "client": {"in_use": True, "version": "TLSv1.3", "cipher": "x", "verified": True},
                "server": {"in_use": True},
            },
        )
    return {
        "schema_version": 1,
        "kind": "probe",
        "tool": {"name": "pooling-advisor", "version": "0.1.0"},
        "generated_at": "2026-11-24T06:00:00Z",
        "label": label,
        "target": {
            "url": f"postgresql://app:***@{host}:5432/app",
            "engine": "postgresql",
            "host": host,
            "port": 5432,
            "database": "app",
            "provider": None,
        },
        "facts": facts,
        "findings": findings,
        "summary": {"status": status, **counts},
    }
