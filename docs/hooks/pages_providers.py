"""Provider pages: providers/index.md and providers/<id>.md, from advisor/catalog/providers.toml
(and the hand-written notes in docs/providers/_notes/<id>.md)."""

from __future__ import annotations

import html
import re
from functools import cache
from typing import Any

from pages_stacks import PREPARED, page_id, text, verdict
from pages_text import cell, indent, prose, source_link

from advisor import configgen
from advisor.catalog.stacks import Stack, load_stacks, orm_rules, resolve
from advisor.checks import Context
from advisor.configgen import example_url, pick
from advisor.errors import InvalidTarget
from advisor.options import ORM_NAMES, ORMS
from advisor.probe import lint
from advisor.stackcmd import feature_facts
from advisor.target import parse_target

# PostgreSQL snippets are the config generator's (advisor/configgen.py), for this platform.
SNIPPET_PLATFORM = "vercel"
FENCES = {
    ".ts": "ts",
    ".js": "js",
    ".py": "python",
    ".yml": "yaml",
    ".prisma": "prisma",
    ".toml": "toml",
}
INTROS = {
    "prisma": "Prisma ORM 6 reads both URLs from the schema; Prisma ORM 7 takes the CLI's URL "
    "from `prisma.config.ts` and the runtime pool from the driver adapter.",
    "drizzle": "Drizzle inherits the driver's behaviour; with postgres.js turn prepared "
    "statements off behind a transaction pooler that cannot track them.",
    "node-postgres": "One small pool per instance, created at module scope; leave `name` off "
    "queries so they stay unnamed (named queries become prepared statements).",
    "django": "Behind a transaction pooler Django must not use server-side cursors; run "
    "`migrate` with the direct URL.",
    "sqlalchemy": "Let the external pooler do the pooling: `NullPool` in the app, Alembic on "
    "the direct URL.",
    "rails": "Active Record behind a transaction pooler: no prepared statements, and no "
    "advisory locks for migrations that still go through it.",
}

POOLER_PAGES = {
    "pgbouncer": "pgbouncer",
    "supavisor": "supavisor",
    "pgpool-ii": "pgpool-ii",
    "rds-proxy": "rds-proxy",
    "proxysql": "proxysql",
}


def _to_check(item: dict) -> str:
    """What to check for a fact the catalog could not confirm (its `check` advice)."""
    if item.get("verified") is False and item.get("check"):
        return f" *Not confirmed. {prose(item['check'])}*"
    return ""


def _with_params(url: str, params: dict) -> str:
    if not params:
        return url
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return url + ("&" if "?" in url else "?") + query


def _fenced(title: str, code: str) -> str:
    name = title.split(" ")[0]
    lang = next((v for k, v in FENCES.items() if name.endswith(k)), None)
    if lang is None:
        lang = "dotenv" if title == "Environment variables" else "bash"
    label = f' title="{title}"' if lang not in ("dotenv", "bash") else ""
    return f"```{lang}{label}\n{code}\n```"


def generated_snippet(pid: str, orm: str) -> str:
    """The config generator's blocks for a serverless platform (Prisma: 6, then 7's files)."""
    blocks = configgen.generate(pid, orm, SNIPPET_PLATFORM, 6)["blocks"]
    if orm == "prisma":
        blocks = blocks + configgen.generate(pid, orm, SNIPPET_PLATFORM, 7)["blocks"][1:]
    return "\n\n".join(_fenced(title, code) for title, code in blocks)


def catalog_snippet(snippet: dict) -> str:
    """A provider's own snippet for one ORM (providers.toml `snippets.<orm>`): its text,
    then its [title, code] blocks."""
    parts = [prose(snippet["text"])] if snippet.get("text") else []
    parts += [_fenced(title, code) for title, code in snippet.get("blocks") or []]
    return "\n\n".join(parts)


