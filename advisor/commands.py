"""What each subcommand does, between the parsed arguments and the renderers."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import checks
from .catalog import docs_url, load_checks
from .errors import UsageError
from .log import remember
from .render import render
from .sources import resolve_urls, write_output
from .target import parse_target
from .thresholds import parse_thresholds

if TYPE_CHECKING:
    import argparse

    from .report import Report
    from .sources import URLs
    from .target import Target


# SQLAlchemy's URL driver names -> the stack catalog's driver ids.
URL_DRIVERS = {
    "asyncpg": "asyncpg",
    "psycopg": "psycopg",
    "psycopg2": "psycopg2",
    "pymysql": "pymysql",
    "mysqldb": "mysqlclient",
}


def _stack(args: argparse.Namespace) -> tuple[str | None, str | None, int | None]:
    """(orm, driver, Prisma major) from --orm/--driver/--prisma-version, else from
    --project's files; checked against the stack catalog (UsageError says what is wrong)."""
    orm, driver, prisma = args.orm, args.driver, args.prisma_version
    if args.project and orm is None and driver is None:
        from .stackdetect import detect

        found, why = detect(Path(args.project)).stack()
        if found is None:
            raise UsageError(f"--project {args.project}: {why}")
        orm, driver = (found.orm["id"] if found.orm else None), found.driver["id"]
        if orm == "prisma" and prisma is None and found.version:
            prisma = int(found.version.split(".")[0])
    if (args.driver_option or args.uses) and orm is None and driver is None:
        raise UsageError("--driver-option and --uses need --driver or --orm (or --project)")
    if driver is not None:
        from .catalog.stacks import named

        try:
            named(orm, driver, prisma)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    return orm, driver, prisma


def _context(
    args: argparse.Namespace,
    target: Target,
    direct: Target | None,
    concurrency: int | None = None,
    pool_size: int | None = None,
) -> checks.Context:
    orm, driver, prisma_version = _stack(args)
    if orm is None and driver is None and target.driver in URL_DRIVERS:
        # postgresql+asyncpg:// is SQLAlchemy's URL form, and it names the driver too.
        orm, driver = "sqlalchemy", URL_DRIVERS[target.driver]
    return checks.Context(
        target=target,
        serverless=args.serverless,
        orm=orm,
        driver=driver,
        driver_options=dict(args.driver_option),
        uses=tuple(args.uses),
        direct_target=direct,
        prisma_version=prisma_version,
        concurrency=concurrency,
        pool_size=pool_size,
        thresholds=parse_thresholds(args.threshold),
    )


def _targets(args: argparse.Namespace) -> tuple[Target, Target | None, URLs]:
    urls = resolve_urls(args.url, args.direct_url, args.env_file, args.prisma_schema)
    target = parse_target(urls.url)
    direct = parse_target(urls.direct_url) if urls.direct_url else None
    remember(target, direct)  # --debug logs are scrubbed of these secrets
    return target, direct, urls


def _output_path(output: str, report: Report, fmt: str) -> Path:
    """FILE as given; a directory (existing, or ending in /) gets <label-host-db>.<ext>."""
    path = Path(output)
    if output.endswith(("/", os.sep)) or path.is_dir():
        from .combine import report_name
        from .fleet import EXTENSIONS

        kind = "-audit" if report.kind == "audit" else ""  # beside the probe's, not over it
        path = path / f"{report_name(report.target, report.label)}{kind}.{EXTENSIONS[fmt]}"
    return path


def _emit(report: Report, args: argparse.Namespace) -> int:
    color = sys.stdout.isatty() and not args.no_color and "NO_COLOR" not in os.environ
    if args.output:
        write_output(_output_path(args.output, report, args.format), render(report, args.format))
        sys.stdout.write(render(report, "text", color=color))
    else:
        sys.stdout.write(render(report, args.format, color=color and args.format == "text"))
    return report.exit_code(strict=args.strict)


