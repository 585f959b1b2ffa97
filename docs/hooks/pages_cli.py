"""The CLI reference, cli.md, from the argument parser (advisor/cli.py)."""

from __future__ import annotations

import argparse
import re

from pages_text import cell


def _subparsers(parser: argparse.ArgumentParser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, sub, helps.get(name)


def _options_table(parser: argparse.ArgumentParser) -> list[str]:
    rows = ["| Argument | Values | Default | Description |", "|---|---|---|---|"]
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        name = ", ".join(f"`{s}`" for s in a.option_strings) or f"`{a.dest}`"
        if isinstance(a, argparse.BooleanOptionalAction):
            name = f"`{a.option_strings[0]}` / `{a.option_strings[1]}`"
        if a.choices:
            values = ", ".join(f"`{c}`" for c in a.choices)
        elif a.nargs == 0:
            values = "flag"
        else:
            values = f"`{a.metavar or a.dest.upper()}`"
        if a.default in (None, [], argparse.SUPPRESS) or (
            a.nargs == 0 and not isinstance(a, argparse.BooleanOptionalAction)
        ):
            default = "—"
        else:
            default = f"`{a.default}`"
        help_text = (a.help or "").replace("%%", "%")
        rows.append(f"| {name} | {values} | {default} | {cell(help_text)} |")
    return rows


def cli_page() -> str:
    from advisor.cli import EXIT_CODES, build_parser

    parser = build_parser()
    subs = list(_subparsers(parser))
    out = [
        "# CLI reference",
        "",
        "Generated from the argument parser (`advisor.cli.build_parser()`), so it always "
        "matches `advisor --help`.",
        "",
        cell(parser.description),
        "",
        "```text",
        parser.format_usage().strip(),
        "```",
        "",
        "| Command | What it does |",
        "|---|---|",
    ]
    out += [f"| [`{name}`](#advisor-{name}) | {cell(h)} |" for name, _, h in subs]
    out += [""] + _options_table(parser) + [""]
    for name, sub, h in subs:
        out += (
            [
                f"## advisor {name} {{#advisor-{name}}}",
                "",
                cell(sub.description or h),
                "",
                "```text",
                sub.format_usage().strip(),
                "```",
                "",
            ]
            + _options_table(sub)
            + [""]
        )
    out += ["## Exit codes", "", "| Code | Meaning |", "|---:|---|"]
    code, text = None, []
    for line in EXIT_CODES.splitlines()[1:]:
        m = re.match(r"\s+(\d+)\s+(.*)", line)
        if m:
            if code is not None:
                out.append(f"| {code} | {cell(' '.join(text))} |")
            code, text = m.group(1), [m.group(2)]
        elif line.strip():
            text.append(line.strip())
    if code is not None:
        out.append(f"| {code} | {cell(' '.join(text))} |")
    return "\n".join(out) + "\n"