def mysql_snippet(orm: str, pooled: str, direct: str, params: dict) -> str:
    """Fenced code for one ORM/driver on MySQL (the config generator is PostgreSQL-only)."""
    if orm == "prisma":
        p = dict(params)
        p.setdefault("connection_limit", "1")
        return (
            f'```dotenv title=".env"\nDATABASE_URL="{_with_params(pooled, p)}"\n'
            f'DIRECT_URL="{direct}"\n```\n\n'
            '```prisma title="schema.prisma (Prisma 6)"\ndatasource db {\n'
            '  provider  = "mysql"\n  url       = env("DATABASE_URL")\n'
            '  directUrl = env("DIRECT_URL")\n}\n```'
        )
    if orm == "drizzle":
        return (
            '```ts\nimport mysql from "mysql2/promise";\nimport { drizzle } from '
            '"drizzle-orm/mysql2";\n\nconst pool = mysql.createPool({ uri: '
            "process.env.DATABASE_URL, connectionLimit: 1 });\nexport const db = "
            "drizzle(pool);\n```"
        )
    if orm == "node-postgres":
        return (
            "node-postgres is PostgreSQL only; for MySQL use `mysql2` with a small pool.\n\n"
            '```js\nimport mysql from "mysql2/promise";\n\nexport const pool = '
            "mysql.createPool({ uri: process.env.DATABASE_URL, connectionLimit: 1 });\n```"
        )
    if orm == "django":
        return (
            '```python title="settings.py"\nimport os\nimport dj_database_url\n\n'
            'DATABASES = {"default": {\n    **dj_database_url.parse(os.environ["DATABASE_URL"]),'
            '\n    "ENGINE": "django.db.backends.mysql",\n    "CONN_MAX_AGE": 0,\n}}\n```\n\n'
            '```bash\nDATABASE_URL="$DIRECT_URL" python manage.py migrate\n```'
        )
    if orm == "sqlalchemy":
        return (
            "```python\nimport os\nfrom sqlalchemy import create_engine\n"
            'from sqlalchemy.pool import NullPool\n\nurl = os.environ["DATABASE_URL"]'
            '.split("://", 1)[1]\nengine = create_engine("mysql+pymysql://" + url, '
            "poolclass=NullPool)\n```"
        )
    if orm == "rails":
        return (
            '```yaml title="config/database.yml"\nproduction:\n'
            '  url: <%= ENV["DATABASE_URL"] %>\n  prepared_statements: false\n'
            "  advisory_locks: false\n```\n\n"
            '```bash\nDATABASE_URL="$DIRECT_URL" bin/rails db:migrate\n```'
        )
    raise ValueError(orm)


# --------------------------------------------------------------------------- stack verdicts
# What `advisor lint --orm/--driver` says of each stack on the provider's pooled endpoint:
# the checks STK101 and STK102 over what the provider catalog says of the endpoint.

VERDICT_CHECKS = ("STK101", "STK102")
RANK = {"pass": 0, "warn": 1, "fail": 2}


@cache
def _lint(url: str, orm: str | None, driver: str, option: str = "") -> dict[str, dict] | None:
    """STK101 and STK102 of `advisor lint URL --orm ORM --driver DRIVER [--driver-option]`
    (the URL checker's `check_url()` gives the same, through the whole command line)."""
    options = dict([option.split("=", 1)]) if option else {}
    ctx = Context(orm=orm, driver=driver, driver_options=options)
    try:
        report = lint(parse_target(url), ctx)
    except InvalidTarget:
        return None
    found = {
        f.id: {"status": f.status, "message": f.message}
        for f in report.findings
        if f.id in VERDICT_CHECKS
    }
    return found if set(found) == set(VERDICT_CHECKS) else None


def _needs(stack: Stack, name: str) -> dict[str, Any]:
    f = feature_facts(stack, name, stack.features[name])
    what = str(f["detail"]).split(". ")[0].rstrip(".")
    return {"title": f["title"], "errors": f["errors"], "fix": str(f["fix"]), "what": what}


def stack_verdict(url: str, stack: Stack, pooled: bool = True) -> dict[str, Any] | None:
    """The advisor's verdict on `stack` with its defaults at `url`: status, its findings
    that are not a plain pass, what breaks and what to set, and, on a transaction pool
    (`pooled`) that keeps what the stack's fix turns off, the finding that says the fix
    can go. None: the advisor cannot tell."""
    orm, driver = (stack.orm["id"] if stack.orm else None), str(stack.driver["id"])
    found = _lint(url, orm, driver)
    if found is None:
        return None
    status = max((f["status"] for f in found.values()), key=lambda s: RANK.get(s, 0))
    needs = []
    if found["STK101"]["status"] != "pass":
        needs.append(_needs(stack, PREPARED))
    if found["STK102"]["status"] == "fail":  # every session feature is lost: which break?
        lost = verdict(orm, driver, "not_kept")["breaks"]
        needs += [_needs(stack, n) for n in lost if n != PREPARED]
    not_needed = not_needed_option = None
    prepared = stack.features.get(PREPARED) or {}
    options = prepared.get("safe_options") or []
    # a stack that breaks even where statements are kept is never told its fix can go
    if status == "pass" and options and pooled and prepared.get("works_when_kept") is not False:
        option = f"{options[0]['name']}={options[0]['values'][0]}"
        again = _lint(url, orm, driver, option)
        if again is not None and again["STK101"]["status"] == "warn":
            not_needed = again["STK101"]["message"]
            not_needed_option = option
    shown = [f["message"] for f in found.values() if f["status"] != "pass"]
    return {
        "status": status,
        "messages": shown,
        "needs": needs,
        "not_needed": not_needed,
        "option": not_needed_option if not_needed else None,
    }


