"""Build-time pages for the docs site, from the package's own data (nothing written twice).

Registered twice in mkdocs.yml:
- as a MkDocs hook: `on_config` expands the Providers and Checks nav entries, `on_files` adds
  the generated pages (providers/*, checks/*, readiness.md, readiness/*, cli.md) as virtual files;
- as the mkdocs-macros module (`define_env`): small tables for hand-written pages that opt in
  with `render_macros: true`.

Strings read from report JSON files came from database servers: `esc()` turns them into
inert text (HTML-escaped, Markdown and Jinja syntax neutralised) before they reach Markdown.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from advisor import catalog  # noqa: E402
from advisor.catalog.providers import ORMS, load_providers  # noqa: E402
from advisor.catalog.checks import LIFECYCLES  # noqa: E402

ORM_NAMES = {"prisma": "Prisma", "drizzle": "Drizzle", "node-postgres": "node-postgres",
             "django": "Django", "sqlalchemy": "SQLAlchemy", "rails": "Rails"}
POOLER_PAGES = {"pgbouncer": "pgbouncer", "supavisor": "supavisor", "pgpool-ii": "pgpool-ii",
                "rds-proxy": "rds-proxy", "proxysql": "proxysql"}
STATUS = {"pass": "✔ pass", "warn": "⚠ warn", "fail": "✖ **fail**", "skip": "– skip",
          "error": "✖ **error**"}
GENERATED: set[str] = set()


# --------------------------------------------------------------------------- escaping

_INERT = {c: f"&#{ord(c)};" for c in "&<>\"'`*_{}[]()#+!|~\\^=$%:"}


def esc(value, limit: int = 400) -> str:
    """Untrusted text -> inert Markdown: every markup character becomes an HTML entity."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", "" if value is None else str(value))
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "".join(_INERT.get(c, c) for c in text)


def prose(text, lines: bool = False) -> str:
    """Trusted catalog text: keep its `code` spans, but make <placeholders> visible, not HTML.
    One line unless `lines` (then line breaks and Markdown blocks survive)."""
    parts = str(text or "").strip().split("`")
    for i in range(0, len(parts), 2):
        parts[i] = html.escape(parts[i], quote=False).replace("|", "&#124;")
    out = "`".join(parts)
    return out if lines else out.replace("\n", " ")


def cell(text) -> str:
    return prose(text).replace("\n", " ")


def source_link(item: dict) -> str:
    """`source · checked DATE` for a catalog fact; unverified facts say so."""
    url = item.get("source") or ""
    link = f"[source]({url})" if url.startswith(("http://", "https://")) else "no source"
    out = f"{link} · checked {item.get('checked') or 'never'}"
    if item.get("verified") is False:
        out += " · *unverified*"
    return out


def indent(text: str, n: int = 4) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())


# --------------------------------------------------------------------------- providers

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


