"""The Report: what every renderer receives. Its dict form is JSON schema v1."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from . import __version__
from .errors import EXIT_FINDINGS, EXIT_OK, EXIT_PROBE
from .facts.model import FACTS_VERSION
from .log import known_secrets
from .status import ORDER, VERDICTS, Status
from .target import scrub_data

if TYPE_CHECKING:
    from .facts.model import Facts, TargetSummary

# The facts model's version is the report's: the JSON is the facts as they are.
SCHEMA_VERSION = FACTS_VERSION


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
    kind: str  # "probe" | "lint"
    target: TargetSummary  # url (redacted), engine, host, port, database, provider
    facts: Facts
    findings: list[Finding]
    label: str | None = None
    generated_at: str = field(
        default_factory=lambda: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    secrets: tuple[Any, ...] = field(
        default=(), repr=False, compare=False
    )  # besides the registered ones

    def __post_init__(self) -> None:
        # Every report passes here, whatever the format or the command. Server strings
        # are data the server chose: a server that asks for the password in clear text
        # can send it back as its version, a setting or an error. So the facts, the
        # finding messages and the label are scrubbed of every secret known to the
        # process (log.remember: the URL's, PGPASSWORD, the password and service files
        # libpq reads) before any renderer sees them. The URL shown is the redacted one.
        secrets = list(self.secrets) + known_secrets()
        if not secrets:
            return
        engine = self.facts["engine"]
        facts = cast("dict[str, Any]", scrub_data(self.facts, secrets))
        facts["engine"] = engine  # the advisor's own word, renderers branch on it
        self.facts = cast("Facts", facts)
        self.findings = [replace(f, message=scrub_data(f.message, secrets)) for f in self.findings]
        if self.label:  # the user's word, but `--label "$DATABASE_URL"` is an easy slip
            self.label = scrub_data(self.label, secrets)

    @property
    def counts(self) -> dict[str, Any]:
        counts = {s.value: 0 for s in ORDER}
        for f in self.findings:
            counts[Status(f.status).value] += 1
        return counts

    @property
    def status(self) -> str:
        counts = self.counts
        for status in VERDICTS:
            if counts[status.value]:
                return status.value
        return Status.PASS.value

    def exit_code(self, strict: bool = False) -> int:
        status = self.status
        if status == Status.ERROR:
            return EXIT_PROBE
        if status == Status.FAIL or (strict and status == Status.WARN):
            return EXIT_FINDINGS
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
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
