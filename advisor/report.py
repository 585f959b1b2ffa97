"""The Report: what every renderer receives. Its dict form is JSON schema v1."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from . import __version__
from .errors import EXIT_FINDINGS, EXIT_OK, EXIT_PROBE

SCHEMA_VERSION = 1
STATUS_ORDER = ("pass", "skip", "warn", "fail", "error")


@dataclass
class Finding:
    id: str
    title: str
    severity: str
    status: str
    message: str
    remediation: str
    docs_url: str


@dataclass
class Report:
    kind: str                      # "probe" | "lint"
    target: dict                   # url (redacted), engine, host, port, database, provider
    facts: dict
    findings: list[Finding]
    label: str | None = None
    generated_at: str = field(
        default_factory=lambda: datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))

    @property
    def counts(self) -> dict:
        counts = {s: 0 for s in ("pass", "warn", "fail", "skip", "error")}
        for f in self.findings:
            counts[f.status] += 1
        return counts

    @property
    def status(self) -> str:
        counts = self.counts
        for status in ("error", "fail", "warn"):
            if counts[status]:
                return status
        return "pass"

    def exit_code(self, strict: bool = False) -> int:
        status = self.status
        if status == "error":
            return EXIT_PROBE
        if status == "fail" or (strict and status == "warn"):
            return EXIT_FINDINGS
        return EXIT_OK

    def to_dict(self) -> dict:
        return {
            "schema_version": SCHEMA_VERSION,
            "kind": self.kind,
            "tool": {"name": "pooling-advisor", "version": __version__},
            "generated_at": self.generated_at,
            "label": self.label,
            "target": self.target,
            "facts": self.facts,
            "findings": [asdict(f) for f in self.findings],
            "summary": {"status": self.status, **self.counts},
        }