def orm_snippet(orm: str, engine: str, pooled: str, direct: str, no_prep: bool,
                params: dict) -> tuple[str, str]:
    """(intro sentence, fenced code) for one ORM/driver; URLs are placeholders or catalog examples."""
    pg = engine == "postgresql"
    if orm == "prisma":
        p = dict(params) or ({"pgbouncer": "true"} if no_prep else {})
        p.setdefault("connection_limit", "1")
        return ("Prisma ORM 6 reads both URLs from the schema; Prisma ORM 7 takes the CLI's URL "
                "from `prisma.config.ts` and the runtime pool from the driver adapter.",
                f'```dotenv title=".env"\nDATABASE_URL="{_with_params(pooled, p)}"\n'
                f'DIRECT_URL="{direct}"\n```\n\n'
                f'```prisma title="schema.prisma (Prisma 6)"\ndatasource db {{\n'
                f'  provider  = "{engine}"\n  url       = env("DATABASE_URL")\n'
                f'  directUrl = env("DIRECT_URL")\n}}\n```\n\n'
                '```ts title="prisma.config.ts (Prisma 7)"\n'
                'import { defineConfig, env } from "prisma/config";\n\n'
                '// migrations and introspection go to the direct URL\n'
                'export default defineConfig({ datasource: { url: env("DIRECT_URL") } });\n```')
    if orm == "drizzle":
        if not pg:
            return ("Drizzle over `mysql2`; migrations with drizzle-kit on the direct URL.",
                    '```ts\nimport mysql from "mysql2/promise";\nimport { drizzle } from '
                    '"drizzle-orm/mysql2";\n\nconst pool = mysql.createPool({ uri: '
                    'process.env.DATABASE_URL, connectionLimit: 1 });\nexport const db = '
                    'drizzle(pool);\n```')
        prep = "prepare: false, " if no_prep else ""
        return ("Drizzle inherits the driver's behaviour; with postgres.js turn prepared "
                "statements off behind a transaction pooler that cannot track them.",
                f'```ts title="db.ts"\nimport postgres from "postgres";\nimport {{ drizzle }} from '
                f'"drizzle-orm/postgres-js";\n\nconst client = postgres(process.env.DATABASE_URL!, '
                f'{{ {prep}max: 1 }});\nexport const db = drizzle(client);\n```\n\n'
                '```ts title="drizzle.config.ts"\nexport default {\n  dialect: "postgresql",\n'
                '  dbCredentials: { url: process.env.DIRECT_URL! }, // drizzle-kit: direct URL\n};\n```')
    if orm == "node-postgres":
        if not pg:
            return ("node-postgres is PostgreSQL only; for MySQL use `mysql2` with a small pool.",
                    '```js\nimport mysql from "mysql2/promise";\n\nexport const pool = '
                    'mysql.createPool({ uri: process.env.DATABASE_URL, connectionLimit: 1 });\n```')
        return ("One small pool per instance, created at module scope; leave `name` off queries "
                "so they stay unnamed (named queries become prepared statements).",
                '```js title="db.js"\nimport pg from "pg";\n\nexport const pool = new pg.Pool({\n'
                '  connectionString: process.env.DATABASE_URL,\n  max: 1,\n'
                '  idleTimeoutMillis: 5000,\n});\n```')
    if orm == "django":
        opts = ('\n    "OPTIONS": {"prepare_threshold": None},  # psycopg 3: no server-side prepares'
                if no_prep and pg else "")
        eng = "postgresql" if pg else "mysql"
        return ("Behind a transaction pooler Django must not use server-side cursors; run "
                "`migrate` with the direct URL.",
                f'```python title="settings.py"\nimport os\nimport dj_database_url\n\n'
                f'DATABASES = {{"default": {{\n    **dj_database_url.parse(os.environ["DATABASE_URL"]),'
                f'\n    "ENGINE": "django.db.backends.{eng}",\n    "CONN_MAX_AGE": 0,\n'
                f'    "DISABLE_SERVER_SIDE_CURSORS": True,{opts}\n}}}}\n```\n\n'
                '```bash\nDATABASE_URL="$DIRECT_URL" python manage.py migrate\n```')
    if orm == "sqlalchemy":
        drv = "postgresql+psycopg" if pg else "mysql+pymysql"
        args = ', connect_args={"prepare_threshold": None}' if no_prep and pg else ""
        return ("Let the external pooler do the pooling: `NullPool` in the app, Alembic on the "
                "direct URL.",
                f'```python\nimport os\nfrom sqlalchemy import create_engine\n'
                f'from sqlalchemy.pool import NullPool\n\nurl = os.environ["DATABASE_URL"]'
                f'.split("://", 1)[1]\nengine = create_engine("{drv}://" + url, '
                f'poolclass=NullPool{args})\n```')
    if orm == "rails":
        return ("Active Record behind a transaction pooler: no prepared statements, and no "
                "advisory locks for migrations that still go through it.",
                '```yaml title="config/database.yml"\nproduction:\n'
                '  url: <%= ENV["DATABASE_URL"] %>\n  prepared_statements: false\n'
                '  advisory_locks: false\n```\n\n'
                '```bash\nDATABASE_URL="$DIRECT_URL" bin/rails db:migrate\n```')
    raise ValueError(orm)


