"""`advisor probe --targets FILE`: probe many databases at once.

targets.toml holds one [[target]] table per database. Every target is parsed before
anything connects (a mistake in the file is a usage error, exit 2); then the probes run
in a bounded thread pool. A probe never raises for an unreachable server, so one bad
target only gives that target an `error` finding (exit 3).
"""

from __future__ import annotations

import os
import re
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from . import checks
from .combine import combine, worst_exit
from .errors import AdvisorError, UsageError
from .log import remember
from .options import MAX_TIMEOUT, ORM_CHOICES, SESSION_FEATURES, valid_timeout
from .render import render
from .render.combined import render as render_combined
from .render.safe import one_line, slug
from .sources import ENV_NAME, read_env_file, read_text_input, write_output
from .status import Status, rank
from .target import Target, parse_target
from .thresholds import parse_thresholds

if TYPE_CHECKING:
    import argparse

    from .report import Report

EXTENSIONS = {"json": "json", "markdown": "md", "junit": "xml", "text": "txt"}
URL_KEYS = ("url", "direct_url", "pooler_admin_url")
KEYS = (
    {
        "name",
        "label",
        "orm",
        "driver",
        "driver_options",
        "uses",
        "prisma_version",
        "serverless",
        "timeout",
        "concurrency",
        "pool_size",
        "thresholds",
    }
    | set(URL_KEYS)
    | {k + "_env" for k in URL_KEYS}
)


def _check_stack(ctx: checks.Context, where: str) -> None:
    """The entry's stack exists in the stack catalog (as --driver is checked)."""
    from .catalog.stacks import named

    if ctx.orm is None and ctx.driver is None:
        raise UsageError(f"{where}: driver_options and uses need driver or orm")
    try:
        named(ctx.orm, ctx.driver, ctx.prisma_version)
    except ValueError as exc:
        raise UsageError(f"{where}: {exc}") from None


@dataclass
class Entry:
    name: str
    target: Target
    ctx: checks.Context
    label: str
    timeout: float
    source: str | None
    admin: Target | None = None
    session_features: bool = True  # --no-session-features


