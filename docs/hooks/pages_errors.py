"""MkDocs hook: the Errors section (errors/index.md, errors/<id>.md) from
advisor/catalog/errors.toml, the catalog `advisor explain` and the probe use.

One page per signature, with the exact message text in the page body (so the site search,
and a web search, find it), what raises it, why, the fix per stack (the stack catalog's own
lines), the recorded messages with their links, and the source with its checked date. The
pages carry `search: boost:` front matter so that they rank first for their messages.
Registered in mkdocs.yml next to generate.py: `on_config` expands the nav entry
errors/index.md, `on_files` adds the pages, `on_page_markdown` points their edit links at
the catalog file.
"""

from __future__ import annotations

import html
import posixpath
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

HOOKS = Path(__file__).resolve().parent
if str(HOOKS) not in sys.path:
    sys.path.insert(0, str(HOOKS))

from pages_text import ROOT, cell  # noqa: E402

from advisor.catalog.errors import RAISERS, load_errors, stack_of  # noqa: E402

CATALOG = "advisor/catalog/errors.toml"
INDEX = "errors/index.md"
BOOST = 10  # the message pages first for their own words
KIND_TITLES = {
    "server": "Database server",
    "pooler": "Poolers",
    "provider": "Providers and the network",
    "orm": "ORMs",
    "driver": "Drivers",
}
PAGES: set[str] = set()


def page_path(error_id: str) -> str:
    return f"errors/{error_id}.md"


def _code(text: str) -> str:
    """A message as a fenced block (shown exactly; the fence outlasts any backticks in it)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _inline(text: str) -> str:
    """A message in running text: the words as they are, Markdown and HTML shown literally."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+!|~])", r"\\\1", escaped)


def error_page(s: Mapping[str, Any]) -> str:
    first = s["examples"][0]["text"]
    raised = f"{s['raised_by']['name']} ({RAISERS[s['raised_by']['kind']]})"
    sqlstate = f" · SQLSTATE `{s['sqlstate']}`" if s.get("sqlstate") else ""
    out = [
        "---",
        "search:",
        f"  boost: {BOOST}",
        f"description: {_yaml(s['title'])}",
        "---",
        "",
        f"# {_inline(s['title'])}",
        "",
        f"**You see:** {_inline(first)}",
        "",
        f"**What it means:** {_inline(s['cause'])}",
        "",
        f"**Fix:** {_inline(s['fix'])}",
        "",
        f"Raised by **{_inline(raised)}**{sqlstate}.",
        "",
    ]
    if s["stack_fixes"]:
        out += [
            "## Fix for your stack",
            "",
            "The line to change, from the stack catalog ([Stacks](../stacks/index.md)):",
            "",
            "| Stack | Fix |",
            "|---|---|",
        ]
        out += [
            f"| {cell(stack_of(ref).name)} | `{_tick(line)}` |"
            for ref, line in s["stack_fixes"].items()
        ]
        out.append("")
    out += ["## Messages recorded", "", "Each as it appears in its source:", ""]
    for e in s["examples"]:
        out += [_code(e["text"]), "", f"Source: [{_link_words(e['source'])}]({e['source']})", ""]
    out += [
        "## Explain it from the command line",
        "",
        "```sh",
        'advisor explain "$(cat error.log)"',
        "your-command 2>&1 | advisor explain -",
        "```",
        "",
        f"`advisor explain` names this signature `{s['id']}`; with `--orm`/`--driver` it prints "
        "the fix line for that stack. The same text is checked by the "
        "[Explain an error](../tools/explain.md) box, offline in your browser. To get the "
        'command: `pipx install "git+https://github.com/pooling-advisor/advisor"` '
        "([other ways](../index.md#or-from-the-command-line)).",
        "",
        f"Source: [{_link_words(s['source'])}]({s['source']}) · checked {s['checked']}",
        "",
    ]
    return "\n".join(out)


def _tick(text: str) -> str:
    return str(text).replace("`", "'").replace("|", "&#124;")


def _yaml(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _link_words(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest if len(rest) <= 70 else rest[:69] + "…"


def errors_index(errors: Mapping[str, Mapping[str, Any]]) -> str:
    out = [
        "---",
        "search:",
        "  boost: 2",
        "---",
        "",
        "# Errors",
        "",
        "Paste the message you see into `advisor explain` (or the [Explain an error]"
        "(../tools/explain.md) box): it names what raised it, why, and the fix for your stack. "
        f"Every message below has its own page, with its source. {len(errors)} messages so far.",
        "",
        "```sh",
        "advisor explain 'FATAL: no more connections allowed (max_client_conn)'",
        "kubectl logs deploy/api | advisor explain - --orm prisma",
        "```",
        "",
    ]
    for kind, title in KIND_TITLES.items():
        group = [s for s in errors.values() if s["raised_by"]["kind"] == kind]
        if not group:
            continue
        out += [f"## {title}", "", "| Message | Raised by | What it means |", "|---|---|---|"]
        for s in group:
            message = _tick(s["examples"][0]["text"])
            short = message if len(message) <= 90 else message[:89] + "…"
            out.append(
                f"| [`{short}`]({s['id']}.md) | {_inline(s['raised_by']['name'])} "
                f"| {_inline(s['title'])} |"
            )
        out.append("")
    return "\n".join(out)


# --------------------------------------------------------------------------- MkDocs hooks


def _expand(nav: list, errors: Mapping[str, Mapping[str, Any]]) -> list:
    result = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if value == INDEX:
            value = [INDEX] + [
                {
                    title: [
                        {s["title"]: page_path(s["id"])}
                        for s in errors.values()
                        if s["raised_by"]["kind"] == kind
                    ]
                }
                for kind, title in KIND_TITLES.items()
                if any(s["raised_by"]["kind"] == kind for s in errors.values())
            ]
        elif isinstance(value, list):
            value = _expand(value, errors)
        result.append({next(iter(item)): value} if isinstance(item, dict) else value)
    return result


def on_config(config):
    if config.nav:
        config.nav = _expand(config.nav, load_errors())
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    errors = load_errors()
    pages = {INDEX: errors_index(errors)}
    for sid, s in errors.items():
        pages[page_path(sid)] = error_page(s)
    PAGES.clear()
    for src, content in pages.items():
        if files.get_file_from_path(src) is not None:
            raise ValueError(f"docs/{src} is generated at build time; remove the hand-written file")
        content = (
            content.rstrip("\n")
            + f"\n\n---\n\n*Generated from `{CATALOG}` when the site is built.*\n"
        )
        files.append(File.generated(config, src, content=content))
        PAGES.add(src)
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri in PAGES and config.repo_url and config.edit_uri:
        base = urljoin(config.repo_url.rstrip("/") + "/", config.edit_uri)
        base = base if base.endswith("/") else base + "/"
        docs = Path(config.docs_dir).resolve()
        page.edit_url = urljoin(
            base, posixpath.relpath((ROOT / CATALOG).as_posix(), docs.as_posix())
        )
    return markdown