def provider_page(p: dict, notes: str) -> str:
    out = [f"# {p['name']}", "", prose(p.get("summary")), ""]
    eng = ", ".join(p.get("engines") or [])
    home = p.get("homepage")
    out += [f"**Engines:** {eng}" + (f" · **Website:** <{home}>" if home else ""), ""]
    if p.get("generic"):
        out += ['!!! info "Conventions, not a provider"', "    The advisor uses these entries "
                "only when no hosted provider matches the host, guessing from the port.", ""]

    out += ["## Endpoints", ""]
    if p["endpoints"]:
        out += ["| Endpoint | Role | Port | Pooler | Prepared statements | Migrations | Source |",
                "|---|---|---:|---|---|---|---|"]
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
                f"| {'yes' if e.get('for_migrations') else 'no'} | {source_link(e)} |")
        out += ["", "### Connection strings", ""]
        for e in p["endpoints"]:
            env_var = f" (`{e['env_var']}`)" if e.get("env_var") else ""
            out += [f"**{cell(e.get('label') or e['id'])}**{env_var}", "",
                    "```text", str(e.get("example") or "(no example in the catalog)"), "```", ""]
            if e.get("note"):
                out += [prose(e["note"]), ""]
    else:
        out += ["The catalog lists no endpoints for this provider yet.", ""]

    pooled = _pick(p, "pooled", "postgresql") or _pick(p, "pooled", "mysql")
    engine = (pooled or {}).get("engine") or ("postgresql" if "postgresql" in p.get("engines", [])
                                              else "mysql")
    direct = _pick(p, "direct", engine)
    pooled_url = _url_in((pooled or {}).get("example")) or "<pooled-url>"
    direct_url = _url_in((direct or {}).get("example")) or "<direct-url>"
    no_prep = bool(pooled) and pooled.get("pool_mode") == "transaction" \
        and pooled.get("prepared_statements") is not True

    out += ['!!! tip "Check it"', "    Review the URL offline, then probe the live database "
            "(read-only, one connection):", "",
            indent(f"```bash\nadvisor lint '{pooled_url}'\nDATABASE_URL='{pooled_url}' "
                   "advisor probe\n```"), ""]

    out += ["## ORM and driver settings", "",
            f"Snippets use the catalog's example URLs ({'pooled' if pooled else 'placeholder'} "
            "`DATABASE_URL`, direct `DIRECT_URL`). See also the [ORM pages](../orms/index.md).", ""]
    for orm in ORMS:
        entry = p["orm"].get(orm) or {}
        intro, code = orm_snippet(orm, engine, pooled_url, direct_url, no_prep,
                                  entry.get("pooled_params") or {})
        body = [intro, "", code]
        if entry.get("note"):
            body += ["", f"{prose(entry['note'])} ({source_link(entry)})"]
        out += [f'=== "{ORM_NAMES[orm]}"', "", indent("\n".join(body)), ""]

    if p["pitfalls"]:
        out += ["## Pitfalls", ""]
        for pit in p["pitfalls"]:
            title = (pit.get("title") or pit.get("id") or "Pitfall").replace('"', "'")
            out += [f'!!! warning "{html.escape(title)}"', f"    {prose(pit.get('text'))}", "",
                    f"    {source_link(pit)}", ""]

    corrected = [f for f in p["facts"] if f.get("outdated_seed_claim")]
    for f in corrected:
        out += ['!!! note "Corrected"', f"    **The old page said:** {prose(f['outdated_seed_claim'])}",
                "", f"    **Now:** {prose(f['text'])} ({source_link(f)})", ""]

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
    out = ["# Providers", "",
           "Generated from the advisor's provider catalog (`advisor/catalog/providers.toml`), the "
           "same data `advisor lint` uses to recognise a host. Each page lists the pooled and "
           "direct endpoints with a source link and the date the fact was checked.", "",
           "| Provider | Engines | Pooled endpoints | Summary |", "|---|---|---|---|"]
    for pid, p in providers.items():
        pooled = sorted({e.get("pooler") or "?" for e in p["endpoints"] if e.get("role") == "pooled"})
        out.append(f"| [{cell(p['name'])}]({pid}.md) | {', '.join(p.get('engines') or [])} "
                   f"| {', '.join(pooled) or '—'} | {cell(p.get('summary'))} |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- checks

# How a lifecycle other than stable is flagged on a check's page (a MkDocs admonition).
LIFECYCLE_ADMONITION = {"preview": "warning", "deprecated": "danger"}


def lifecycle_note(c: dict) -> list[str]:
    """One line for a stable check, an admonition for a preview or deprecated one."""
    meaning = LIFECYCLES[c["lifecycle"]]
    if c["lifecycle"] not in LIFECYCLE_ADMONITION:
        return [f"**Lifecycle:** {c['lifecycle']}: {meaning}.", ""]
    return [f'!!! {LIFECYCLE_ADMONITION[c["lifecycle"]]} "Lifecycle: {c["lifecycle"]}"', "",
            f"    {meaning[0].upper()}{meaning[1:]}.", ""]


def check_page(c: dict) -> str:
    out = [f"# {c['id']}: {prose(c['title'])}", "",
           "| Id | Severity | Engine | Kind | Topic |", "|---|---|---|---|---|",
           f"| `{c['id']}` | {c['severity']} | {c['engine']} | {c['kind']} | {c['topic']} |", "",
           *lifecycle_note(c),
           f"**{prose(c['summary'])}**", "",
           "## Why it matters", "", prose(c["rationale"], lines=True), "",
           "## How to fix", "", prose(c["remediation"], lines=True), ""]
    if c.get("example"):
        out += ["## Example", "", "```text", c["example"], "```", ""]
    if c["params"]:
        out += ["## Thresholds", "", "| Parameter | Default | Override |", "|---|---:|---|"]
        for name, value in c["params"].items():
            out.append(f"| `{name}` | {value} | `--threshold {c['id']}.{name}=VALUE` |")
        out.append("")
    cmd = "advisor probe" if c["kind"] == "probe" else "advisor lint"
    out += ["## Run it", "", f"This check runs in `{cmd}`. Explain it in a terminal:", "",
            f"```bash\nadvisor checks {c['id']}\n```", "",
            "[All checks](index.md)", ""]
    return "\n".join(out)


def checks_index(checks: dict) -> str:
    out = ["# Checks", "",
           "Every finding the advisor reports has an id and a page here, generated from the "
           "check catalog (`advisor/catalog/checks/*.toml`). `probe` checks need a live "
           "connection; `lint` checks read only the URL.", "",
           "| Id | Title | Severity | Engine | Kind | What it checks |", "|---|---|---|---|---|---|"]
    for cid in sorted(checks):
        c = checks[cid]
        out.append(f"| [{cid}]({cid}.md) | {cell(c['title'])} | {c['severity']} | {c['engine']} "
                   f"| {c['kind']} | {cell(c['summary'])} |")
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- CLI

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
                a.nargs == 0 and not isinstance(a, argparse.BooleanOptionalAction)):
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
    out = ["# CLI reference", "",
           "Generated from the argument parser (`advisor.cli.build_parser()`), so it always "
           "matches `advisor --help`.", "", cell(parser.description), "",
           "```text", parser.format_usage().strip(), "```", "",
           "| Command | What it does |", "|---|---|"]
    out += [f"| [`{name}`](#advisor-{name}) | {cell(h)} |" for name, _, h in subs]
    out += [""] + _options_table(parser) + [""]
    for name, sub, h in subs:
        out += [f"## advisor {name} {{#advisor-{name}}}", "", cell(sub.description or h), "",
                "```text", sub.format_usage().strip(), "```", ""] + _options_table(sub) + [""]
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