def _url(
    raw: dict[str, Any], key: str, where: str, env: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(url, source) from `key` or the variable named by `key_env`."""
    if key in raw and f"{key}_env" in raw:
        raise UsageError(f"{where}: give {key} or {key}_env, not both")
    if f"{key}_env" in raw:
        var = raw[f"{key}_env"]
        if not isinstance(var, str) or not re.fullmatch(ENV_NAME, var):  # never echo a pasted URL
            raise UsageError(f"{where}: {key}_env must be the name of an environment variable")
        value = env.get(var, os.environ.get(var))
        if not value:
            raise UsageError(f"{where}: environment variable {var} is not set")
        return value, var
    if key not in raw:
        return None, None
    if not isinstance(raw[key], str):
        raise UsageError(f"{where}: {key} must be a string")
    return raw[key], "targets file"


def _entry_thresholds(pairs: list[str], where: str) -> dict[str, Any]:
    try:
        return parse_thresholds(pairs)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None


def load_targets(
    path: str, args: argparse.Namespace, env: dict[str, Any] | None = None
) -> list[Entry]:
    """Parse the file; CLI options (--timeout, --orm, ...) are defaults for every entry."""
    import tomllib

    text = read_text_input(path, "targets file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message names a line and column, not text
        raise UsageError(f"{path} is not valid TOML: {exc}") from None
    except RecursionError:
        raise UsageError(f"{path} is not valid TOML: nested too deeply") from None
    raws = data.get("target")
    if not isinstance(raws, list) or not raws:
        raise UsageError(f"{path} has no [[target]] tables")
    entries, names = [], set()
    for i, raw in enumerate(raws, 1):
        where = f"{path}: target {i}"
        if not isinstance(raw, dict):
            raise UsageError(f"{where}: not a [[target]] table")
        unknown = sorted(set(raw) - KEYS)
        if unknown:
            raise UsageError(f"{where}: unknown key(s) {', '.join(unknown)}")
        name = raw.get("name")
        if not isinstance(name, str) or not slug(name):
            raise UsageError(f"{where}: needs a name (letters or digits)")
        if re.fullmatch(r"[\w .-]{1,80}", name):  # never echo a pasted URL or DSN
            where = f"{path}: target {name!r}"
        if slug(name) in names:
            raise UsageError(f"{where}: two targets share the file name {slug(name)}")
        names.add(slug(name))
        url, source = _url(raw, "url", where, env or {})
        if url is None:
            raise UsageError(f"{where}: needs url or url_env")
        direct, _ = _url(raw, "direct_url", where, env or {})
        admin, _ = _url(raw, "pooler_admin_url", where, env or {})
        try:
            target = parse_target(url)
            direct_target = parse_target(direct) if direct else None
            admin_target = parse_target(admin) if admin else None
        except AdvisorError as exc:  # InvalidTarget: its message never holds the password
            raise UsageError(f"{where}: {exc}") from None
        remember(target, direct_target, admin_target)  # --debug logs never show them
        label = raw.get("label") or name
        if not isinstance(label, str):
            raise UsageError(f"{where}: label must be a string")
        thresholds = raw.get("thresholds") or {}
        if not isinstance(thresholds, dict):
            raise UsageError(
                f"{where}: thresholds must be a table, "
                'e.g. thresholds = {"PG101.warn_below_percent" = 30}'
            )
        pairs = [f"{k}={v}" for k, v in thresholds.items()]
        serverless = raw.get("serverless", args.serverless)
        if not isinstance(serverless, bool):
            raise UsageError(f"{where}: serverless must be true or false")
        driver_options = raw.get("driver_options", dict(args.driver_option))
        uses = raw.get("uses", args.uses)
        if not isinstance(driver_options, dict) or not all(
            isinstance(v, str) for v in driver_options.values()
        ):
            raise UsageError(
                f'{where}: driver_options must be a table of strings, e.g. {{ prepare = "false" }}'
            )
        if not isinstance(uses, list) or not set(uses) <= set(SESSION_FEATURES):
            raise UsageError(f"{where}: uses must be a list of: {', '.join(SESSION_FEATURES)}")
        ctx = checks.Context(
            target=target,
            serverless=serverless,
            driver=raw.get("driver", args.driver),
            driver_options=driver_options,
            uses=tuple(uses),
            orm=raw.get("orm", args.orm),
            prisma_version=raw.get("prisma_version", args.prisma_version),
            direct_target=direct_target,
            concurrency=raw.get("concurrency", args.concurrency),
            pool_size=raw.get("pool_size", args.pool_size),
            thresholds={**parse_thresholds(args.threshold), **_entry_thresholds(pairs, where)},
        )
        if ctx.orm is not None and ctx.orm not in ORM_CHOICES:
            raise UsageError(f"{where}: orm must be one of {', '.join(ORM_CHOICES)}")
        if ctx.driver is not None or ctx.driver_options or ctx.uses:
            _check_stack(ctx, where)
        for opt in ("concurrency", "pool_size", "prisma_version"):
            value = getattr(ctx, opt)
            if value is not None and (
                not isinstance(value, int) or isinstance(value, bool) or value < 1
            ):
                raise UsageError(f"{where}: {opt} must be a whole number of at least 1")
        timeout = raw.get("timeout", args.timeout)
        if (
            not isinstance(timeout, (int, float))
            or isinstance(timeout, bool)
            or not valid_timeout(timeout)
        ):
            raise UsageError(
                f"{where}: timeout must be a number of seconds, more than 0 and "
                f"at most {MAX_TIMEOUT:g}"
            )
        entries.append(
            Entry(
                name=name,
                target=target,
                ctx=ctx,
                label=label,
                timeout=float(timeout),
                source=source,
                admin=admin_target,
                session_features=getattr(args, "session_features", True),
            )
        )
    return entries


def probe_one(entry: Entry) -> Report:
    """The Report for one target; an unexpected exception becomes an error report."""
    from .facts.model import FailedProbeFacts, engine_of
    from .probe import probe
    from .report import Report
    from .urlfacts import target_summary, url_facts

    try:
        report = probe(
            entry.target,
            entry.ctx,
            timeout=entry.timeout,
            source=entry.source,
            label=entry.label,
            admin_target=entry.admin,
            session_features=entry.session_features,
        )
    except Exception as exc:  # a bug in one probe must not stop the fleet
        url = url_facts(entry.target, entry.source)
        facts: FailedProbeFacts = {
            "engine": engine_of(entry.target.engine),
            "url": url,
            "probe": {
                "error": f"internal error ({type(exc).__name__})",
                "error_kind": "internal",
                "connections_opened": 0,
            },
        }
        report = Report(
            kind="probe",
            target=target_summary(entry.target, url),
            facts=facts,
            findings=checks.run(facts, entry.ctx),
            label=entry.label,
        )
    return report


class Progress:
    """A bar on a terminal (stderr), one plain line per finished target otherwise."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done, self.bad = total, 0, 0
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()

    def step(self, name: str, status: str) -> None:
        self.done += 1
        self.bad += rank(status) >= Status.FAIL.rank
        if self.tty:
            width = 30
            filled = width * self.done // self.total
            self.stream.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total}"
                f" probed, {self.bad} failing "
            )
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(f"advisor: {self.done}/{self.total} {one_line(name, 80)}: {status}\n")
        self.stream.flush()


