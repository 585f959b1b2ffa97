"""The config generator (docs/tools/config-generator.md): a PostgreSQL provider, an ORM or
driver, a platform and a Prisma major in; the environment variables and config snippets out,
written from the provider catalog.

Pure and standard-library only: the page runs this module in the browser (Pyodide), so every
rule and snippet lives here once. Results are plain dicts, lists and strings (JSON-friendly).
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

from .catalog.providers import load_providers
from .options import ORMS

# Where the code runs. `serverless`: many short-lived instances, so one connection each.
PLATFORMS: tuple[dict[str, Any], ...] = (
    dict(
        id="vercel",
        name="Vercel",
        serverless=True,
        note="Vercel: set both variables in the project's Environment Variables and create the client at module scope, so warm invocations reuse it.",
    ),
    dict(
        id="netlify",
        name="Netlify",
        serverless=True,
        note="Netlify: set both variables under Site configuration → Environment variables and create the client at module scope.",
    ),
    dict(
        id="lambda",
        name="AWS Lambda",
        serverless=True,
        note="AWS Lambda: set the variables on the function and create the client outside the handler; reserved concurrency caps the number of instances.",
    ),
    dict(
        id="workers",
        name="Cloudflare Workers",
        serverless=True,
        note="Cloudflare Workers: only JavaScript drivers run there (not Django, SQLAlchemy or Rails); a Hyperdrive binding's connectionString can take the place of DATABASE_URL.",
    ),
    dict(
        id="server",
        name="Long-running server",
        serverless=False,
        note="Long-running server: one pool per process, created once at start-up; size it with the capacity calculator.",
    ),
)
PRISMA_MAJORS = (6, 7)
# When the catalog has no example URL for the provider: a placeholder that verifies TLS.
PLACEHOLDER_URL = "postgresql://USER:PASSWORD@HOST:5432/DB?sslmode=verify-full"
_URL_IN_TEXT = re.compile(r"(?:postgres(?:ql)?|mysql)://[^\s)'\"]+")


class Generated(TypedDict):
    blocks: list[list[str]]  # [title, code], the environment variables first
    notes: list[str]


def example_url(example: str | None) -> str | None:
    """The first connection URL in an endpoint's `example` text (which may have words around it)."""
    m = _URL_IN_TEXT.search(example or "")
    return m.group(0) if m else None


def pick(provider: dict[str, Any], role: str, engine: str = "postgresql") -> dict[str, Any] | None:
    """The endpoint the snippets use for a role: among the pooled ones a transaction-mode
    pooler first (what serverless traffic needs), among the direct ones one meant for
    migrations first; otherwise catalog order."""
    found = [
        e for e in provider["endpoints"] if e.get("role") == role and e.get("engine") == engine
    ]
    if role == "pooled":
        found.sort(key=lambda e: e.get("pool_mode") != "transaction")
    else:
        found.sort(key=lambda e: not e.get("for_migrations"))
    return found[0] if found else None


def providers() -> list[dict[str, str]]:
    """The PostgreSQL providers, in catalog order: what the page's provider select offers."""
    return [
        {"id": pid, "name": p["name"]}
        for pid, p in load_providers().items()
        if "postgresql" in p.get("engines", [])
    ]


def _shown(value: object) -> str:
    return repr(value)[:60].replace("\n", " ")