# --------------------------------------------------------------------------- readiness

def reports_dir(config) -> Path:
    env = os.environ.get("ADVISOR_REPORTS_DIR")
    if env:
        return Path(env)
    base = Path(config.config_file_path or ROOT / "mkdocs.yml").parent
    return base / (config.extra.get("reports_dir") or "reports")


def baseline_dir(config, reports: Path) -> Path | None:
    """The previous run: ADVISOR_BASELINE_DIR, `extra.baseline_dir`, or <reports>/baseline/."""
    env = os.environ.get("ADVISOR_BASELINE_DIR")
    if env:
        return Path(env)
    if config.extra.get("baseline_dir"):
        return Path(config.config_file_path or ROOT / "mkdocs.yml").parent / config.extra["baseline_dir"]
    return reports / "baseline" if (reports / "baseline").is_dir() else None


def _load(folder: Path | None) -> tuple[list, list[str]]:
    """(path, report) pairs that pass the structural check, and one line per skipped file."""
    from advisor.combine import check_report
    reports, problems = [], []
    for path in sorted(folder.glob("*.json")) if folder and folder.is_dir() else []:
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
            check_report(d)
            reports.append((path, d))
        except (OSError, ValueError) as exc:
            problems.append(f"- `{path.name.replace('`', '')}` skipped: {esc(exc)}")
    return reports, problems