def run_probe(args: argparse.Namespace) -> int:
    from .probe import probe

    if args.targets:
        from .fleet import run_fleet

        return run_fleet(args)
    if getattr(args, "shard", None):
        raise UsageError("--shard splits a --targets file: give --targets FILE")
    for name in ("concurrency", "pool_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    target, direct, urls = _targets(args)
    admin = parse_target(args.pooler_admin_url) if args.pooler_admin_url else None
    remember(admin)
    ctx = _context(args, target, direct, args.concurrency, args.pool_size)
    report = probe(
        target,
        ctx,
        timeout=args.timeout,
        source=urls.source,
        label=args.label,
        admin_target=admin,
        session_features=args.session_features,
    )
    return _emit(report, args)


# -- advisor audit (issue 19) --------------------------------------------------------


def _audit_pool_size(args: argparse.Namespace) -> tuple[int | None, str | None]:
    """--pool-size, else the stack's default pool size (--orm/--driver), else none."""
    if args.pool_size is not None:
        return args.pool_size, "--pool-size"
    orm, driver, prisma = _stack(args)
    if orm is None and driver is None:
        return None, None
    from .catalog.stacks import named, pool_size

    stack = named(orm, driver, prisma)
    size = pool_size(stack.pool, os.cpu_count() or 1)
    return size, f"{stack.name}'s default pool size" if size else None


def run_audit(args: argparse.Namespace) -> int:
    from .audit import audit

    for name in ("instances", "pool_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    target, direct, urls = _targets(args)
    ctx = _context(args, target, direct)
    size, size_source = _audit_pool_size(args)
    if args.instances is not None and size is None:
        raise UsageError("--instances needs --pool-size K (or --orm/--driver for its default)")
    report = audit(
        target,
        ctx,
        timeout=args.timeout,
        source=urls.source,
        label=args.label,
        instances=args.instances,
        pool_size=size,
        pool_size_source=size_source,
    )
    return _emit(report, args)


# -- end of advisor audit ------------------------------------------------------------


def run_report(args: argparse.Namespace) -> int:
    from .combine import combine, load_reports, worst_exit
    from .render.combined import render as render_combined

    reports = load_reports(args.files)
    baseline = None
    if args.baseline:
        folder = Path(args.baseline)
        if folder.is_dir() and not any(folder.glob("*.json")):
            print(
                f"advisor: {folder} holds no reports yet: nothing to compare with", file=sys.stderr
            )
        else:
            baseline = load_reports([args.baseline])
    combined = combine(reports, baseline)
    if args.output:
        write_output(args.output, render_combined(combined, args.format))
        sys.stdout.write(render_combined(combined, "text"))
    else:
        sys.stdout.write(render_combined(combined, args.format))
    if args.exit_zero:
        return 0
    return worst_exit((t["status"] for t in combined["targets"]), strict=args.strict)


def run_lint(args: argparse.Namespace) -> int:
    from .probe import lint

    target, direct, urls = _targets(args)
    report = lint(
        target,
        _context(args, target, direct),
        source=urls.source,
        label=args.label,
        direct_source=urls.direct_source,
    )
    return _emit(report, args)


def run_checks(args: argparse.Namespace) -> int:
    from .catalog.checks import LIFECYCLES

    catalog = load_checks()
    if args.id:
        entry = catalog.get(args.id.upper())
        if entry is None:
            raise UsageError(f"no check {args.id!r}; `advisor checks` lists them")
        entry = {**entry, "docs_url": docs_url(entry["id"])}
        if args.format == "json":
            print(json.dumps(entry, indent=2))
            return 0
        print(
            f"{entry['id']}: {entry['title']}  ({entry['severity']}, {entry['kind']}, {entry['engine']})\n"
        )
        print(f"Lifecycle: {entry['lifecycle']} ({LIFECYCLES[entry['lifecycle']]})\n")
        print(entry["summary"] + "\n")
        print("Why:\n" + entry["rationale"] + "\n")
        print("How to fix:\n" + entry["remediation"] + "\n")
        if entry["params"]:
            print("Thresholds (override with --threshold ID.NAME=VALUE):")
            for name, value in entry["params"].items():
                print(f"  {name} = {value}")
            print()
        print(f"Docs: {entry['docs_url']}")
        return 0
    if args.format == "json":
        print(
            json.dumps([{**e, "docs_url": docs_url(e["id"])} for e in catalog.values()], indent=2)
        )
        return 0
    for entry in catalog.values():
        print(
            f"{entry['id']:7} {entry['severity']:6} {entry['kind']:5} {entry['lifecycle']:10} "
            f"{entry['title']}"
        )
    return 0


def run_stacks(args: argparse.Namespace) -> int:
    from .stackcmd import run_stacks as run  # lazy: only `advisor stacks` loads that catalog

    return run(args)


def run_explain(args: argparse.Namespace) -> int:
    from .explain import run  # lazy: only `advisor explain` loads the error catalog

    return run(args)


def run_providers(args: argparse.Namespace) -> int:
    from .catalog.providers import load_providers

    providers = load_providers()
    if args.id:
        entry = providers.get(args.id.lower())
        if entry is None:
            raise UsageError(f"no provider {args.id!r}; `advisor providers` lists them")
        if args.format == "json":
            print(json.dumps({"id": args.id.lower(), **entry}, indent=2, default=str))
            return 0
        print(f"{entry['name']} ({', '.join(entry['engines'])})\n{entry.get('summary', '')}\n")
        for e in entry.get("endpoints", []):
            mode = f", {e['pool_mode']} mode" if e.get("pool_mode") else ""
            pooler = f" via {e['pooler']}" if e.get("pooler") else ""
            print(f"  {e['role']:6} {e.get('label', e['id'])}{pooler}{mode}")
            print(f"         host /{e['host_regex']}/ port {e.get('port', 'any')}")
            if e.get("example"):
                print(f"         e.g. {e['example']}")
            print(f"         source: {e['source']} (checked {e['checked']})")
        if entry["pitfalls"]:
            print("\nPitfalls:")
            for pitfall in entry["pitfalls"]:
                print(f"  {pitfall['title']}: {pitfall['text']}")
                print(f"         source: {pitfall['source']} (checked {pitfall['checked']})")
        return 0
    if args.format == "json":
        print(json.dumps([{"id": k, **v} for k, v in providers.items()], indent=2, default=str))
        return 0
    for pid, entry in providers.items():
        pooled = sum(1 for e in entry.get("endpoints", []) if e.get("role") == "pooled")
        print(
            f"{pid:22} {entry['name']:40} {'/'.join(entry['engines']):17} "
            f"{pooled} pooled endpoint(s)"
        )
    return 0


def run_burst(args: argparse.Namespace) -> int:
    from . import burst
    from .render.burst import render_burst

    if args.clients is None:
        raise UsageError("burst needs an explicit --clients N (1 to 2000)")
    if not 0 <= args.hold_ms <= 600_000:
        raise UsageError("--hold-ms must be between 0 and 600000")
    target = parse_target(args.url)
    pooler = parse_target(args.via_pooler) if args.via_pooler else None
    remember(target, pooler)
    result = burst.run(
        target,
        args.clients,
        args.hold_ms,
        args.timeout,
        pooler=pooler,
        yes=args.yes,
        confirm=burst.tty_confirm,
    )
    from .log import known_secrets
    from .target import scrub_data

    # Burst results hold driver error texts (already scrubbed per target): once more, with
    # every secret the process knows, as every Report is.
    sys.stdout.write(render_burst(scrub_data(result, known_secrets()), args.format))
    return 1 if any(leg["failed"] for leg in result["legs"]) else 0
