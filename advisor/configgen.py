"""The config generator (docs/tools/config-generator.md): a provider endpoint, a stack (any
driver or ORM of the stack catalog), a platform and a Prisma major in; the environment
variables and config snippets out.

Everything a snippet sets comes from the catalogs: the URLs from the provider catalog's
endpoints, and what the stack must set there from the stack catalog (catalog/stacks.toml):
for each session feature the endpoint loses, the feature's first safe option (in the URL
when the stack reads it there, else the catalog's fix line), and the pool size through the
stack's own pool setting. The rule for when a setting is needed is `needed()` below; it
follows STK101/STK102 (the tests lint every snippet with the same stack).

Pure and standard-library only: the page runs this module in the browser (Pyodide). Results
are plain dicts, lists and strings (JSON-friendly).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypedDict

from .catalog.providers import load_providers
from .catalog.stacks import (
    FEATURES,
    LANGUAGES,
    Stack,
    load_stacks,
    orm_rules,
    pool_size,
    resolve,
)

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
# When the catalog has no example URL for the endpoint: a placeholder that verifies TLS.
PLACEHOLDER_URL = "postgresql://USER:PASSWORD@HOST:5432/DB?sslmode=verify-full"
PLACEHOLDER_URLS = {
    "postgresql": PLACEHOLDER_URL,
    "mysql": "mysql://USER:PASSWORD@HOST:3306/DB?ssl-mode=VERIFY_IDENTITY",
}
_URL_IN_TEXT = re.compile(r"(?:prisma\+)?(?:postgres(?:ql)?|mysql)://[^\s)'\"]+")
APP_VAR, DIRECT_VAR = "DATABASE_URL", "DIRECT_URL"
# The features whose loss depends on whether the pool keeps prepared statements.
PREPARED = ("protocol_prepared_statements", "server_prepared_statements")
# A pool setting the stack reads from its URL or connection string: "NAME=N in the ... URL".
_POOL_IN_URL = re.compile(
    r"([A-Za-z_][A-Za-z0-9_ ]*)=N in the (?:[a-z]+ )?(?:URL|connection string)"
)
# How each language's code reads the environment and comments: the one template per
# language (comment prefix, how it reads a variable, file name, fence language).
LANGUAGE_CODE: dict[str, dict[str, str]] = {
    "python": dict(comment="#", env='os.environ["{var}"]', file="db.py", fence="python"),
    "javascript": dict(comment="//", env="process.env.{var}", file="db.js", fence="js"),
    "go": dict(comment="//", env='os.Getenv("{var}")', file="db.go", fence="go"),
    "java": dict(comment="#", env="${{{var}}}", file="application.properties", fence="properties"),
    "dotnet": dict(
        comment="//",
        env='Environment.GetEnvironmentVariable("{var}")',
        file="Program.cs",
        fence="csharp",
    ),
    "ruby": dict(comment="#", env='ENV["{var}"]', file="db.rb", fence="ruby"),
    "php": dict(comment="//", env="getenv('{var}')", file="db.php", fence="php"),
    "elixir": dict(
        comment="#", env='System.get_env("{var}")', file="config/runtime.exs", fence="elixir"
    ),
}


class Generated(TypedDict):
    blocks: list[list[str]]  # [title, code], the environment variables first
    notes: list[str]
    urls: dict[str, str]  # variable -> URL (as `advisor lint` reads it)
    settings: list[str]  # NAME=VALUE of every safe option the snippet sets
    in_code: list[str]  # those set in code, not in the URL (`advisor lint --driver-option`)
    stack: dict[str, str]  # orm, driver, engine, endpoint: what `advisor lint` is told


def example_url(example: str | None) -> str | None:
    """The first connection URL in an endpoint's `example` text (which may have words around it)."""
    m = _URL_IN_TEXT.search(example or "")
    return m.group(0) if m else None


def pick(provider: dict[str, Any], role: str, engine: str = "postgresql") -> dict[str, Any] | None:
    """The endpoint the snippets use for a role: among the pooled ones a transaction-mode
    pooler first (what serverless traffic needs), among the direct ones one meant for
    migrations first; otherwise catalog order. A pooler only Prisma speaks to (an HTTPS
    proxy: no postgresql:// URL) is never the default."""
    found = [
        e for e in provider["endpoints"] if e.get("role") == role and e.get("engine") == engine
    ]
    if role == "pooled":
        found.sort(key=lambda e: (_prisma_only(e), e.get("pool_mode") != "transaction"))
    else:
        found.sort(key=lambda e: not e.get("for_migrations"))
    return found[0] if found else None


def _prisma_only(endpoint: Mapping[str, Any]) -> bool:
    return (example_url(endpoint.get("example")) or "").startswith("prisma+")