def _setting(fix: str) -> list[str]:
    if fix.rstrip().endswith("."):  # advice, not a setting
        return [text(fix)]
    return ["```text", fix, "```"]


def _verdict_block(stack: Stack, v: dict[str, Any], page: str) -> list[str]:
    name = stack.name.replace('"', "'")
    link = f"[{text(stack.name)}]({page})"
    if v["status"] == "pass" and not v["not_needed"]:
        return [f"- ✔ {link}: works here with its defaults.", ""]
    body: list[str] = []
    if v["status"] == "pass":
        head, body = f'!!! tip "{name}: works here with its defaults"', [text(v["not_needed"])]
    elif v["status"] == "warn":
        head, body = f'!!! warning "{name}: may break here"', [text(m) for m in v["messages"]]
    else:
        head = f'!!! failure "{name}: breaks here with its defaults"'
        if not v["needs"]:
            body = [text(m) for m in v["messages"]]
    for need in v["needs"]:
        if v["status"] == "fail" and need["errors"]:
            body += ["", f"**{need['title']}** breaks with:", "", "```text", *need["errors"], "```"]
        elif v["status"] == "fail":
            body += ["", f"**{need['title']}** breaks, without an error: {text(need['what'])}."]
        body += ["", "Set:", "", *_setting(need["fix"])]
    body += ["", f"More: {link}."]
    return [head, "", indent("\n".join(body).strip("\n")), ""]


def _stack_page(stack_id: str) -> str:
    return f"../stacks/{page_id(stack_id)}"


def _stack_link(stack_id: str) -> str:
    return f"[{text(load_stacks()[stack_id]['name'])}]({_stack_page(stack_id)})"


def _lint_url(endpoint: dict | None) -> str | None:
    """The endpoint's example URL with its <placeholders> filled, for `advisor lint`."""
    url = example_url((endpoint or {}).get("example"))
    if not url:
        return None
    url = re.sub(r":<[^>]+>(?=/|$)", f":{(endpoint or {}).get('port') or 5432}", url)
    return re.sub(r"<[^>]+>", "abc", url)


def _judged(stack: Stack, drivers: list[str] | None) -> bool:
    """A provider's `verdict_drivers` limits the verdicts to the drivers its docs vouch for."""
    return drivers is None or str(stack.driver["id"]) in drivers


def orm_verdicts(
    url: str | None, orm: str, engine: str, pooled: bool, drivers: list[str] | None = None
) -> list[str]:
    """For an ORM tab: the verdict for the ORM on each of its drivers for this engine."""
    if url is None:
        return []
    entry = load_stacks()[orm]
    if entry["kind"] == "driver":
        stacks = [resolve(driver=orm)]
    else:
        own = orm_rules(entry, None)[1]
        stacks = [resolve(orm, d) for d in own if engine in load_stacks()[d]["engines"]]
    out: list[str] = []
    for stack in stacks:
        if not _judged(stack, drivers):
            continue
        v = stack_verdict(url, stack, pooled)
        if v is not None:
            out += _verdict_block(stack, v, _stack_page(orm))
    return out


def _other_stacks(engine: str) -> list[str]:
    """Catalog stacks without a tab of their own above, in catalog order; a driver an ORM
    brings along (no package of its own) is left to that ORM's tab."""
    catalog = load_stacks()
    brought = {d for e in catalog.values() if e["kind"] == "orm" for d in e["drivers"]}
    return [
        sid
        for sid, e in catalog.items()
        if sid not in ORMS
        and engine in e["engines"]
        and not (e["kind"] == "driver" and not e["packages"] and sid in brought)
    ]