def _num(value) -> str:
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else "—"


def _summary(d: dict) -> dict:
    """Readable cells for one report (all escaped)."""
    facts = d.get("facts") if isinstance(d.get("facts"), dict) else {}
    url = facts.get("url") if isinstance(facts.get("url"), dict) else {}
    endpoint = url.get("endpoint") if isinstance(url.get("endpoint"), dict) else {}
    maxc = facts.get("max_connections")
    free = facts.get("available_connections")
    if isinstance(maxc, int):
        usable = maxc - (facts.get("reserved_connections") or 0)
        headroom = (f"{_num(free)} of {usable} usable free"
                    + (f" ({round(100 * free / usable)} %)" if isinstance(free, int) and usable > 0
                       else ""))
    else:
        headroom = "not probed" if d.get("kind") == "lint" else "unknown"
    pooler = facts.get("pooler") if isinstance(facts.get("pooler"), dict) else None
    if pooler is not None:
        kind = esc(pooler.get("kind")) if pooler.get("detected") else "none detected"
        mode = pooler.get("pool_mode")
    else:
        kind = esc(endpoint.get("pooler") or ("none" if endpoint else "unknown"))
        kind += " (from the catalog)" if endpoint else ""
        mode = endpoint.get("pool_mode")
    tls = facts.get("tls") if isinstance(facts.get("tls"), dict) else None
    client = (tls or {}).get("client") if isinstance((tls or {}).get("client"), dict) else {}
    if tls is not None:
        tls_text = esc(client.get("version") or "in use") if client.get("in_use") else "not in use"
        if client.get("sslmode"):
            tls_text += f", sslmode={esc(client['sslmode'])}"
    else:
        tls_text = f"sslmode={esc(url['sslmode'])}" if url.get("sslmode") else "sslmode not set"
    tool = d.get("tool") if isinstance(d.get("tool"), dict) else {}
    return {"max": _num(maxc), "free": _num(free), "headroom": headroom,
            "pooler": kind + (f", {esc(mode)} mode" if mode else ""), "tls": tls_text,
            "at": esc(d.get("generated_at")), "version": esc(tool.get("version")),
            "by": f"{esc(tool.get('name'))} {esc(tool.get('version'))}"}


def _environments(reports: list) -> list[tuple[str, Path, dict]]:
    """(slug, path, report) with a unique URL-safe slug per environment."""
    from advisor.combine import key, slug
    out, seen = [], set()
    for i, (path, d) in enumerate(reports, 1):
        base = slug(key(d)) or f"env-{i}"
        name, n = base, 2
        while name in seen:
            name, n = f"{base}-{n}", n + 1
        seen.add(name)
        out.append((name, path, d))
    return out