def providers() -> list[dict[str, Any]]:
    """Every provider in catalog order with its endpoints: what the page's selects offer."""
    return [
        {
            "id": pid,
            "name": p["name"],
            "engines": list(p.get("engines", [])),
            "endpoints": [
                {
                    "id": e["id"],
                    "name": e.get("label") or e["id"],
                    "engine": e["engine"],
                    "role": e["role"],
                    "prisma_only": _prisma_only(e),
                }
                for e in p["endpoints"]
            ],
        }
        for pid, p in load_providers().items()
    ]


def stacks() -> list[dict[str, Any]]:
    """Every driver and ORM of the stack catalog, in catalog order."""
    return [
        {
            "id": sid,
            "name": s["name"],
            "kind": s["kind"],
            "language": LANGUAGES[s["language"]],
            "engines": list(s["engines"]),
        }
        for sid, s in load_stacks().items()
    ]


def _shown(value: object) -> str:
    return repr(value)[:60].replace("\n", " ")


def _choose(what: str, value: object, choices: list[str], listing: str | None = None) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"unknown {what} {_shown(value)}: {listing or 'choose one of ' + ', '.join(choices)}"
        )


def pool_case(endpoint: Mapping[str, Any] | None) -> str:
    """How the endpoint treats a session: `session` (direct or a session pool: nothing is
    lost), `kept` / `not_kept` (a transaction or statement pool that keeps prepared
    statements or not), `unknown` (a pool whose mode or prepared statements the catalog
    does not know: the safe settings then apply, being safe either way)."""
    if (
        endpoint is None
        or endpoint.get("role") != "pooled"
        or endpoint.get("pool_mode") == "session"
    ):
        return "session"
    if _prisma_only(endpoint):
        return "session"  # Prisma's own HTTPS proxy: the client keeps no connection to set up
    if endpoint.get("pooler") == "rds-proxy":
        return "kept"  # RDS Proxy pins the session that prepares: the statements work
    if endpoint.get("pool_mode") not in ("transaction", "statement"):
        return "unknown"
    kept = endpoint.get("prepared_statements")
    return "kept" if kept is True else "not_kept" if kept is False else "unknown"


def needed(name: str, feature: Mapping[str, Any], case: str) -> bool:
    """Whether a stack's use of a session feature needs its safe setting at a pool case:
    any feature the stack may use is lost through a transaction pool, except prepared
    statements where the pool keeps them (unless the stack breaks even there)."""
    if feature["usage"] == "never" or case == "session":
        return False
    if name in PREPARED and case == "kept":
        return feature.get("works_when_kept") is False
    return True


# The ORM version a snippet is written for, where the catalog's defaults depend on it:
# SQLAlchemy 2.1's default PostgreSQL driver is psycopg 3, which the template uses.
VERSIONS = {"sqlalchemy": "2.1"}


def _stack(stack_id: str, driver: str | None, prisma_major: int, engine: str) -> Stack:
    """The stack for an id on an engine: an ORM on the driver asked for, else on its
    default driver, else on the first of its drivers that speaks the engine."""
    version = str(prisma_major) if stack_id == "prisma" else VERSIONS.get(stack_id)
    catalog = load_stacks()
    entry = catalog[stack_id]
    if entry["kind"] == "driver":
        return resolve(driver=stack_id)
    if driver is None:
        default, drivers = orm_rules(entry, version)
        speaking = [d for d in [default, *drivers] if engine in catalog[d]["engines"]]
        if not speaking and version is not None and stack_id != "prisma":
            version = None  # the catalog's older defaults may speak it (SQLAlchemy on MySQL)
            default, drivers = orm_rules(entry, version)
            speaking = [d for d in [default, *drivers] if engine in catalog[d]["engines"]]
        if not speaking:
            at = f" {version}" if version else ""
            raise ValueError(f"{entry['name']}{at} runs on no {engine} driver in the catalog")
        driver = speaking[0]
    return resolve(stack_id, driver, version)


def _with_query(url: str, params: Mapping[str, str]) -> str:
    """`url` with params added (one that the URL already sets is replaced)."""
    if not params:
        return url
    base, _, query = url.partition("?")
    pairs = [p for p in query.split("&") if p and p.split("=", 1)[0] not in params]
    pairs += [f"{k.replace(' ', '%20')}={v}" for k, v in params.items()]
    return f"{base}?{'&'.join(pairs)}"


def _parts(url: str) -> dict[str, str]:
    """scheme, user, password, host, port, db and query of a URL with <placeholders>."""
    m = re.match(
        r"(?P<scheme>[a-z+]+)://(?:(?P<user>[^:@/]*)(?::(?P<password>[^@/]*))?@)?"
        r"(?P<host>[^:/?]*)(?::(?P<port>[^/?]*))?/?(?P<db>[^?]*)(?:\?(?P<query>.*))?",
        url,
    )
    found = {k: v or "" for k, v in (m.groupdict() if m else {}).items()}
    return found


