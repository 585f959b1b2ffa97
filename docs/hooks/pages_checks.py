"""Check pages: checks/index.md and checks/<id>.md, from advisor/catalog/checks/*.toml."""

from __future__ import annotations

from pages_text import cell, prose

from advisor.catalog.checks import LIFECYCLES

# How a lifecycle other than stable is flagged on a check's page (a MkDocs admonition).
LIFECYCLE_ADMONITION = {"preview": "warning", "deprecated": "danger"}


def lifecycle_note(c: dict) -> list[str]:
    """One line for a stable check, an admonition for a preview or deprecated one."""
    meaning = LIFECYCLES[c["lifecycle"]]
    if c["lifecycle"] not in LIFECYCLE_ADMONITION:
        return [f"**Lifecycle:** {c['lifecycle']}: {meaning}.", ""]
    return [
        f'!!! {LIFECYCLE_ADMONITION[c["lifecycle"]]} "Lifecycle: {c["lifecycle"]}"',
        "",
        f"    {meaning[0].upper()}{meaning[1:]}.",
        "",
    ]


def check_page(c: dict) -> str:
    out = [
        f"# {c['id']}: {prose(c['title'])}",
        "",
        # The summary first: the site search shows a page's first words as its preview.
        f"**{prose(c['summary'])}**",
        "",
        "| Id | Severity | Engine | Kind | Topic |",
        "|---|---|---|---|---|",
        f"| `{c['id']}` | {c['severity']} | {c['engine']} | {c['kind']} | {c['topic']} |",
        "",
        *lifecycle_note(c),
        "## Why it matters",
        "",
        prose(c["rationale"], lines=True),
        "",
        "## How to fix",
        "",
        prose(c["remediation"], lines=True),
        "",
    ]
    if c.get("example"):
        out += ["## Example", "", "```text", c["example"], "```", ""]
    if c["params"]:
        out += ["## Thresholds", "", "| Parameter | Default | Override |", "|---|---:|---|"]
        for name, value in c["params"].items():
            out.append(f"| `{name}` | {value} | `--threshold {c['id']}.{name}=VALUE` |")
        out.append("")
    cmd = {"probe": "advisor probe", "audit": "advisor audit"}.get(c["kind"], "advisor lint")
    out += [
        "## Run it",
        "",
        f"This check runs in `{cmd}` ([get the command](../index.md#or-from-the-command-line)). "
        "Explain it in a terminal:",
        "",
        f"```bash\nadvisor checks {c['id']}\n```",
        "",
        "[All checks](index.md)",
        "",
    ]
    return "\n".join(out)


def checks_index(checks: dict) -> str:
    out = [
        "# Checks",
        "",
        "Every finding the advisor reports has an id and a page here, generated from the "
        "check catalog (`advisor/catalog/checks/*.toml`). `probe` checks need a live "
        "connection; `lint` checks read only the URL.",
        "",
        "| Id | Title | Severity | Engine | Kind | What it checks |",
        "|---|---|---|---|---|---|",
    ]
    for cid in sorted(checks):
        c = checks[cid]
        out.append(
            f"| [{cid}]({cid}.md) | {cell(c['title'])} | {c['severity']} | {c['engine']} "
            f"| {c['kind']} | {cell(c['summary'])} |"
        )
    return "\n".join(out) + "\n"