def stack_tabs(
    url: str | None, engine: str, pooled: bool, drivers: list[str] | None = None
) -> tuple[list[str], list[str]]:
    """(tabs for the stacks that need a setting here, links to those that work as is)."""
    tabs: list[str] = []
    fine: list[str] = []
    if url is None:
        return tabs, fine
    for sid in _other_stacks(engine):
        entry = load_stacks()[sid]
        stack = resolve(sid) if entry["kind"] == "orm" else resolve(driver=sid)
        if not _judged(stack, drivers):
            continue
        v = stack_verdict(url, stack, pooled)
        if v is None:
            continue
        if v["status"] == "pass":
            unneeded = f" (`{v['option']}` not needed)" if v["option"] else ""
            fine.append(_stack_link(sid) + unneeded)
            continue
        label = str(entry["name"]).replace('"', "'")
        body = _verdict_block(stack, v, _stack_page(sid))
        tabs += [f'=== "{label}"', "", indent("\n".join(body)), ""]
    return tabs, fine


def provider_page(p: dict, notes: str) -> str:
    out = [f"# {p['name']}", "", prose(p.get("summary")), ""]
    eng = ", ".join(p.get("engines") or [])
    home = p.get("homepage")
    out += [f"**Engines:** {eng}" + (f" · **Website:** <{home}>" if home else ""), ""]
    if p.get("generic"):
        out += [
            '!!! info "Conventions, not a provider"',
            "    The advisor uses these entries "
            "only when no hosted provider matches the host, guessing from the port.",
            "",
        ]

    out += ["## Endpoints", ""]
    if p["endpoints"]:
        out += [
            "| Endpoint | Role | Port | Pooler | Prepared statements | Migrations | Source |",
            "|---|---|---:|---|---|---|---|",
        ]
        for e in p["endpoints"]:
            prep = {True: "yes", False: "no"}.get(e.get("prepared_statements"), "unknown")
            pooler = e.get("pooler") or "—"
            if pooler in POOLER_PAGES:
                pooler = f"[{pooler}](../poolers/{POOLER_PAGES[pooler]}.md)"
            if e.get("pool_mode"):
                pooler += f", {e['pool_mode']} mode"
            out.append(
                f"| {cell(e.get('label') or e['id'])} | {e.get('role', '')}, {e.get('engine', '')} "
                f"| {e.get('port') or 'default'} | {pooler} | {prep} "
                f"| {'yes' if e.get('for_migrations') else 'no'} | {source_link(e)} |"
            )
        out += ["", "### Connection strings", ""]
        for e in p["endpoints"]:
            label = str(e.get("label") or e["id"])
            shown = e.get("env_var") and e["env_var"] not in label  # no "X (X) (`X`)"
            env_var = f" (`{e['env_var']}`)" if shown else ""
            out += [
                f"**{cell(label)}**{env_var}",
                "",
                "```text",
                str(e.get("example") or "(no example in the catalog)"),
                "```",
                "",
            ]
            if e.get("note") or _to_check(e):
                out += [(prose(e.get("note")) + _to_check(e)).strip(), ""]
    else:
        out += ["The catalog lists no endpoints for this provider yet.", ""]

    pooled = pick(p, "pooled", "postgresql") or pick(p, "pooled", "mysql")
    engine = (pooled or {}).get("engine") or (
        "postgresql" if "postgresql" in p.get("engines", []) else "mysql"
    )
    direct = pick(p, "direct", engine)
    direct_url = example_url((direct or {}).get("example")) or "<direct-url>"
    # No pooled endpoint in the catalog: the URL to check is the one the application uses.
    pooled_url = example_url((pooled or {}).get("example")) or (
        direct_url if direct else "<database-url>"
    )

    if p.get("check_hint"):  # the pooled host is not reachable from where `advisor` runs
        probe_url = p.get("check_probe_url") or direct_url
        out += [
            '!!! tip "Check it"',
            f"    {prose(p['check_hint'])}",
            "",
            indent(
                f"```bash\nadvisor lint '{pooled_url}'\nDATABASE_URL='{probe_url}' advisor probe\n```"
            ),
            "",
        ]
    else:
        out += [
            '!!! tip "Check it"',
            "    Review the URL offline, then probe the live database (read-only, one connection):",
            "",
            indent(
                f"```bash\nadvisor lint '{pooled_url}'\nDATABASE_URL='{pooled_url}' advisor probe\n```"
            ),
            "",
        ]
    out += [GET_IT, ""]

    judged = pooled or direct
    pooled_txn = (judged or {}).get("pool_mode") in ("transaction", "statement")
    lintable = (judged or {}).get("engine") == "postgresql" and (judged or {}).get(
        "matchable", True
    )
    lint_url = _lint_url(judged) if lintable else None
    drivers = p.get("verdict_drivers")
    intro = p.get("snippets_intro") or (
        f"Snippets use the catalog's example URLs ({'pooled' if pooled else 'placeholder'} "
        "`DATABASE_URL`, direct `DIRECT_URL`)."
    )
    out += [
        "## ORM and driver settings",
        "",
        f"{prose(intro)} See also the [ORM pages](../orms/index.md) "
        "and the [stack pages](../stacks/index.md).",
        "",
    ]
    if lint_url is not None:
        label = cell((judged or {}).get("label") or (judged or {}).get("id"))
        out += [
            f"Each tab ends with what `advisor lint --orm/--driver` says of the stack, with "
            f"its defaults, on **{label}** (from what the catalog says of that endpoint; "
            "`advisor probe` measures it)."
            + (f" {prose(p['verdict_note'])}" if p.get("verdict_note") else ""),
            "",
        ]
    generated = "postgresql" in p.get("engines", [])
    verdicts_seen = False
    snippets = p.get("snippets") or {}
    for orm in ORMS:
        entry = p["orm"].get(orm) or {}
        if orm in snippets:
            code = catalog_snippet(snippets[orm])
        elif generated:
            code = generated_snippet(p["id"], orm)
        else:
            params = entry.get("pooled_params") or {}
            code = mysql_snippet(orm, pooled_url, direct_url, params)
        body = [INTROS[orm], "", code]
        if entry.get("note"):
            body += ["", f"{prose(entry['note'])} ({source_link(entry)}){_to_check(entry)}"]
        runs_here = orm not in snippets or bool(snippets[orm].get("blocks"))
        verdicts = orm_verdicts(lint_url, orm, engine, pooled_txn, drivers) if runs_here else []
        verdicts_seen = verdicts_seen or bool(verdicts)
        if verdicts:
            body += ["", "**On this endpoint:**", "", *verdicts]
        out += [f'=== "{ORM_NAMES[orm]}"', "", indent("\n".join(body)), ""]
    tabs, fine = stack_tabs(lint_url, engine, pooled_txn, drivers)
    out += tabs
    if fine:
        out += [f"Work here with their defaults: {', '.join(fine)}.", ""]
    if lint_url is not None and not verdicts_seen:
        out += [
            "The catalog does not say how this endpoint pools: `advisor probe "
            '"$DATABASE_URL" --driver ID` (or `--orm ID`) measures it and says whether '
            "your stack works there.",
            "",
        ]

    if p["pitfalls"]:
        out += ["## Pitfalls", ""]
        for pit in p["pitfalls"]:
            title = (pit.get("title") or pit.get("id") or "Pitfall").replace('"', "'")
            out += [
                f'!!! warning "{html.escape(title)}"',
                f"    {prose(pit.get('text'))}",
                "",
                f"    {source_link(pit)}{_to_check(pit)}",
                "",
            ]

    out += ["## Facts", ""]
    for key, label in (("max_connections", "Connection limits"), ("tls", "TLS")):
        item = p.get(key)
        if isinstance(item, dict) and item.get("note"):
            req = " TLS is required." if key == "tls" and item.get("required") else ""
            out.append(
                f"- **{label}:** {prose(item['note'])}{req} ({source_link(item)}){_to_check(item)}"
            )
    # Facts that replaced a claim of older guidance are stated like any other; what the
    # old page said is kept on the changelog page, not here.
    for f in p["facts"]:
        out.append(f"- {prose(f.get('text'))} ({source_link(f)}){_to_check(f)}")
    out.append("")
    if notes:
        out += ["## Notes", "", notes.strip(), ""]
    return "\n".join(out)


GET_IT = (
    'No `advisor` yet? `pipx install "git+https://github.com/pooling-advisor/advisor"` '
    "([other ways](../index.md#or-from-the-command-line)), or paste the URL into the "
    "[URL checker](../tools/url-checker.md), which needs nothing installed."
)


def providers_index(providers: dict) -> str:
    out = [
        "# Providers",
        "",
        "Generated from the advisor's provider catalog (`advisor/catalog/providers.toml`), the "
        "same data `advisor lint` uses to recognise a host. Each page lists the pooled and "
        "direct endpoints with a source link and the date the fact was checked.",
        "",
        "| Provider | Engines | Pooled endpoints | Summary |",
        "|---|---|---|---|",
    ]
    for pid, p in providers.items():
        pooled = sorted(
            {e.get("pooler") or "?" for e in p["endpoints"] if e.get("role") == "pooled"}
        )
        out.append(
            f"| [{cell(p['name'])}]({pid}.md) | {', '.join(p.get('engines') or [])} "
            f"| {', '.join(pooled) or '—'} | {cell(p.get('summary'))} |"
        )
    return "\n".join(out) + "\n"