def _jdbc(url: str) -> str:
    p = _parts(url)
    port = f":{p['port']}" if p["port"] else ""
    query = f"?{p['query']}" if p["query"] else ""
    engine = "mysql" if p["scheme"].startswith("mysql") else "postgresql"
    return f"jdbc:{engine}://{p['host']}{port}/{p['db']}{query}"


def _keywords(url: str) -> str:
    """A URL as an Npgsql connection string (Key=Value;), its query parameters kept."""
    p = _parts(url)
    pairs = [
        ("Host", p["host"]),
        ("Port", p["port"] or "5432"),
        ("Database", p["db"]),
        ("Username", p["user"]),
        ("Password", p["password"]),
    ]
    for item in filter(None, p["query"].split("&")):
        key, _, value = item.partition("=")
        key = {"sslmode": "SSL Mode"}.get(key, key.replace("%20", " "))
        pairs.append((key, value.capitalize() if key == "SSL Mode" else value))
    return ";".join(f"{k}={v}" for k, v in pairs if v)


def generate(
    provider_id: str,
    orm: str,
    platform_id: str,
    prisma_major: int = 6,
    endpoint: str | None = None,
    driver: str | None = None,
) -> Generated:
    """The snippets for one provider endpoint x stack x platform (x Prisma major, 6 or 7;
    only Prisma reads it). `orm` is any stack id (an ORM or a driver); `endpoint` the
    endpoint the application uses (default: the provider's pooled one for the stack's
    engine, transaction mode first); `driver` an ORM's driver (default: its own).
    ValueError, one line, for anything not offered."""
    catalog = load_providers()
    _choose("provider", provider_id, list(catalog))
    _choose("ORM or driver", orm, list(load_stacks()), "`advisor stacks` lists them")
    _choose("platform", platform_id, [p["id"] for p in PLATFORMS])
    if isinstance(prisma_major, bool) or prisma_major not in PRISMA_MAJORS:
        raise ValueError(f"unknown Prisma major version {_shown(prisma_major)}: choose 6 or 7")
    p = catalog[provider_id]
    entry_kind = load_stacks()[orm]
    speaks = set(entry_kind["engines"])
    if endpoint is None:
        engines = [e for e in p.get("engines", []) if e in speaks]
        if not engines:
            raise ValueError(
                f"{entry_kind['name']} speaks {'/'.join(entry_kind['engines'])}; "
                f"{p['name']} offers {'/'.join(p.get('engines', []))}"
            )
        engine = engines[0]
        app = pick(p, "pooled", engine)
        if app is not None and _prisma_only(app) and orm != "prisma":
            app = None
    else:
        _choose(f"{p['name']} endpoint", endpoint, [e["id"] for e in p["endpoints"]])
        app = next(e for e in p["endpoints"] if e["id"] == endpoint)
        engine = app["engine"]
        if engine not in speaks:
            raise ValueError(f"{entry_kind['name']} does not speak {engine} ({app.get('label')})")
        if _prisma_only(app) and orm != "prisma":
            raise ValueError(f"only Prisma connects to {app.get('label')}")
    try:
        stack = _stack(orm, driver, prisma_major, engine)
    except ValueError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    if engine not in stack.engines:
        raise ValueError(f"{stack.name} does not speak {engine}")
    platform = next(x for x in PLATFORMS if x["id"] == platform_id)
    serverless = platform["serverless"]
    pooled = app if app is not None and app["role"] == "pooled" else None
    direct = pick(p, "direct", engine)
    if app is None:
        app = direct
    notes: list[str] = [platform["note"]]
    if pick(p, "pooled", engine) is None:
        notes.append(
            f"No pooler for {p['name']} ({engine}) in the catalog: each instance holds "
            "its own connections, so keep the pool small."
        )
    elif serverless and app is not None and app["role"] == "direct" and pick(p, "pooled", engine):
        notes.append(
            f"{app.get('label')} is direct: every serverless instance holds its own server "
            "connections. Use the pooled endpoint for the application."
        )
    if direct is None and pooled is not None and pooled.get("for_migrations"):
        direct = pooled
    if direct is not None and direct.get("ipv6_only"):
        # Migrations from CI or a laptop often have no IPv6: a session-mode pooler meant
        # for migrations (Supabase's on 5432) reaches the same database over IPv4.
        session = [
            e
            for e in p["endpoints"]
            if e.get("engine") == engine
            and e.get("pool_mode") == "session"
            and e.get("for_migrations")
            and not e.get("ipv6_only")
        ]
        if session:
            notes.append(
                f"{DIRECT_VAR} uses {session[0].get('label')}: {direct.get('label')} is "
                "reachable over IPv6 only, which many CI runners and laptops lack."
            )
            direct = session[0]
    url = example_url((app or {}).get("example")) or PLACEHOLDER_URLS[engine]
    direct_url = example_url((direct or {}).get("example")) or url
    case = pool_case(pooled)
    entry = (p.get("orm") or {}).get(orm) or {}
    # The provider's URL parameters for this ORM, those the stack as resolved reads (Prisma
    # 7's adapter reads neither pgbouncer nor connection_limit).
    pool_setting = str(stack.pool["setting"])
    in_url = _POOL_IN_URL.match(pool_setting)
    reads = {o["name"] for f in stack.features.values() for o in f.get("safe_options", [])}
    reads |= {in_url.group(1)} if in_url else set()
    given = (entry.get("pooled_params") or {}) if pooled else {}
    params = {k: str(v) for k, v in given.items() if k in reads}

    # The safe settings: the first safe option of each feature the endpoint loses.
    settings: dict[str, str] = {}
    in_code: list[str] = []  # the settings the code (not the URL) makes
    fixes: list[tuple[str, str]] = []  # (feature title, fix line) for settings made in code
    for name, feature in stack.features.items():
        if name not in FEATURES or engine not in FEATURES[name]["engines"]:
            continue
        if not needed(name, feature, case):
            continue
        options = feature.get("safe_options") or []
        if options:
            option = options[0]
            settings[option["name"]] = str(option["values"][0])
            if option["in_url"] and option["name"] not in TEMPLATE_SETTINGS.get(stack.id, ()):
                params[option["name"]] = str(option["values"][0])
                continue
            in_code.append(option["name"])
        if feature.get("fix") and (options or feature["usage"] == "default"):
            fixes.append((FEATURES[name]["title"], str(feature["fix"])))
    size = 1 if serverless else (pool_size(stack.pool) or 10)
    if in_url and not (orm == "prisma" and prisma_major >= 7):
        params[in_url.group(1)] = str(size)
    app_url = _with_query(url, params)
    urls = {APP_VAR: app_url}
    if direct is not None:
        urls[DIRECT_VAR] = direct_url
    # What the code reads: a .NET connection string is keywords, not a URL.
    native = _keywords if stack.driver["language"] == "dotnet" else str
    env = "\n".join(f'{k}="{native(v)}"' for k, v in urls.items())
    blocks: list[list[str]] = [["Environment variables", env]]
    ctx = dict(
        size=size,
        serverless=serverless,
        settings=settings,
        pooled=pooled,
        case=case,
        prisma_major=prisma_major,
        engine=engine,
        direct=direct is not None,
    )
    template = TEMPLATES.get(stack.id)
    special = (p.get("snippets") or {}).get(orm)
    if special:
        # The provider's own way to connect (e.g. a Worker's Hyperdrive binding): its
        # blocks replace the URL-based ones; the direct URL stays for migrations.
        blocks = [["Environment variables", f'{DIRECT_VAR}="{direct_url}"']] if direct else []
        blocks += [[str(title), str(code)] for title, code in special.get("blocks", [])]
        notes[:0] = [str(x) for x in (p.get("snippets_intro"), special.get("text")) if x]
    elif template is not None:
        template(blocks, notes, ctx)
    else:
        blocks.append(_generic(stack, size, fixes, app_url, pool_setting, bool(in_url)))
        if stack.orm is not None and direct is not None:
            notes.append(f"Run {stack.orm['name']}'s migrations with {DIRECT_VAR}.")
    if case == "unknown" and settings:
        notes.append(
            f"The catalog does not say whether {(pooled or {}).get('label')} keeps prepared "
            "statements or session state: the settings above are safe either way."
        )
    for e, var in ((app, APP_VAR), (direct, DIRECT_VAR)):
        if e is not None and e.get("env_var") not in (None, var) and var in urls:
            if not (var == DIRECT_VAR and e is app):
                notes.append(
                    f"{p['name']} gives the {e.get('label')} URL as {e['env_var']}: "
                    f"use its value as {var}."
                )
    if entry.get("note"):
        notes.append(entry["note"])
    return {
        "blocks": blocks,
        "notes": notes,
        "urls": urls,
        "settings": [f"{k}={v}" for k, v in settings.items()],
        "in_code": [f"{k}={settings[k]}" for k in in_code],
        "stack": {
            "orm": stack.orm["id"] if stack.orm else "",
            "driver": str(stack.driver["id"]),
            "engine": engine,
            "endpoint": (app or {}).get("id", ""),
            "case": case,
        },
    }