def _choose(what: str, value: object, choices: list[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {what} {_shown(value)}: choose one of {', '.join(choices)}")


def generate(provider_id: str, orm: str, platform_id: str, prisma_major: int) -> Generated:
    """The snippets for one provider x ORM x platform x Prisma major (6 or 7; only Prisma
    reads it). ValueError, one line, for anything not offered."""
    catalog = load_providers()
    _choose("PostgreSQL provider", provider_id, [p["id"] for p in providers()])
    _choose("ORM or driver", orm, list(ORMS))
    _choose("platform", platform_id, [p["id"] for p in PLATFORMS])
    if isinstance(prisma_major, bool) or prisma_major not in PRISMA_MAJORS:
        raise ValueError(f"unknown Prisma major version {_shown(prisma_major)}: choose 6 or 7")
    p = catalog[provider_id]
    platform = next(x for x in PLATFORMS if x["id"] == platform_id)
    serverless = platform["serverless"]
    pooled, direct = pick(p, "pooled"), pick(p, "direct") or {}
    entry = p["orm"].get(orm) or {}
    params = {k: str(v) for k, v in (entry.get("pooled_params") or {}).items()}
    notes: list[str] = [platform["note"]]
    blocks: list[list[str]] = []
    # A transaction-mode pooler that loses prepared statements between transactions.
    no_prep = (
        pooled is not None
        and pooled.get("pool_mode") == "transaction"
        and pooled.get("prepared_statements") is not True
    )
    url = example_url((pooled if pooled is not None else direct).get("example")) or PLACEHOLDER_URL
    size = 1 if serverless else 10
    psycopg = '"prepare_threshold": None' if no_prep else ""

    def add(title: str, code: str) -> None:
        blocks.append([title, code])

    if pooled is None:
        notes.append(
            f"No pooler for {p['name']} in the catalog: each instance holds its own connections."
        )
    if orm == "prisma":
        if no_prep and not params:
            params["pgbouncer"] = "true"
        if prisma_major < 7:
            if serverless:
                params["connection_limit"] = "1"
            add(
                "schema.prisma (Prisma 6)",
                'datasource db {\n  provider  = "postgresql"\n  url       = env("DATABASE_URL")\n'
                '  directUrl = env("DIRECT_URL")\n}',
            )
        else:
            add(
                "prisma.config.ts (Prisma 7)",
                'import { defineConfig, env } from "prisma/config";\n\n'
                'export default defineConfig({ datasource: { url: env("DIRECT_URL") } });',
            )
            add(
                "db.ts",
                'import { PrismaClient } from "./generated/prisma/client";\n'
                'import { PrismaPg } from "@prisma/adapter-pg";\n\n'
                "const adapter = new PrismaPg({ connectionString: process.env.DATABASE_URL, "
                f"max: {size} }});\nexport const prisma = new PrismaClient({{ adapter }});",
            )
            notes.append(
                "Prisma 7: the CLI takes the direct URL from prisma.config.ts; the adapter sizes the pool."
            )
    elif orm == "drizzle":
        add(
            "db.ts",
            'import postgres from "postgres";\nimport { drizzle } from "drizzle-orm/postgres-js";\n\n'
            "export const db = drizzle(postgres(process.env.DATABASE_URL!, { "
            f"{'prepare: false, ' if no_prep else ''}max: {size} }}));",
        )
        add(
            "drizzle.config.ts",
            'import { defineConfig } from "drizzle-kit";\n\nexport default defineConfig({\n'
            '  dialect: "postgresql",\n  dbCredentials: { url: process.env.DIRECT_URL! },\n});',
        )
    elif orm == "node-postgres":
        add(
            "db.js",
            'import pg from "pg";\n\nexport const pool = new pg.Pool({\n'
            f"  connectionString: process.env.DATABASE_URL,\n  max: {size},\n"
            f"  idleTimeoutMillis: {5000 if serverless else 30000},\n}});",
        )
        if no_prep:
            notes.append("Do not name queries here: named queries become prepared statements.")
    elif orm == "django":
        options = f'\n    "OPTIONS": {{{psycopg}}},' if psycopg else ""
        add(
            "settings.py",
            'import dj_database_url\n\nDATABASES = {"default": {\n'
            "    **dj_database_url.config(),  # reads DATABASE_URL\n"
            f'    "CONN_MAX_AGE": {0 if serverless else 60},\n'
            f'    "DISABLE_SERVER_SIDE_CURSORS": True,{options}\n}}}}',
        )
        add("migrate", 'DATABASE_URL="$DIRECT_URL" python manage.py migrate')
    elif orm == "sqlalchemy":
        # No pool of its own where instances are short-lived or a pooler does the pooling.
        null_pool = serverless or pooled is not None
        imports = "\nfrom sqlalchemy.pool import NullPool" if null_pool else ""
        args = f", connect_args={{{psycopg}}}" if psycopg else ""
        add(
            "db.py",
            f"import os\nfrom sqlalchemy import create_engine{imports}\n\n"
            'url = "postgresql+psycopg://" + os.environ["DATABASE_URL"].split("://", 1)[1]\n'
            "engine = create_engine(url, "
            f"{'poolclass=NullPool' if null_pool else 'pool_size=5, max_overflow=0'}{args})",
        )
        notes.append("Run Alembic with DIRECT_URL.")
    else:  # rails
        add(
            "config/database.yml",
            'production:\n  url: <%= ENV["DATABASE_URL"] %>\n'
            f"  pool: {1 if serverless else 5}\n"
            "  prepared_statements: false\n  advisory_locks: false",
        )
        add("migrate", 'DATABASE_URL="$DIRECT_URL" bin/rails db:migrate')
    if entry.get("note"):
        notes.append(entry["note"])
    query = "&".join(f"{k}={v}" for k, v in params.items())
    env = f'DATABASE_URL="{url}{("&" if "?" in url else "?") + query if query else ""}"'
    if orm != "node-postgres":  # a driver: no migrations, no direct URL
        env += f'\nDIRECT_URL="{example_url(direct.get("example")) or url}"'
    return {"blocks": [["Environment variables", env], *blocks], "notes": notes}
