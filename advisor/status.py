"""The five statuses of a finding or a report: the only place they are named.

`Status` is a str Enum, so a member is its JSON string ("pass", ...): json.dumps writes the
plain string and `Status.WARN == "warn"` holds for values read back from a report file.
Each status carries how bad it is (`rank`, used to pick a verdict and to compare runs) and
how each output shows it.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class Status(str, Enum):  # noqa: UP042 - StrEnum is left for a change of its own
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    def __str__(self) -> str:  # f-strings and str() give the JSON word, not "Status.PASS"
        return self.value

    @property
    def rank(self) -> int:
        """0 fine (pass, skip), 1 warn, 2 fail, 3 error: the worst rank is the verdict."""
        return _RANK[self]

    @property
    def icon(self) -> str:
        """Markdown outputs (PR comments, the combined report)."""
        return _ICON[self]

    @property
    def mark(self) -> str:
        """Terminal text."""
        return _MARK[self]

    @property
    def color(self) -> str:
        """ANSI colour code for terminal text."""
        return _COLOR[self]

    @property
    def site_label(self) -> str:
        """The docs site's readiness pages (Markdown; fail and error in bold)."""
        return _SITE_LABEL[self]

    @property
    def site_mark(self) -> str:
        """One character per finding on the site's fleet page."""
        return _SITE_MARK[self]

    @property
    def site_admonition(self) -> str:
        """The Material admonition the docs site draws a verdict in (its colour)."""
        return _SITE_ADMONITION[self]

    @property
    def needs_attention(self) -> bool:
        """warn, fail and error: what the summaries list."""
        return self.rank > 0

    @classmethod
    def of(cls, value: object) -> Status | None:
        """The member for a string from a report, None for anything else."""
        try:
            return cls(value)
        except ValueError:
            return None


# pass and skip both rank 0: a skipped check is not a problem.
# What a check itself returns; skip and error come from the probe around the checks.
CHECK_RESULTS = (Status.PASS, Status.WARN, Status.FAIL)
_RANK = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}
_ICON = {
    Status.PASS: "✅",
    Status.WARN: "⚠️",
    Status.FAIL: "❌",
    Status.SKIP: "⏭️",
    Status.ERROR: "🛑",
}
_MARK = {Status.PASS: "✔", Status.WARN: "!", Status.FAIL: "✖", Status.SKIP: "-", Status.ERROR: "✖"}
_COLOR = {
    Status.PASS: "32",
    Status.WARN: "33",
    Status.FAIL: "31",
    Status.SKIP: "90",
    Status.ERROR: "31;1",
}
_SITE_LABEL = {
    Status.PASS: "✔ pass",
    Status.WARN: "⚠ warn",
    Status.FAIL: "✖ **fail**",
    Status.SKIP: "– skip",
    Status.ERROR: "✖ **error**",
}
_SITE_MARK = {
    Status.PASS: "✔",
    Status.WARN: "⚠",
    Status.FAIL: "✖",
    Status.SKIP: "–",
    Status.ERROR: "✖",
}

_SITE_ADMONITION = {
    Status.PASS: "success",
    Status.WARN: "warning",
    Status.FAIL: "failure",
    Status.SKIP: "info",
    Status.ERROR: "danger",
}

# Summaries count in this order (the JSON summary's keys: pass, warn, fail, skip, error).
ORDER = tuple(Status)
# The worst first: a report's verdict is the first of these it has, else pass.
VERDICTS = tuple(sorted((s for s in Status if s.needs_attention), key=lambda s: -s.rank))


def icon(value: object) -> str:
    """The Markdown icon of a status read from a file; "?" for anything else."""
    status = Status.of(value)
    return status.icon if status else "?"


def needs_attention(value: object) -> bool:
    """warn, fail or error; False for anything that is not a status."""
    status = Status.of(value)
    return bool(status and status.needs_attention)


def rank(value: object) -> int:
    """The rank of a status read from a file; 0 for anything else (as a pass)."""
    status = Status.of(value)
    return status.rank if status else 0


def worst(statuses: Iterable[str]) -> Status:
    """The verdict over several statuses: the highest rank; skip alone counts as pass."""
    found = [Status(s) for s in statuses]
    top = max(found, key=lambda s: s.rank, default=Status.PASS)
    return Status.PASS if top.rank == 0 else top