def _generic(
    stack: Stack,
    size: int,
    fixes: list[tuple[str, str]],
    url: str,
    pool_setting: str,
    pool_in_url: bool,
) -> list[str]:
    """The one template per language: where the URL comes from, the catalog's pool setting
    with its N, and the catalog's fix line for each setting made in code."""
    main = stack.orm or stack.driver
    lang = LANGUAGE_CODE[main["language"]]
    c, var = lang["comment"], APP_VAR
    instance = "serverless instance" if size == 1 else "process"
    lines = [f"{c} {stack.name}: {APP_VAR} is the pooled URL above"]
    if main["language"] == "java":
        lines += [f"spring.datasource.url={_jdbc(url)}", "spring.datasource.username=<user>"]
        lines.append("spring.datasource.password=${DATABASE_PASSWORD}")
    elif main["language"] == "dotnet":
        lines.append(f"var connectionString = {lang['env'].format(var=var)};")
    else:
        lines.append(f"{c} read it with {lang['env'].format(var=var)}")
    where = "set in the URL above" if pool_in_url else re.sub(r"\bN\b", str(size), pool_setting)
    pool = f"{c} pool: {size} connection{'s' if size > 1 else ''} per {instance}"
    lines += [pool + ":", where] if _is_code(where) else [f"{pool}: {where}"]
    if main["language"] == "java" and "hikari" in pool_setting:
        lines.append(f"spring.datasource.hikari.maximum-pool-size={size}")
    for title, fix in fixes:
        lines += [f"{c} {title}:", fix if _is_code(fix) else f"{c} {fix}"]
    return [f"{lang['file']} ({stack.name})", "\n".join(lines)]


