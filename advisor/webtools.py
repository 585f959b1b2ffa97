"""The entry points of the site's browser tools (docs/tools/).

The tool pages run this package itself in the browser (Pyodide, loaded only on those pages):
the URL checker is `advisor lint` with the form's choices turned into its argument list, so
its findings, statuses and messages are the CLI's by construction; the config generator and
the capacity calculator call configgen.py and calculator.py. Nothing here opens a socket.

The page calls `call(name, json_arguments)` and gets JSON back: plain strings cross the
JavaScript/Python boundary, so no proxy object has to be freed by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Callable, Mapping
from typing import Any

from .catalog.providers import load_providers
from .errors import EXIT_USAGE, InvalidTarget
from .options import ORM_NAMES, ORMS, SESSION_FEATURES, STACK_ORMS
from .status import ORDER, worst
from .target import parse_target


def lint_argv(
    url: str,
    direct_url: str = "",
    orm: str | None = None,
    serverless: bool = True,
    prisma_version: int | None = None,
    driver: str | None = None,
    driver_options: list[str] | None = None,
    uses: list[str] | None = None,
) -> list[str]:
    """The `advisor lint` command line the checker form stands for (`--` before the URL,
    so a URL starting with '-' is still a URL)."""
    argv = ["lint", "--format", "json", "--serverless" if serverless else "--no-serverless"]
    if direct_url.strip():
        argv += ["--direct-url", direct_url]
    if orm:
        argv += ["--orm", orm]
    if prisma_version is not None:
        argv += ["--prisma-version", str(prisma_version)]
    if driver:
        argv += ["--driver", driver]
    for option in driver_options or []:
        argv += ["--driver-option", option]
    for feature in uses or []:
        argv += ["--uses", feature]
    return [*argv, "--", url]


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """Run the CLI in this process: (exit code, stdout, stderr)."""
    from .cli import main  # here: the page imports this module before anything else

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return code, out.getvalue(), err.getvalue()


def check_url(url: str, direct_url: str = "", **options: Any) -> dict[str, Any]:
    """What the URL checker shows: `advisor lint --format json`'s report and exit code, or
    the CLI's one-line error (without its `advisor: error: ` prefix). `options`: the rest
    of lint_argv()'s."""
    argv = lint_argv(url, direct_url, **options)
    code, out, err = run_cli(argv)
    if not out:
        lines = err.strip().splitlines() or ["no output"]
        return {"exit": code, "error": lines[-1].removeprefix("advisor: error: ")}
    report = _browser_findings(json.loads(out))
    return {
        "exit": code,
        "report": report,
        "corrected": _corrected(report, options),
        "direct_url": _display(direct_url) if direct_url.strip() else None,
        "providers": _provider_pages(report),
    }


# Findings about how the command line got the URL: the page is no command line.
CLI_ONLY = ("URL301",)


def _browser_findings(report: dict[str, Any]) -> dict[str, Any]:
    """The report without the command-line-only findings, its summary counted again."""
    findings = [f for f in report.get("findings", []) if f.get("id") not in CLI_ONLY]
    summary = dict(report.get("summary") or {})
    for status in ORDER:
        if status.value in summary:
            summary[status.value] = sum(f.get("status") == status for f in findings)
    if "status" in summary and findings:
        summary["status"] = str(worst(str(f.get("status", "pass")) for f in findings))
    return {**report, "findings": findings, "summary": summary}


def _corrected(report: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any] | None:
    """The URL corrected for the stack the form names (configgen.corrected_url), from the
    report's masked URL: the password stays out, the page says to put it back."""
    from . import configgen

    facts = report.get("facts", {}).get("url") or {}
    return configgen.corrected_url(
        str(report.get("target", {}).get("url") or ""),
        facts.get("endpoint") or None,
        options.get("orm"),
        options.get("driver"),
        options.get("prisma_version"),
        bool(options.get("serverless", True)),
    )


def _display(text: str) -> str | None:
    try:
        return parse_target(text).display
    except InvalidTarget:
        return None


def _provider_pages(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Name and docs page of each provider the report's endpoints name."""
    providers, facts = load_providers(), report.get("facts", {})
    found = {}
    for key in ("url", "direct_url"):
        pid = (facts.get(key) or {}).get("endpoint", {}).get("provider")
        if pid in providers:
            found[pid] = {"name": providers[pid]["name"], "docs_page": providers[pid]["docs_page"]}
    return found


def config_choices() -> dict[str, Any]:
    """The generator's select options: providers, ORMs, platforms."""
    from . import configgen
    from .catalog.stacks import FEATURES, load_stacks

    stacks = load_stacks()
    orms = [{"id": orm, "name": ORM_NAMES[orm]} for orm in ORMS]
    checker_orms = orms + [{"id": orm, "name": stacks[orm]["name"]} for orm in STACK_ORMS]
    uses = [{"id": f, "name": FEATURES[f]["title"]} for f in SESSION_FEATURES]
    drivers = [
        {"id": sid, "name": s["name"]} for sid, s in load_stacks().items() if s["kind"] == "driver"
    ]
    return {
        "providers": configgen.providers(),
        "stacks": configgen.stacks(),
        "ini_stacks": [s for s in configgen.stacks() if "postgresql" in s["engines"]],
        "orms": orms,
        "checker_orms": checker_orms,
        "uses": uses,
        "drivers": drivers,
        "platforms": configgen.PLATFORMS,
    }


def generate_config(
    provider: str, orm: str, platform: str, prisma: int = 6, endpoint: str | None = None
) -> Mapping[str, Any]:
    from . import configgen

    return configgen.generate(provider, orm, platform, prisma, endpoint=endpoint or None)


def pooler_ini(**inputs: Any) -> Mapping[str, Any]:
    """The pgbouncer.ini form: configgen.pgbouncer_ini's file, and its name as the title."""
    from . import configgen

    return {**configgen.pgbouncer_ini(**inputs), "title": "pgbouncer.ini"}


def capacity(**inputs: Any) -> Mapping[str, Any]:
    from . import calculator

    return calculator.capacity(**inputs)


def explain_error(text: str, orm: str | None = None, driver: str | None = None) -> dict[str, Any]:
    """What the "Explain an error" box shows: `advisor explain --format json`'s document and
    exit code (the CLI itself, so the matches, ranking and redaction are its own), or the
    CLI's one-line error."""
    argv = ["explain", "--format", "json"]
    if orm:
        argv += ["--orm", orm]
    if driver:
        argv += ["--driver", driver]
    code, out, err = run_cli([*argv, "--", text])
    if not out:
        lines = err.strip().splitlines() or ["no output"]
        return {"exit": code, "error": lines[-1].removeprefix("advisor: error: ")}
    return {"exit": code, **json.loads(out)}


ENTRY_POINTS: dict[str, Callable[..., Any]] = {
    "explain_error": explain_error,
    "check_url": check_url,
    "config_choices": config_choices,
    "generate_config": generate_config,
    "pooler_ini": pooler_ini,
    "capacity": capacity,
}


def call(name: str, arguments: str) -> str:
    """The page's single door: entry point name and JSON keyword arguments in, JSON out.
    A ValueError (bad input) comes back as {"error": message}."""
    try:
        result = ENTRY_POINTS[name](**json.loads(arguments))
    except ValueError as exc:
        result = {"error": str(exc)}
    return json.dumps(result)