def _check_link(fid, checks: dict, up: str) -> str:
    fid = str(fid or "")
    return f"[{fid}]({up}checks/{fid}.md)" if fid in checks else esc(fid)


def _change_cell(change: dict | None) -> str:
    if change is None:
        return "—"
    if not change["baseline"]:
        return "new"
    worse, better = len(change["worse"]), len(change["better"])
    if not worse and not better:
        return "no change"
    return ", ".join(p for p in (f"**{worse} worse**" if worse else "",
                                 f"{better} fixed" if better else "") if p)


def _change_item(item: dict, checks: dict) -> str:
    if item["id"] == "headroom":
        return f"- available connections {_num(item['from'])} → {_num(item['to'])}"
    return (f"- {_check_link(item['id'], checks, '../')} {esc(item['title'])}: "
            f"{esc(item['from'] or 'not reported')} → {esc(item['to'] or 'not reported')}"
            + (f": {esc(item['message'])}" if item["to"] else ""))


def readiness_pages(config, checks: dict) -> dict[str, str]:
    """readiness.md (the fleet view) and readiness/<slug>.md (one page per environment)."""
    from advisor.combine import diff, key
    folder = reports_dir(config)
    reports, problems = _load(folder)
    base_folder = baseline_dir(config, folder)
    baseline = None
    if base_folder is not None and base_folder.is_dir():
        baseline = {key(d): d for _, d in _load(base_folder)[0]}
    envs = _environments(reports)
    changes = {slug_: diff(d, baseline.get(key(d))) if baseline is not None else None
               for slug_, _, d in envs}
    pages = {"readiness.md": _fleet_page(folder, envs, changes, baseline, problems, checks)}
    for slug_, path, d in envs:
        pages[f"readiness/{slug_}.md"] = _environment_page(slug_, path, d, changes[slug_], checks)
    return pages


def _fleet_page(folder, envs, changes, baseline, problems, checks) -> str:
    from advisor.combine import key
    out = ["# Readiness", "",
           "One row per environment: the report JSON files found in the reports folder when the "
           "site was built (`extra.reports_dir` in `mkdocs.yml`, or `ADVISOR_REPORTS_DIR`). "
           "Each environment has a page with every finding; see [CI and fleets](ci.md) for "
           "producing the reports in a pipeline. Write one with:", "",
           "```bash\nadvisor probe --label production --format json --output reports/\n```", ""]
    if not envs:
        out += ['!!! info "No reports yet"',
                f"    No readable report was found in `{folder.name}/` when this site was built. "
                "Run the command above (or `make demo`), then rebuild the site.", ""]
    else:
        head = "| Environment | Verdict | max_connections | Available | Pooler | TLS | Generated | Version |"
        rule = "|---|---|---:|---:|---|---|---|---|"
        if baseline is not None:
            head, rule = head + " Since the previous run |", rule + "---|"
        out += [head, rule]
        for slug_, path, d in envs:
            s, status = _summary(d), d["summary"]["status"]
            t = d["target"]
            name = esc(t.get("host") or t.get("url") or path.stem, 80)
            if d.get("label"):
                name = f"{esc(d['label'], 80)} ({name})"
            row = (f"| [{name}](readiness/{slug_}.md) | {STATUS.get(status, esc(status))} "
                   f"| {s['max']} | {s['free']} | {s['pooler']} | {s['tls']} | {s['at']} "
                   f"| {s['version']} |")
            if baseline is not None:
                row += f" {_change_cell(changes[slug_])} |"
            out.append(row)
        out.append("")
        if baseline is not None:
            current = {key(d) for _, _, d in envs}
            gone = [k for k in baseline if k not in current]
            out += [f"Compared with {len(baseline)} report(s) from the previous run."
                    + (" Not in this run: " + ", ".join(esc(k, 80) for k in gone) + "." if gone else ""),
                    ""]
        for slug_, path, d in envs:
            out += _fleet_section(slug_, path, d, checks)
    if problems:
        out += ["## Skipped files", ""] + problems + [""]
    return "\n".join(out)