def _is_code(line: str) -> bool:
    """A catalog line that is code to paste (a call, a config line), not a sentence: no
    prose before its own comment, and it starts with code, not a capitalised word."""
    head = line.split("  #")[0]
    if any(word in head for word in (" in the ", " per ", " or ", "; ")):
        return False
    first = head.split()[0] if head.split() else ""
    return not first[:1].isupper() or any(c in first for c in ".([")


# --------------------------------------------------------------------------- file templates
# The few stacks whose settings live in a framework file of their own (Prisma's schema and
# adapter, Drizzle's config, Django's settings, SQLAlchemy's engine, Rails' database.yml):
# the file's shape here, every value from the catalog (ctx["settings"], ctx["size"]).


def _prisma(blocks: list[list[str]], notes: list[str], ctx: dict[str, Any]) -> None:
    provider = "mysql" if ctx["engine"] == "mysql" else "postgresql"
    if ctx["prisma_major"] < 7:
        direct = f'  directUrl = env("{DIRECT_VAR}")\n' if ctx["direct"] else ""
        blocks.append(
            [
                "schema.prisma (Prisma 6)",
                f'datasource db {{\n  provider  = "{provider}"\n  url       = env("{APP_VAR}")\n'
                f"{direct}}}",
            ]
        )
        return
    cli = DIRECT_VAR if ctx["direct"] else APP_VAR
    blocks.append(
        [
            "prisma.config.ts (Prisma 7)",
            'import { defineConfig, env } from "prisma/config";\n\n'
            f'export default defineConfig({{ datasource: {{ url: env("{cli}") }} }});',
        ]
    )
    blocks.append(
        [
            "db.ts",
            'import { PrismaClient } from "./generated/prisma/client";\n'
            'import { PrismaPg } from "@prisma/adapter-pg";\n\n'
            f"const adapter = new PrismaPg({{ connectionString: process.env.{APP_VAR}, "
            f"max: {ctx['size']} }});\nexport const prisma = new PrismaClient({{ adapter }});",
        ]
    )
    notes.append(
        "Prisma 7: the CLI takes the direct URL from prisma.config.ts; the adapter sizes the pool."
    )


def _drizzle(blocks: list[list[str]], notes: list[str], ctx: dict[str, Any]) -> None:
    prepare = ctx["settings"].get("prepare")
    blocks.append(
        [
            "db.ts",
            'import postgres from "postgres";\nimport { drizzle } from "drizzle-orm/postgres-js";\n\n'
            f"export const db = drizzle(postgres(process.env.{APP_VAR}!, {{ "
            f"{f'prepare: {prepare}, ' if prepare else ''}max: {ctx['size']} }}));",
        ]
    )
    blocks.append(
        [
            "drizzle.config.ts",
            'import { defineConfig } from "drizzle-kit";\n\nexport default defineConfig({\n'
            f'  dialect: "postgresql",\n  dbCredentials: {{ url: process.env.{DIRECT_VAR if ctx["direct"] else APP_VAR}! }},\n}});',
        ]
    )


