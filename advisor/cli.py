"""Command line: parse arguments and dispatch. The work lives in commands.py.

`run()` is the process entry point: Ctrl-C is handled as interrupts.py says, usage errors
are one redacted line (redact.py).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Never

from . import __version__, interrupts, redact
from .errors import EXIT_PROBE, EXIT_USAGE, AdvisorError
from .options import MAX_TIMEOUT, ORM_CHOICES, SESSION_FEATURES, valid_timeout

if TYPE_CHECKING:
    import argparse

EXIT_CODES = """\
exit codes:
  0  no failing finding
  1  at least one failing finding (warnings too with --strict)
  2  usage error or invalid URL
  3  could not probe: unreachable, timeout, authentication, TLS failure, missing
     database (the requested format is still written, with an `error` finding)
  130  interrupted (Ctrl-C)
"""


def seconds(text: str) -> float:
    """An argparse type: a finite number of seconds, more than 0 and at most MAX_TIMEOUT."""
    import argparse

    value = float(text)  # ValueError: argparse says "invalid seconds value"
    if not valid_timeout(value):
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most {MAX_TIMEOUT:g} seconds")
    return value


def shard(text: str) -> tuple[int, int]:
    """An argparse type: I/N, the I-th of N shards (1 <= I <= N <= 10000)."""
    import argparse
    import re

    m = re.fullmatch(r"\s*(\d{1,5})\s*/\s*(\d{1,5})\s*", text)
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)) <= 10000:
        raise argparse.ArgumentTypeError("must be I/N with 1 <= I <= N <= 10000, e.g. 2/4")
    return int(m.group(1)), int(m.group(2))


def _parser_class() -> type[argparse.ArgumentParser]:
    import argparse

    class Parser(argparse.ArgumentParser):
        """argparse with one-line, redacted usage errors (subparsers inherit the class)."""

        def error(self, message: str) -> Never:
            self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)")

        def exit(self, status: int = 0, message: str | None = None) -> Never:
            if message:  # errors; --help and --version have printed already (status 0)
                sys.stderr.write(redact.redact(message) + "\n")
            raise SystemExit(status)

    return Parser


def _driver_option(text: str) -> tuple[str, str]:
    import argparse

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError("must be KEY=VALUE")
    return key.strip(), value.strip()


def _report_options(p: argparse.ArgumentParser) -> None:
    import argparse

    p.add_argument(
        "--format",
        choices=("text", "json", "markdown", "junit"),
        default="text",
        help="output format (default: text)",
    )
    p.add_argument(
        "--output",
        metavar="FILE",
        help="write the report in --format to FILE, or into a directory (existing or "
        "ending in /) as <label-host-db>.json/.md/.xml (the text report still "
        "goes to stdout)",
    )
    p.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    p.add_argument("--label", help="name of the environment, e.g. production")
    p.add_argument("--no-color", action="store_true", help="no colour (also honoured: NO_COLOR)")
    p.add_argument(
        "--direct-url", metavar="URL", help="the migration (direct) URL; default: $DIRECT_URL"
    )
    p.add_argument("--orm", choices=ORM_CHOICES, help="the ORM or driver the application uses")
    p.add_argument(
        "--prisma-version",
        type=int,
        metavar="N",
        help="major Prisma version (7 moved pool settings to driver adapters)",
    )
    p.add_argument(
        "--driver",
        metavar="NAME",
        help="the database driver the application uses, e.g. asyncpg, psycopg, postgres.js, "
        "pgx, pgjdbc (`advisor stacks` lists them); with --orm, the driver under the ORM",
    )
    p.add_argument(
        "--driver-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        type=_driver_option,
        help="a driver setting the application uses, e.g. statement_cache_size=0 (repeatable)",
    )
    p.add_argument(
        "--uses",
        action="append",
        default=[],
        metavar="FEATURE",
        choices=SESSION_FEATURES,
        help="a session feature the code itself uses, beyond what its driver does by default "
        f"(repeatable): {', '.join(SESSION_FEATURES)}",
    )
    p.add_argument(
        "--project",
        metavar="DIR",
        help="take the ORM and driver from the project's package.json, requirements.txt, "
        "pyproject.toml, Gemfile.lock, go.mod, composer.json, mix.exs or schema.prisma "
        "(--orm and --driver win)",
    )
    p.add_argument(
        "--serverless",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the clients are serverless functions (default: yes)",
    )
    p.add_argument(
        "--env-file", metavar="FILE", help="read DATABASE_URL / DIRECT_URL from a dotenv file"
    )
    p.add_argument(
        "--prisma-schema",
        metavar="FILE",
        help="take the env variable names for url/directUrl from a Prisma schema",
    )
    p.add_argument(
        "--threshold",
        action="append",
        default=[],
        metavar="ID.NAME=VALUE",
        help="override a check threshold, e.g. PG101.warn_below_percent=30",
    )
    p.add_argument("--verbose", action="store_true", help="log progress to stderr")
    p.add_argument(
        "--debug",
        action="store_true",
        help="log every connection step to stderr (secrets are never logged)",
    )


def build_parser() -> argparse.ArgumentParser:
    import argparse  # here, not at the top: run() guards Ctrl-C before this import

    parser = _parser_class()(
        prog="advisor",
        description="Is this database ready for serverless traffic? Probes PostgreSQL and "
        "MySQL/MariaDB (directly or through a pooler) and reviews connection URLs.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"advisor {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    probe = sub.add_parser(
        "probe",
        help="connect to a database (read-only, one connection) and report readiness",
        description="Connect once, read-only, and report max_connections, headroom, the pooler "
        "in front, TLS on each leg and what the URL gets wrong.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    probe.add_argument(
        "url", nargs="?", help="database URL or libpq keyword string (default: $DATABASE_URL)"
    )
    _report_options(probe)
    probe.add_argument(
        "--timeout",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="bound for the whole command: every URL (--direct-url, "
        "--pooler-admin-url), connection and statement (default: 10, "
        "at most 3600)",
    )
    probe.add_argument(
        "--no-session-features",
        dest="session_features",
        action="store_false",
        help="do not measure which session features (prepared statements, SET, advisory "
        "locks, LISTEN) work through the endpoint",
    )
    probe.add_argument(
        "--pooler-admin-url",
        metavar="URL",
        help="PgBouncer admin console, e.g. postgresql://admin@host:6432/pgbouncer "
        "(reads SHOW VERSION/CONFIG/POOLS/DATABASES)",
    )
    probe.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="expected concurrent serverless instances (capacity check PG207)",
    )
    probe.add_argument(
        "--pool-size",
        type=int,
        metavar="N",
        help="connections each instance may open (default: connection_limit in the URL)",
    )
    probe.add_argument(
        "--targets",
        metavar="FILE",
        help="probe every [[target]] in a TOML file at once; one report per "
        "target into --output DIR, a combined summary to stdout",
    )
    probe.add_argument(
        "--jobs",
        type=int,
        default=4,
        metavar="N",
        help="with --targets: probes running at the same time (default: 4)",
    )
    probe.add_argument(
        "--shard",
        type=shard,
        metavar="I/N",
        help="with --targets: probe only the I-th of N equal shares of the file "
        "(targets I, I+N, I+2N, ...), for a CI matrix; `advisor report` merges the shards",
    )

    # -- advisor audit (issue 19) --------------------------------------------------
    audit = sub.add_parser(
        "audit",
        help="is the workload ready for transaction pooling, and who holds the slots?",
        description="Connect once, read-only, and report the session features the workload "
        "uses (from pg_stat_statements or performance_schema, classified by a SQL parser) "
        "with the rewrite for each, and the connection ledger: who holds the slots and how "
        "many more clients fit.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument(
        "url", nargs="?", help="database URL or libpq keyword string (default: $DATABASE_URL)"
    )
    _report_options(audit)
    audit.add_argument(
        "--timeout",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="bound for the whole command (default: 10, at most 3600)",
    )
    audit.add_argument(
        "--instances",
        type=int,
        metavar="N",
        help="application instances that will connect (with the pool size: do they fit?)",
    )
    audit.add_argument(
        "--pool-size",
        type=int,
        metavar="K",
        help="connections per instance (default: the stack's default pool size with "
        "--orm/--driver)",
    )
    # -- end of advisor audit ------------------------------------------------------

    lint = sub.add_parser(
        "lint",
        help="review a connection URL offline (no network, no DNS)",
        description="Review a connection URL against the provider catalog and the ORM, offline.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lint.add_argument("url", nargs="?", help="database URL (default: $DATABASE_URL)")
    _report_options(lint)

    report = sub.add_parser(
        "report",
        help="combine report JSON files; compare with a baseline run",
        description="Combine report JSON files (from probe or lint --format json) into one "
        "summary, and with --baseline say per target what got worse and what got fixed.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument(
        "files", nargs="+", metavar="REPORT", help="report JSON files, or directories holding them"
    )
    report.add_argument(
        "--format",
        choices=("text", "json", "markdown", "junit"),
        default="text",
        help="output format (default: text)",
    )
    report.add_argument(
        "--baseline",
        metavar="PATH",
        help="an earlier run: a report JSON file or a directory of them",
    )
    report.add_argument(
        "--output",
        metavar="FILE",
        help="write the combined report in --format to FILE (the text summary "
        "still goes to stdout)",
    )
    report.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    report.add_argument(
        "--exit-zero",
        action="store_true",
        help="exit 0 whatever the findings (still 2 for unreadable input)",
    )

    checks = sub.add_parser("checks", help="list the checks or explain one (like `ruff rule`)")
    checks.add_argument("id", nargs="?", help="a check id, e.g. PG101")
    checks.add_argument("--format", choices=("text", "json"), default="text")

    providers = sub.add_parser("providers", help="list the provider catalog or show one provider")
    providers.add_argument("id", nargs="?", help="a provider id, e.g. neon")
    providers.add_argument("--format", choices=("text", "json"), default="text")

    stacks = sub.add_parser(
        "stacks",
        help="list the driver and ORM catalog or explain one stack",
        description="List the drivers and ORMs the advisor knows, or explain one: the session "
        "features it uses, the setting that makes it safe per pooler, the error it shows.",
    )
    stacks.add_argument(
        "id",
        nargs="?",
        help="a driver or ORM id, e.g. asyncpg, or ORM[@VERSION][+DRIVER], e.g. "
        "sqlalchemy+asyncpg or prisma@7",
    )
    stacks.add_argument("--format", choices=("text", "json"), default="text")

    explain = sub.add_parser(
        "explain",
        help="explain an error message: what raised it, why, and the fix (offline)",
        description="Match an error message, or a pasted log (- reads standard input),\n"
        "against the catalog of error signatures: what raised it (server, pooler,\n"
        "driver, ORM, provider), why, and the fix for your stack, with its docs page.\n"
        "Offline: no connection, no driver loaded; URLs and passwords in the text\n"
        "are never printed.",
        epilog="exit codes: 0 something matched; 1 nothing matched; 2 usage error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain.add_argument("text", metavar="TEXT", help="the error message, or - for standard input")
    explain.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    explain.add_argument(
        "--orm", metavar="NAME", help="the ORM the application uses, for its fix (e.g. prisma)"
    )
    explain.add_argument(
        "--driver",
        metavar="NAME",
        help="the driver the application uses, for its fix (e.g. asyncpg)",
    )

    burst = sub.add_parser(
        "burst",
        help="open N connections at once, as a serverless fleet starting would",
        description="Simulate N serverless instances starting together: each connects, runs "
        "SELECT 1, holds the connection and closes. Reports successes, failures by "
        "error and connect latency, directly and through the pooler side by side. "
        "This is load on the server: it reads the free slots first and asks for "
        "--yes when the burst would take more.",
        epilog="exit codes: 0 every client succeeded; 1 some failed; 2 usage error or "
        "no --yes; 3 could not read the free slots; 130 interrupted",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    burst.add_argument("url", help="database URL (required: no environment default)")
    burst.add_argument(
        "--clients", type=int, metavar="N", help="simultaneous clients, 1 to 2000 (required)"
    )
    burst.add_argument(
        "--hold-ms",
        type=int,
        default=200,
        metavar="M",
        help="how long each client holds its connection (default: 200)",
    )
    burst.add_argument(
        "--via-pooler",
        metavar="URL",
        help="run the same burst through this pooler URL too, side by side",
    )
    burst.add_argument(
        "--timeout",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="bound for each connect and query; the whole leg gets "
        "2 x SECONDS + the hold (default: 10, at most 3600)",
    )
    burst.add_argument(
        "--yes",
        action="store_true",
        help="run even when N exceeds the server's free connection slots",
    )
    burst.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    redact.ARGV[:] = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(redact.ARGV)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        try:
            from . import commands  # after parsing: `advisor --help` stays light
            from .log import setup

            setup(getattr(args, "verbose", False), getattr(args, "debug", False))
            # Only commands with connections to close take Ctrl-C as KeyboardInterrupt;
            # the others exit at once (a KeyboardInterrupt in a lazy import's lock
            # callback would print a traceback no handler can catch).
            interrupts.to_command(args.command in ("probe", "burst", "audit"))
            code: int = getattr(commands, f"run_{args.command}")(args)
            sys.stdout.flush()  # here, so that a full disk or a closed pipe is reported below
            return code
        finally:
            interrupts.to_command(False)
    except AdvisorError as exc:
        print(f"advisor: error: {redact.redact(str(exc), patterns=False)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("advisor: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `advisor ... | head`: the reader has all it wanted
        _drop_stdout()
        return 0
    except Exception as exc:
        if isinstance(exc, OSError) and exc.filename is None and exc.errno:
            # writing stdout failed (a full disk, a closed terminal): files raise
            # UsageError with their name, so an OSError without one is the output
            _drop_stdout()
            print(f"advisor: error: cannot write the output: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        # a bug: still one line, and never the URL
        print(
            f"advisor: internal error ({type(exc).__name__}); please report it with the "
            "command line minus the URL",
            file=sys.stderr,
        )
        return EXIT_PROBE


def _drop_stdout() -> None:
    """Point stdout at /dev/null: the interpreter's final flush must not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (captured in tests)
        pass


def run() -> None:
    """The process entry point: the `advisor` script and `python -m advisor`."""
    try:
        interrupts.guard()
    except KeyboardInterrupt:  # Ctrl-C while `signal` itself was loading
        interrupts.exit_interrupted()
    # A short-lived process. Collections while psycopg and its types load find nothing
    # to free (~10 ms), and at exit the collector would walk every module object once
    # more (~20 ms): collect rarely, and freeze what is left before exiting (atexit
    # handlers and buffered output still run as usual). See docs/contributors/performance.md.
    import gc

    gc.set_threshold(100_000, 50, 100)
    try:
        code = main()
    finally:
        gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