def run_fleet(args: argparse.Namespace) -> int:
    if args.url or args.direct_url or args.pooler_admin_url or args.label or args.prisma_schema:
        raise UsageError(
            "--targets takes the URLs from the file: drop the URL, --direct-url, "
            "--pooler-admin-url, --label and --prisma-schema"
        )
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    env = read_env_file(args.env_file) if args.env_file else {}
    entries = load_targets(args.targets, args, env)  # the whole file is checked in every shard
    in_file = len(entries)
    shard = getattr(args, "shard", None)
    if shard is not None:
        # Round robin in file order: shares differ by at most one target, and every target
        # lands in exactly one shard for a given N.
        index, count = shard
        entries = entries[index - 1 :: count]
        if not entries:
            print(
                f"advisor: shard {index}/{count} has no targets (the file has {in_file})",
                file=sys.stderr,
            )
            return 0
    out_dir = Path(args.output) if args.output else None
    if out_dir is not None:
        if out_dir.exists() and not out_dir.is_dir():
            raise UsageError(f"--output with --targets must be a directory: {out_dir} is a file")
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the directory {out_dir}: {exc.strerror}") from None
    checks.load_all()  # register the checks once, before the threads
    progress = Progress(len(entries))
    started = time.monotonic()
    results: dict[str, tuple[Path, dict[str, Any]]] = {}
    pool = ThreadPoolExecutor(max_workers=min(args.jobs, len(entries)))
    try:
        futures = {pool.submit(probe_one, e): e for e in entries}
        for future in as_completed(futures):
            entry, report = futures[future], future.result()
            path = Path(f"{slug(entry.name)}.{EXTENSIONS[args.format]}")
            if out_dir is not None:
                path = out_dir / path
                write_output(path, render(report, args.format))
            results[entry.name] = (path, report.to_dict())
            progress.step(entry.name, report.status)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # Ctrl-C: no new probes start
    reports = [results[e.name] for e in entries]  # file order, not finishing order
    sys.stdout.write(render_combined(combine(reports), args.format))
    share = f" (shard {shard[0]}/{shard[1]} of {in_file})" if shard else ""
    print(
        f"advisor: probed {len(entries)} target(s){share} in {time.monotonic() - started:.1f} s "
        f"with {min(args.jobs, len(entries))} job(s)",
        file=sys.stderr,
    )
    return worst_exit((d["summary"]["status"] for _, d in reports), strict=args.strict)