def _node_postgres(blocks: list[list[str]], notes: list[str], ctx: dict[str, Any]) -> None:
    blocks.append(
        [
            "db.js",
            'import pg from "pg";\n\nexport const pool = new pg.Pool({\n'
            f"  connectionString: process.env.{APP_VAR},\n  max: {ctx['size']},\n"
            f"  idleTimeoutMillis: {5000 if ctx['serverless'] else 30000},\n}});",
        ]
    )
    if ctx["case"] in ("not_kept", "unknown"):
        notes.append("Do not name queries here: named queries become prepared statements.")


def _python_dict(settings: Mapping[str, str], names: tuple[str, ...]) -> str:
    return ", ".join(f'"{k}": {settings[k]}' for k in names if k in settings)


def _django(blocks: list[list[str]], notes: list[str], ctx: dict[str, Any]) -> None:
    s = ctx["settings"]
    options = _python_dict(s, ("prepare_threshold",))
    cursors = (
        f'\n    "DISABLE_SERVER_SIDE_CURSORS": {s["DISABLE_SERVER_SIDE_CURSORS"]},'
        if "DISABLE_SERVER_SIDE_CURSORS" in s
        else ""
    )
    blocks.append(
        [
            "settings.py",
            'import dj_database_url\n\nDATABASES = {"default": {\n'
            f"    **dj_database_url.config(),  # reads {APP_VAR}\n"
            f'    "CONN_MAX_AGE": {0 if ctx["serverless"] else 60},{cursors}'
            + (f'\n    "OPTIONS": {{{options}}},' if options else "")
            + "\n}}",
        ]
    )
    if ctx["direct"]:
        blocks.append(["migrate", f'{APP_VAR}="${DIRECT_VAR}" python manage.py migrate'])


def _sqlalchemy(blocks: list[list[str]], notes: list[str], ctx: dict[str, Any]) -> None:
    # No pool of its own where instances are short-lived or a pooler does the pooling.
    null_pool = ctx["serverless"] or ctx["pooled"] is not None
    imports = "\nfrom sqlalchemy.pool import NullPool" if null_pool else ""
    options = _python_dict(ctx["settings"], ("prepare_threshold", "statement_cache_size"))
    args = f", connect_args={{{options}}}" if options else ""
    blocks.append(
        [
            "db.py",
            f"import os\nfrom sqlalchemy import create_engine{imports}\n\n"
            f'url = "postgresql+psycopg://" + os.environ["{APP_VAR}"].split("://", 1)[1]\n'
            "engine = create_engine(url, "
            f"{'poolclass=NullPool' if null_pool else 'pool_size=5, max_overflow=0'}{args})",
        ]
    )
    if ctx["direct"]:
        notes.append(f"Run Alembic with {DIRECT_VAR}.")


def _rails(blocks: list[list[str]], notes: list[str], ctx: dict[str, Any]) -> None:
    s = ctx["settings"]
    lines = [f"  {k}: {s[k]}" for k in ("prepared_statements", "advisory_locks") if k in s]
    blocks.append(
        [
            "config/database.yml",
            f'production:\n  url: <%= ENV["{APP_VAR}"] %>\n'
            f"  max_connections: {ctx['size']}  # pool: before Rails 8.1"
            + "".join("\n" + line for line in lines),
        ]
    )
    if ctx["direct"]:
        blocks.append(["migrate", f'{APP_VAR}="${DIRECT_VAR}" bin/rails db:migrate'])


# Stack id (ORM+driver as resolved) -> its file template, and the settings a template
# writes into its file itself (the others of the URL's go into the URL).
TEMPLATES = {
    "prisma+prisma-engine": _prisma,
    "prisma+node-postgres": _prisma,
    "drizzle+postgres.js": _drizzle,
    "node-postgres": _node_postgres,
    "django+psycopg": _django,
    "sqlalchemy+psycopg": _sqlalchemy,
    "rails+ruby-pg": _rails,
}
TEMPLATE_SETTINGS = {
    "drizzle+postgres.js": ("prepare",),
    "rails+ruby-pg": ("prepared_statements", "advisory_locks"),
}


# --------------------------------------------------------------------------- pgbouncer.ini
# Setting names, defaults and versions from PgBouncer's pgbouncer.ini(5) of 1.18 and 1.24:
# max_prepared_statements exists from 1.21 (default 0; 200 from 1.24); server_tls_sslmode
# defaults to disable in 1.18 and prefer in 1.24; client_tls_sslmode to disable.
PREPARED_SINCE = (1, 21)
POOL_MODES = ("transaction", "session", "statement")
SERVER_TLS_MODES = ("verify-full", "verify-ca", "require", "prefer", "disable")


