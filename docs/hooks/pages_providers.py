"""Provider pages: providers/index.md and providers/<id>.md, from advisor/catalog/providers.toml
(and the hand-written notes in docs/providers/_notes/<id>.md)."""

from __future__ import annotations

import html
import re

from pages_text import cell, indent, prose, source_link

from advisor.catalog.providers import ORMS

ORM_NAMES = {
    "prisma": "Prisma",
    "drizzle": "Drizzle",
    "node-postgres": "node-postgres",
    "django": "Django",
    "sqlalchemy": "SQLAlchemy",
    "rails": "Rails",
}
POOLER_PAGES = {
    "pgbouncer": "pgbouncer",
    "supavisor": "supavisor",
    "pgpool-ii": "pgpool-ii",
    "rds-proxy": "rds-proxy",
    "proxysql": "proxysql",
}


def _url_in(example: str | None) -> str | None:
    m = re.search(r"(?:postgres(?:ql)?|mysql)://[^\s)'\"]+", example or "")
    return m.group(0) if m else None


def _with_params(url: str, params: dict) -> str:
    if not params:
        return url
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return url + ("&" if "?" in url else "?") + query


def _pick(provider: dict, role: str, engine: str) -> dict | None:
    eps = [e for e in provider["endpoints"] if e.get("role") == role and e.get("engine") == engine]
    if role == "pooled":
        eps.sort(key=lambda e: e.get("pool_mode") != "transaction")
    else:
        eps.sort(key=lambda e: not e.get("for_migrations"))
    return eps[0] if eps else None


