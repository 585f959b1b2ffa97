"""Errors the CLI turns into one-line messages and documented exit codes."""

EXIT_OK = 0  # no failing finding
EXIT_FINDINGS = 1  # at least one failing finding (warnings too with --strict)
EXIT_USAGE = 2  # usage error or invalid URL
EXIT_PROBE = 3  # could not probe: unreachable, timeout, auth, TLS, missing database


class AdvisorError(Exception):
    """Base class: carries the exit code the CLI should use."""

    exit_code = EXIT_USAGE


class InvalidTarget(AdvisorError):
    """The URL or DSN cannot be understood. Messages never contain the password."""

    exit_code = EXIT_USAGE


class UsageError(AdvisorError):
    exit_code = EXIT_USAGE


class ProbeFailed(AdvisorError):
    """The database could not be probed; `kind` is a short machine-readable reason."""

    exit_code = EXIT_PROBE

    def __init__(self, message: str, kind: str = "unreachable") -> None:
        super().__init__(message)
        self.kind = kind