def ignored_startup_parameters(stack: Stack) -> list[str]:
    """The startup parameters the stack may send that PgBouncer refuses unless
    ignore_startup_parameters lists them (the stack catalog's, always and when configured)."""
    from .catalog.stacks import STARTUP_PARAMETERS

    feature = stack.features.get("startup_parameters") or {}
    sent = [*feature.get("params", []), *feature.get("params_conditional", [])]
    return [p for p in dict.fromkeys(sent) if not STARTUP_PARAMETERS.get(p, False)]


def pgbouncer_ini(
    stack: str = "asyncpg",
    instances: int = 10,
    pool_size: int = 1,
    max_connections: int = 100,
    reserved: int = 3,
    in_use: int = 0,
    version: str = "1.24",
    pool_mode: str = "transaction",
    server_host: str = "127.0.0.1",
    server_port: int = 5432,
    database: str = "app",
    listen_addr: str = "*",
    listen_port: int = 6432,
    auth_file: str = "/etc/pgbouncer/userlist.txt",
    client_tls: bool = True,
    client_tls_key_file: str = "/etc/pgbouncer/server.key",
    client_tls_cert_file: str = "/etc/pgbouncer/server.crt",
    client_tls_ca_file: str = "/etc/ssl/certs/ca-certificates.crt",
    server_tls_sslmode: str = "verify-full",
    server_tls_ca_file: str = "/etc/ssl/certs/ca-certificates.crt",
) -> dict[str, Any]:
    """A pgbouncer.ini for a self-hosted PgBouncer in front of one database: the pool sized
    by the capacity calculator's figures, prepared statements kept where the version can,
    the stack's startup parameters let through, TLS on both sides. ValueError, one line."""
    from .calculator import pooler_sizes

    _choose("ORM or driver", stack, list(load_stacks()), "`advisor stacks` lists them")
    _choose("pool mode", pool_mode, list(POOL_MODES))
    _choose("server_tls_sslmode", server_tls_sslmode, list(SERVER_TLS_MODES))
    numbers = dict(
        instances=instances,
        pool_size=pool_size,
        max_connections=max_connections,
        reserved=reserved,
        in_use=in_use,
        server_port=server_port,
        listen_port=listen_port,
    )
    for name, value in numbers.items():
        least = 1 if name in ("instances", "pool_size", "max_connections") else 0
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(
                f"{name} must be a whole number of at least {least}, not {_shown(value)}"
            )
    if reserved + in_use >= max_connections:
        raise ValueError("no slot is free: max_connections must exceed reserved + in use")
    if not isinstance(version, str) or not re.fullmatch(r"1\.[0-9]+(\.[0-9]+)?", version):
        raise ValueError(f"PgBouncer version {_shown(version)}: give it as 1.NN, e.g. 1.24")
    for name, text in dict(
        server_host=server_host,
        database=database,
        listen_addr=listen_addr,
        auth_file=auth_file,
        client_tls_key_file=client_tls_key_file,
        client_tls_cert_file=client_tls_cert_file,
        client_tls_ca_file=client_tls_ca_file,
        server_tls_ca_file=server_tls_ca_file,
    ).items():
        if not isinstance(text, str) or not re.fullmatch(r"[A-Za-z0-9_.:/*+-]+", text):
            raise ValueError(f"{name} {_shown(text)}: letters, digits and _ . : / * + - only")
    entry = load_stacks()[stack]
    resolved = resolve(driver=stack) if entry["kind"] == "driver" else resolve(stack)
    sizes = pooler_sizes(max_connections, reserved, in_use, instances, pool_size)
    keeps = tuple(int(x) for x in version.split(".")[:2]) >= PREPARED_SINCE
    ignore = ignored_startup_parameters(resolved)
    lines = [
        f"; pgbouncer.ini for {resolved.name}: {instances} instances x pool {pool_size}",
        "[databases]",
        f"{database} = host={server_host} port={server_port} dbname={database}",
        "",
        "[pgbouncer]",
        f"listen_addr = {listen_addr}",
        f"listen_port = {listen_port}",
        "auth_type = scram-sha-256",
        f"auth_file = {auth_file}",
        f"pool_mode = {pool_mode}",
        "; every client: instances x pool size (at least PgBouncer's default, 100)",
        f"max_client_conn = {max(sizes['max_client_conn'], 100)}",
        "; server connections: the free slots less PG101's warning line (capacity calculator)",
        f"default_pool_size = {sizes['default_pool_size']}",
    ]
    notes = []
    if pool_mode != "session":
        if keeps:
            lines += [
                "; keep protocol-level prepared statements across transactions (1.21+)",
                "max_prepared_statements = 200",
            ]
        else:
            notes.append(
                f"PgBouncer {version} cannot keep prepared statements (1.21+ can): give "
                f"{resolved.name} its safe setting (the config generator's snippet)."
            )
    if ignore:
        lines += [
            f"; startup parameters {resolved.name} may send that PgBouncer would refuse",
            f"ignore_startup_parameters = {','.join(ignore)}",
        ]
    if client_tls:
        lines += [
            "client_tls_sslmode = require",
            f"client_tls_key_file = {client_tls_key_file}",
            f"client_tls_cert_file = {client_tls_cert_file}",
            "; PgBouncer 1.24 (OpenSSL 3) stops with 'failed to load CA' when this is unset",
            f"client_tls_ca_file = {client_tls_ca_file}",
        ]
    else:
        notes.append("Clients connect without TLS: keep PgBouncer on a private network.")
    lines.append(f"server_tls_sslmode = {server_tls_sslmode}")
    if server_tls_sslmode.startswith("verify"):
        lines.append(f"server_tls_ca_file = {server_tls_ca_file}")
    return {
        "file": "\n".join(lines) + "\n",
        "notes": notes,
        "settings": {
            "pool_mode": pool_mode,
            "max_client_conn": max(sizes["max_client_conn"], 100),
            "default_pool_size": sizes["default_pool_size"],
            "ignore_startup_parameters": ignore,
            "max_prepared_statements": 200 if keeps and pool_mode != "session" else None,
        },
    }