def orm_snippet(
    orm: str, engine: str, pooled: str, direct: str, no_prep: bool, params: dict
) -> tuple[str, str]:
    """(intro sentence, fenced code) for one ORM/driver; URLs are placeholders or catalog examples."""
    pg = engine == "postgresql"
    if orm == "prisma":
        p = dict(params) or ({"pgbouncer": "true"} if no_prep else {})
        p.setdefault("connection_limit", "1")
        return (
            "Prisma ORM 6 reads both URLs from the schema; Prisma ORM 7 takes the CLI's URL "
            "from `prisma.config.ts` and the runtime pool from the driver adapter.",
            f'```dotenv title=".env"\nDATABASE_URL="{_with_params(pooled, p)}"\n'
            f'DIRECT_URL="{direct}"\n```\n\n'
            f'```prisma title="schema.prisma (Prisma 6)"\ndatasource db {{\n'
            f'  provider  = "{engine}"\n  url       = env("DATABASE_URL")\n'
            f'  directUrl = env("DIRECT_URL")\n}}\n```\n\n'
            '```ts title="prisma.config.ts (Prisma 7)"\n'
            'import { defineConfig, env } from "prisma/config";\n\n'
            "// migrations and introspection go to the direct URL\n"
            'export default defineConfig({ datasource: { url: env("DIRECT_URL") } });\n```',
        )
    if orm == "drizzle":
        if not pg:
            return (
                "Drizzle over `mysql2`; migrations with drizzle-kit on the direct URL.",
                '```ts\nimport mysql from "mysql2/promise";\nimport { drizzle } from '
                '"drizzle-orm/mysql2";\n\nconst pool = mysql.createPool({ uri: '
                "process.env.DATABASE_URL, connectionLimit: 1 });\nexport const db = "
                "drizzle(pool);\n```",
            )
        prep = "prepare: false, " if no_prep else ""
        return (
            "Drizzle inherits the driver's behaviour; with postgres.js turn prepared "
            "statements off behind a transaction pooler that cannot track them.",
            f'```ts title="db.ts"\nimport postgres from "postgres";\nimport {{ drizzle }} from '
            f'"drizzle-orm/postgres-js";\n\nconst client = postgres(process.env.DATABASE_URL!, '
            f"{{ {prep}max: 1 }});\nexport const db = drizzle(client);\n```\n\n"
            '```ts title="drizzle.config.ts"\nexport default {\n  dialect: "postgresql",\n'
            "  dbCredentials: { url: process.env.DIRECT_URL! }, // drizzle-kit: direct URL\n};\n```",
        )
    if orm == "node-postgres":
        if not pg:
            return (
                "node-postgres is PostgreSQL only; for MySQL use `mysql2` with a small pool.",
                '```js\nimport mysql from "mysql2/promise";\n\nexport const pool = '
                "mysql.createPool({ uri: process.env.DATABASE_URL, connectionLimit: 1 });\n```",
            )
        return (
            "One small pool per instance, created at module scope; leave `name` off queries "
            "so they stay unnamed (named queries become prepared statements).",
            '```js title="db.js"\nimport pg from "pg";\n\nexport const pool = new pg.Pool({\n'
            "  connectionString: process.env.DATABASE_URL,\n  max: 1,\n"
            "  idleTimeoutMillis: 5000,\n});\n```",
        )
    if orm == "django":
        opts = (
            '\n    "OPTIONS": {"prepare_threshold": None},  # psycopg 3: no server-side prepares'
            if no_prep and pg
            else ""
        )
        eng = "postgresql" if pg else "mysql"
        return (
            "Behind a transaction pooler Django must not use server-side cursors; run "
            "`migrate` with the direct URL.",
            f'```python title="settings.py"\nimport os\nimport dj_database_url\n\n'
            f'DATABASES = {{"default": {{\n    **dj_database_url.parse(os.environ["DATABASE_URL"]),'
            f'\n    "ENGINE": "django.db.backends.{eng}",\n    "CONN_MAX_AGE": 0,\n'
            f'    "DISABLE_SERVER_SIDE_CURSORS": True,{opts}\n}}}}\n```\n\n'
            '```bash\nDATABASE_URL="$DIRECT_URL" python manage.py migrate\n```',
        )
    if orm == "sqlalchemy":
        drv = "postgresql+psycopg" if pg else "mysql+pymysql"
        args = ', connect_args={"prepare_threshold": None}' if no_prep and pg else ""
        return (
            "Let the external pooler do the pooling: `NullPool` in the app, Alembic on the "
            "direct URL.",
            f"```python\nimport os\nfrom sqlalchemy import create_engine\n"
            f'from sqlalchemy.pool import NullPool\n\nurl = os.environ["DATABASE_URL"]'
            f'.split("://", 1)[1]\nengine = create_engine("{drv}://" + url, '
            f"poolclass=NullPool{args})\n```",
        )
    if orm == "rails":
        return (
            "Active Record behind a transaction pooler: no prepared statements, and no "
            "advisory locks for migrations that still go through it.",
            '```yaml title="config/database.yml"\nproduction:\n'
            '  url: <%= ENV["DATABASE_URL"] %>\n  prepared_statements: false\n'
            "  advisory_locks: false\n```\n\n"
            '```bash\nDATABASE_URL="$DIRECT_URL" bin/rails db:migrate\n```',
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

    pooled = _pick(p, "pooled", "postgresql") or _pick(p, "pooled", "mysql")
    engine = (pooled or {}).get("engine") or (
        "postgresql" if "postgresql" in p.get("engines", []) else "mysql"
    )
    direct = _pick(p, "direct", engine)
    pooled_url = _url_in((pooled or {}).get("example")) or "<pooled-url>"
    direct_url = _url_in((direct or {}).get("example")) or "<direct-url>"
    no_prep = (
        bool(pooled)
        and pooled.get("pool_mode") == "transaction"
        and pooled.get("prepared_statements") is not True
    )

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
    for orm in ORMS:
        entry = p["orm"].get(orm) or {}
        intro, code = orm_snippet(
            orm, engine, pooled_url, direct_url, no_prep, entry.get("pooled_params") or {}
        )
        body = [intro, "", code]
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
