"""Logging for --verbose / --debug: connection steps to stderr, never a secret.

Every module logs through the one `advisor` logger, whose filter scrubs the known
secrets (passwords from URLs, PGPASSWORD, .pgpass, service files...) from each record
before any handler sees it: the stderr handler, pytest's caplog, anything a caller
attaches. The same registry scrubs every Report (advisor/report.py).
"""

from __future__ import annotations

import logging
import sys

from .render.safe import plain
from .target import Target, scrub

log = logging.getLogger("advisor")


class SecretFilter(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        # Scrubbed, and no terminal escapes: messages may quote server strings.
        record.msg = plain(scrub(record.getMessage(), known_secrets()), 500)
        record.args = None
        return True


SECRETS = SecretFilter()
log.addFilter(SECRETS)


def remember(*targets: Target | None) -> None:
    """Register the secrets of these targets (None entries are skipped): log records and
    every Report built in this process are scrubbed of them."""
    for target in targets:
        if target is not None:
            SECRETS.secrets.update(target.secrets)


def known_secrets() -> list[str]:
    """Every secret registered so far, longest first (so a longer one is masked whole)."""
    return sorted(SECRETS.secrets, key=len, reverse=True)


def setup(verbose: bool = False, debug: bool = False) -> None:
    """Start a command: send the advisor's log records to stderr (INFO with --verbose,
    DEBUG with --debug), and forget the secrets of an earlier command in this process
    (main() may run more than once, in tests): its outputs are written already."""
    SECRETS.secrets.clear()
    for old in [h for h in log.handlers if getattr(h, "advisor_cli", False)]:
        log.removeHandler(old)  # main() may run more than once in a process (tests)
    if not (verbose or debug):
        # An earlier --debug command in this process must not leave every later call
        # building (and a caller's handlers keeping) debug records.
        log.setLevel(logging.NOTSET)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.advisor_cli = True  # type: ignore[attr-defined]  # marks the handler setup() added
    handler.setFormatter(logging.Formatter("advisor: %(levelname)s: %(message)s"))
    handler.addFilter(SECRETS)  # defence in depth: also scrub at the handler
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