# --------------------------------------------------------------------------- corrected URL


def _url_settings(stack: Stack) -> set[str]:
    """The URL parameters a stack reads for its safe settings and pool size."""
    names = {
        o["name"] for f in stack.features.values() for o in f.get("safe_options", []) if o["in_url"]
    }
    in_url = _POOL_IN_URL.match(str(stack.pool["setting"]))
    return names | ({in_url.group(1)} if in_url else set())


def corrected_url(
    url: str,
    endpoint: Mapping[str, Any] | None,
    orm: str | None = None,
    driver: str | None = None,
    prisma_version: int | None = None,
    serverless: bool = True,
) -> dict[str, Any] | None:
    """The URL with what the stack needs at this endpoint, by the generator's rule: each
    safe setting the stack reads from its URL added where the endpoint loses the feature
    and removed where it keeps it, the pool size 1 per serverless instance where the stack
    reads it from the URL, and the URL settings of other stacks that this one ignores
    (Prisma 6's pgbouncer and connection_limit under Prisma 7) dropped. None when no stack
    is named or it cannot be resolved. `url` is shown as given (its password masked).
    Returns {"url", "added", "removed", "in_code"}; in_code: settings made in code."""
    from .catalog.stacks import named

    if not orm and not driver:
        return None
    try:
        stack = named(orm, driver, prisma_version)
    except ValueError:
        return None
    engine = "mysql" if url.startswith(("mysql", "mariadb")) else "postgresql"
    case = pool_case(endpoint)
    add: dict[str, str] = {}
    drop: set[str] = set()
    in_code: list[str] = []
    for name, feature in stack.features.items():
        if name not in FEATURES or engine not in FEATURES[name]["engines"]:
            continue
        options = feature.get("safe_options") or []
        if not options:
            continue
        if needed(name, feature, case):
            first = options[0]
            if first["in_url"]:
                add[first["name"]] = str(first["values"][0])
            else:
                in_code.append(f"{first['name']}={first['values'][0]}")
        elif name in PREPARED and case == "kept":
            drop |= {o["name"] for o in options if o["in_url"]}
    in_url = _POOL_IN_URL.match(str(stack.pool["setting"]))
    if in_url and serverless:
        add[in_url.group(1)] = "1"
    reads = _url_settings(stack)
    others = set().union(*(_url_settings(s) for s in _all_stacks(engine))) - reads
    base, _, query = url.partition("?")
    kept, removed = [], []
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        if key in add or key in drop or key in others:
            if key in add and value == add[key]:
                kept.append(pair)
                del add[key]
            elif key not in add:
                removed.append(pair)
            else:
                removed.append(pair)
        else:
            kept.append(pair)
    added = [f"{k}={v}" for k, v in add.items()]
    pairs = kept + added
    return {
        "url": base + ("?" + "&".join(pairs) if pairs else ""),
        "added": added,
        "removed": removed,
        "in_code": in_code,
        "stack": stack.name,
    }


def _all_stacks(engine: str) -> list[Stack]:
    out = []
    for sid, entry in load_stacks().items():
        if engine not in entry["engines"]:
            continue
        try:
            out.append(resolve(driver=sid) if entry["kind"] == "driver" else resolve(sid))
        except ValueError:
            continue
    return out
