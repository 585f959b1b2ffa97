"""Provider pages: providers/index.md and providers/<id>.md, from advisor/catalog/providers.toml
(and the hand-written notes in docs/providers/_notes/<id>.md)."""

from __future__ import annotations

import html

from pages_text import cell, indent, prose, source_link

from advisor import configgen
from advisor.configgen import example_url, pick
from advisor.options import ORM_NAMES, ORMS

# PostgreSQL snippets are the config generator's (advisor/configgen.py), for this platform.
SNIPPET_PLATFORM = "vercel"
FENCES = {".ts": "ts", ".js": "js", ".py": "python", ".yml": "yaml", ".prisma": "prisma"}
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
            env_var = f" (`{e['env_var']}`)" if e.get("env_var") else ""
            out += [
                f"**{cell(e.get('label') or e['id'])}**{env_var}",
                "",
                "```text",
                str(e.get("example") or "(no example in the catalog)"),
                "```",
                "",
            ]
            if e.get("note"):
                out += [prose(e["note"]), ""]
    else:
        out += ["The catalog lists no endpoints for this provider yet.", ""]

    pooled = pick(p, "pooled", "postgresql") or pick(p, "pooled", "mysql")
    engine = (pooled or {}).get("engine") or (
        "postgresql" if "postgresql" in p.get("engines", []) else "mysql"
    )
    direct = pick(p, "direct", engine)
    pooled_url = example_url((pooled or {}).get("example")) or "<pooled-url>"
    direct_url = example_url((direct or {}).get("example")) or "<direct-url>"

    out += [
        '!!! tip "Check it"',
        "    Review the URL offline, then probe the live database (read-only, one connection):",
        "",
        indent(
            f"```bash\nadvisor lint '{pooled_url}'\nDATABASE_URL='{pooled_url}' advisor probe\n```"
        ),
        "",
    ]

    out += [
        "## ORM and driver settings",
        "",
        f"Snippets use the catalog's example URLs ({'pooled' if pooled else 'placeholder'} "
        "`DATABASE_URL`, direct `DIRECT_URL`). See also the [ORM pages](../orms/index.md).",
        "",
    ]
    generated = p["id"] in {x["id"] for x in configgen.providers()}
    for orm in ORMS:
        entry = p["orm"].get(orm) or {}
        if generated:
            code = generated_snippet(p["id"], orm)
        else:
            params = entry.get("pooled_params") or {}
            code = mysql_snippet(orm, pooled_url, direct_url, params)
        body = [INTROS[orm], "", code]
        if entry.get("note"):
            body += ["", f"{prose(entry['note'])} ({source_link(entry)})"]
        out += [f'=== "{ORM_NAMES[orm]}"', "", indent("\n".join(body)), ""]

    if p["pitfalls"]:
        out += ["## Pitfalls", ""]
        for pit in p["pitfalls"]:
            title = (pit.get("title") or pit.get("id") or "Pitfall").replace('"', "'")
            out += [
                f'!!! warning "{html.escape(title)}"',
                f"    {prose(pit.get('text'))}",
                "",
                f"    {source_link(pit)}",
                "",
            ]

    corrected = [f for f in p["facts"] if f.get("outdated_seed_claim")]
    for f in corrected:
        out += [
            '!!! note "Corrected"',
            f"    **The old page said:** {prose(f['outdated_seed_claim'])}",
            "",
            f"    **Now:** {prose(f['text'])} ({source_link(f)})",
            "",
        ]

    out += ["## Facts", ""]
    for key, label in (("max_connections", "Connection limits"), ("tls", "TLS")):
        item = p.get(key)
        if isinstance(item, dict) and item.get("note"):
            req = " TLS is required." if key == "tls" and item.get("required") else ""
            out.append(f"- **{label}:** {prose(item['note'])}{req} ({source_link(item)})")
    for f in p["facts"]:
        if not f.get("outdated_seed_claim"):
            out.append(f"- {prose(f.get('text'))} ({source_link(f)})")
    out.append("")
    if notes:
        out += ["## Notes", "", notes.strip(), ""]
    return "\n".join(out)


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