def _fleet_section(slug_: str, path: Path, d: dict, checks: dict) -> list[str]:
    t, s = d["target"], _summary(d)
    status = d["summary"]["status"]
    marks = {"pass": "✔", "warn": "⚠", "fail": "✖", "skip": "–", "error": "✖"}
    findings = " · ".join(f"{marks.get(f.get('status'), '?')} {_check_link(f.get('id'), checks, '')}"
                          for f in d["findings"]) or "none"
    return [f"## {esc(d.get('label') or t.get('host') or path.stem, 80)} {{#env-{slug_}}}", "",
            f"**Verdict:** {STATUS.get(status, esc(status))} · **Target:** {esc(t.get('url'))} · "
            f"[all findings and details](readiness/{slug_}.md)", "",
            f"- **max_connections:** {s['max']} · **headroom:** {s['headroom']}",
            f"- **Pooler:** {s['pooler']} · **TLS:** {s['tls']}",
            f"- **Generated:** {s['at']} by {s['by']} (`{path.name.replace('`', '')}`)",
            f"- **Findings:** {findings}", ""]


def _environment_page(slug_: str, path: Path, d: dict, change: dict | None, checks: dict) -> str:
    t, s = d["target"], _summary(d)
    facts = d["facts"]
    status, n = d["summary"]["status"], d["summary"]
    provider = (f", provider [{esc(t['provider'])}](../providers/{t['provider']}.md)"
                if t.get("provider") in load_providers() else "")
    probe_error = (facts.get("probe") or {}).get("error") if isinstance(facts.get("probe"), dict) else None
    out = ["---", f"title: \"Readiness: {slug_}\"", "---", "",
           f"# {esc(d.get('label') or t.get('host') or path.stem, 80)}", "",
           "[All environments](../readiness.md)", "",
           f"**Verdict:** {STATUS.get(status, esc(status))} · {_num(n.get('fail'))} failing, "
           f"{_num(n.get('error'))} errors, {_num(n.get('warn'))} warnings, "
           f"{_num(n.get('pass'))} passed", "",
           "| What | Value |", "|---|---|",
           f"| Target | {esc(t.get('url'))} ({esc(t.get('engine'))}{provider}) |",
           f"| Server version | {esc(facts.get('server_version') or '—')} |",
           f"| max_connections | {s['max']} |",
           f"| Reserved | {_num(facts.get('reserved_connections'))} |",
           f"| In use | {_num(facts.get('connections_in_use'))} |",
           f"| Available | {s['headroom']} |",
           f"| Pooler | {s['pooler']} |",
           f"| TLS | {s['tls']} |",
           f"| Generated | {s['at']} by {s['by']} ({esc(d.get('kind'))}, `{path.name.replace('`', '')}`) |"]
    if probe_error:
        out.append(f"| Probe error | {esc(probe_error)} |")
    out.append("")
    if change is not None:
        out += ["## Since the previous run", ""]
        if not change["baseline"]:
            out += ["Not in the previous run: this environment is new.", ""]
        else:
            old, new = change["status"]
            out += [f"Verdict {STATUS.get(old, esc(old))} → {STATUS.get(new, esc(new))}.", ""]
            if change["worse"]:
                out += ["**Got worse:**", ""] + [_change_item(i, checks) for i in change["worse"]] + [""]
            if change["better"]:
                out += ["**Fixed or better:**", ""] + [_change_item(i, checks) for i in change["better"]] + [""]
            if not change["worse"] and not change["better"]:
                out += ["No change in the findings or the free connections.", ""]
    out += ["## Findings", ""]
    if d["findings"]:
        out += ["| Result | Check | Severity | Finding |", "|---|---|---|---|"]
        for f in d["findings"]:
            out.append(f"| {STATUS.get(f.get('status'), esc(f.get('status')))} "
                       f"| {_check_link(f.get('id'), checks, '../')} {esc(f.get('title'))} "
                       f"| {esc(f.get('severity'))} | {esc(f.get('message'))} |")
        out.append("")
    else:
        out += ["No findings in this report.", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------- MkDocs hooks

def _expand(nav, providers: dict, checks: dict):
    result = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        if value == "providers/index.md":
            value = ["providers/index.md"] + [{p["name"]: f"providers/{pid}.md"}
                                              for pid, p in providers.items()]
        elif value == "checks/index.md":
            value = ["checks/index.md"] + [{f"{cid} {c['title']}": f"checks/{cid}.md"}
                                           for cid, c in sorted(checks.items())]
        elif isinstance(value, list):
            value = _expand(value, providers, checks)
        result.append({next(iter(item)): value} if isinstance(item, dict) else value)
    return result


def on_config(config):
    if config.nav:
        config.nav = _expand(config.nav, load_providers(), catalog.load_checks())
    return config


def on_files(files, config):
    from mkdocs.structure.files import File
    providers, checks = load_providers(), catalog.load_checks()
    notes_dir = Path(config.docs_dir) / "providers" / "_notes"
    pages = {"providers/index.md": providers_index(providers),
             "checks/index.md": checks_index(checks),
             "cli.md": cli_page(),
             **readiness_pages(config, checks)}
    for pid, p in providers.items():
        note = notes_dir / f"{pid}.md"
        pages[f"providers/{pid}.md"] = provider_page(p, note.read_text() if note.is_file() else "")
    for cid, c in checks.items():
        pages[f"checks/{cid}.md"] = check_page(c)
    GENERATED.clear()
    for src, content in pages.items():
        if files.get_file_from_path(src) is not None:
            raise ValueError(f"docs/{src} is generated at build time; remove the hand-written file")
        files.append(File.generated(config, src, content=content))
        GENERATED.add(src)
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri in GENERATED:
        page.edit_url = None  # nothing to edit: the page comes from the catalogs
    return markdown


# --------------------------------------------------------------------------- macros

def define_env(env):
    @env.macro
    def provider_links() -> str:
        return ", ".join(f"[{p['name']}](providers/{pid}.md)"
                         for pid, p in load_providers().items() if not p["generic"])

    @env.macro
    def check_count() -> int:
        return len(catalog.load_checks())

    @env.macro
    def pooler_endpoints(pooler: str) -> str:
        """Catalog endpoints served by one pooler (for the pooler pages, one level down)."""
        rows = ["| Provider | Endpoint | Port | Pool mode | Source |", "|---|---|---:|---|---|"]
        for pid, p in load_providers().items():
            for e in p["endpoints"]:
                if e.get("pooler") == pooler:
                    rows.append(f"| [{cell(p['name'])}](../providers/{pid}.md) "
                                f"| {cell(e.get('label'))} | {e.get('port') or 'default'} "
                                f"| {e.get('pool_mode') or '—'} | {source_link(e)} |")
        return "\n".join(rows) if len(rows) > 2 else "*No catalog endpoint uses it yet.*"

    @env.macro
    def orm_notes(orm: str) -> str:
        """Provider-specific notes for one ORM (for the ORM pages, one level down)."""
        rows = ["| Provider | Pooled URL parameters | Needs direct URL | Note |",
                "|---|---|---|---|"]
        for pid, p in load_providers().items():
            e = p["orm"].get(orm)
            if e:
                params = "&".join(f"{k}={v}" for k, v in (e.get("pooled_params") or {}).items())
                rows.append(f"| [{cell(p['name'])}](../providers/{pid}.md) "
                            f"| {f'`{params}`' if params else '—'} "
                            f"| {'yes' if e.get('direct_url') else 'no'} "
                            f"| {cell(e.get('note'))} ({source_link(e)}) |")
        return "\n".join(rows) if len(rows) > 2 else "*No provider-specific notes yet.*"
