"""Logging for --verbose / --debug: connection steps to stderr, never a secret.

Every module logs through the one `advisor` logger, whose filter scrubs the known
secrets (passwords from URLs, PGPASSWORD, .pgpass...) from each record before any
handler sees it: the stderr handler, pytest's caplog, anything a caller attaches.
"""

from __future__ import annotations

import logging
import sys

from .render.safe import plain
from .target import scrub

log = logging.getLogger("advisor")


class SecretFilter(logging.Filter):
    def __init__(self):
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        # Scrubbed, and no terminal escapes: messages may quote server strings.
        record.msg = plain(scrub(record.getMessage(), sorted(self.secrets, key=len, reverse=True)),
                           500)
        record.args = None
        return True


SECRETS = SecretFilter()
log.addFilter(SECRETS)


def remember(*targets) -> None:
    """Register the secrets of these targets (None entries are skipped)."""
    for target in targets:
        if target is not None:
            SECRETS.secrets.update(target.secrets)


def setup(verbose: bool = False, debug: bool = False) -> None:
    """Send the advisor's log records to stderr (INFO with --verbose, DEBUG with --debug)."""
    for old in [h for h in log.handlers if getattr(h, "advisor_cli", False)]:
        log.removeHandler(old)  # main() may run more than once in a process (tests)
    if not (verbose or debug):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.advisor_cli = True
    handler.setFormatter(logging.Formatter("advisor: %(levelname)s: %(message)s"))
    handler.addFilter(SECRETS)  # defence in depth: also scrub at the handler
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if debug else logging.INFO)
