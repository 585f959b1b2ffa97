"""Stack pages (stacks/index.md, stacks/<id>.md) from advisor/catalog/stacks.toml, and the
compatibility matrix (compatibility.md) from docs/data/driver-matrix.json.

What a page says works or breaks behind each kind of pool is the advisor's own verdict:
the page runs the checks STK101 and STK102 on the facts the probe reports through that
kind of pool, so it says what `advisor probe --driver ID` says there. The wording of each
session feature is `advisor stacks ID`'s (advisor.stackcmd.feature_facts).
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pages_text import ROOT, indent, prose

from advisor.catalog.stacks import (
    FEATURES,
    LANGUAGES,
    POOL_CASES,
    Stack,
    load_stacks,
    orm_rules,
    resolve,
)
from advisor.checks import Context, load_all
from advisor.options import SESSION_FEATURES
from advisor.stackcmd import feature_facts, pool_words

PREPARED = SESSION_FEATURES[0]
MATRIX_FILE = ROOT / "docs" / "data" / "driver-matrix.json"
MATRIX_ENV = "ADVISOR_MATRIX_FILE"  # another matrix file for the build (the tests' bad ones)

# The pool cases a page explains, and the session features the probe finds lost in each.
CASES = ("session", "not_kept", "kept")
LOST = {"session": (), "not_kept": SESSION_FEATURES, "kept": SESSION_FEATURES[1:]}
# Through PgBouncer 1.21+ with max_prepared_statements > 0 the probe sees its statement
# renamed on the way (advisor/facts/session.py): STK101 judges such a pool by that.
KEPT_EVIDENCE = "the pooler renamed the client's named statement"
VARIANTS = {
    "default": "out of the box",
    "fix": "with the fix from its page",
    "named": "with named queries",
}
POOLERS = {"pgbouncer": "PgBouncer", "none": "PostgreSQL"}


def page_id(stack_id: str) -> str:
    """The page of a catalog entry, relative to stacks/ (ids may hold dots: postgres.js)."""
    return f"{stack_id}.md"


# --------------------------------------------------------------------------- verdicts


def _probed(case: str, lost: Iterable[str]) -> dict[str, Any]:
    """The facts `advisor probe` reports through a pool of this case that loses `lost`."""
    features = {}
    for name in SESSION_FEATURES:
        works = name not in lost
        evidence = "kept" if works else "lost between transactions"
        if case == "kept" and name == PREPARED:
            evidence = KEPT_EVIDENCE
        features[name] = {"works": works, "how": "measured", "evidence": evidence}
    return {
        "engine": "postgresql",
        "max_connections": 100,
        # A pooler in this case's mode; no admin console: more than one server connection,
        # as in production.
        "pooler": {
            "detected": True,
            "kind": "pgbouncer",
            "pool_mode": "session" if case == "session" else "transaction",
            "evidence": [],
        },
        "session_features": features,
        "url": {"params": {}, "endpoint": {}},
    }


def verdict(
    orm: str | None, driver: str, case: str, options: dict[str, str] | None = None
) -> dict[str, Any]:
    """Works or breaks through a pool of `case`, per STK101 and STK102, and the features
    that break: each lost feature is judged alone, so the page can name its fix."""
    checks = load_all()
    ctx = Context(orm=orm, driver=driver, driver_options=options or {})
    prepared = checks["STK101"](_probed(case, LOST[case]), ctx)
    breaks = [PREPARED] if prepared is not None and prepared.status == "fail" else []
    for name in LOST[case]:
        if name != PREPARED:
            r = checks["STK102"](_probed(case, {name}), ctx)
            if r is not None and r.status == "fail":
                breaks.append(name)
    return {"works": not breaks, "breaks": breaks}


def _ctx_of(stack: Stack) -> tuple[str | None, str]:
    return (stack.orm["id"] if stack.orm else None), str(stack.driver["id"])


def breaks_behind_transaction_pool(stack: Stack) -> list[str]:
    """Session features that break `stack` with its defaults behind a transaction pool
    that keeps no prepared statements (the index's column)."""
    return verdict(*_ctx_of(stack), "not_kept")["breaks"]


# --------------------------------------------------------------------------- Markdown bits

MARKUP = re.compile(r"([\\*_\[\]])")


def text(value: Any) -> str:
    """Trusted catalog text on one line (pages_text.prose), with the characters Markdown
    would read as emphasis or links escaped outside its `code` spans: `_pg3_<n>` stays
    a name, not italics."""
    parts = prose(value).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = MARKUP.sub(r"\\\1", parts[i])
    return "`".join(parts)


def _source(fact: dict[str, Any]) -> str:
    """`source · checked DATE`, and for an unverified fact that it is not confirmed."""
    url = str(fact.get("source") or "")
    out = f"[source]({url})" if url.startswith("https://") else "no source"
    out += f" · checked {fact.get('checked') or 'never'}"
    if fact.get("verified") is False:
        out += " · **not confirmed at the source**"
    return out


def _is_sentence(fix: str) -> bool:
    """Catalog fixes that are advice end with a period; settings and code do not."""
    return fix.rstrip().endswith(".")


def _fix_block(fix: str) -> list[str]:
    if _is_sentence(fix):
        return [text(fix), ""]
    return ["```text", fix, "```", ""]


def _fix_inline(fix: str) -> str:
    return text(fix) if _is_sentence(fix) else f"`{_code(fix)}`"


def _errors_block(errors: list[str]) -> list[str]:
    return ["```text", *errors, "```", ""] if errors else []


def _capital(words: str) -> str:
    return words[:1].upper() + words[1:]


def _case_title(case: str) -> tuple[str, str]:
    """A pool case's label split into a short title and its parenthesis, if any."""
    label = POOL_CASES[case]
    m = re.fullmatch(r"(.*?) \((.*)\)", label)
    return (_capital(m.group(1)), _capital(m.group(2))) if m else (_capital(label), "")


def _link(stack_id: str) -> str:
    """A link from one stack page to another."""
    return f"[{text(load_stacks()[stack_id]['name'])}]({page_id(stack_id)})"


# --------------------------------------------------------------------------- one stack


def _option_words(option: dict[str, Any]) -> str:
    words = f"`--driver-option {option['name']}={option['values'][0]}`"
    return words + (", or it reads it from the URL" if option.get("in_url") else "")


def _first_sentence(words: str) -> str:
    return str(words).split(". ")[0].rstrip(".") + "."


def _broken(stack: Stack, case: str, f: dict[str, Any]) -> list[str]:
    """What breaks for one feature, the error, the setting, and how to tell the advisor."""
    out = [f"**{f['title']}** ({f['usage_words']})"]
    if f["errors"]:
        out[0] += " breaks with:"
        out += ["", *_errors_block(f["errors"])]
    else:
        out[0] += f" breaks, without an error: {text(_first_sentence(f['detail']))}"
        out.append("")
    out += ["Set:", "", *_fix_block(f["fix"])]
    for option in (f.get("safe_options") or [])[:1]:
        given = {option["name"]: str(option["values"][0])}
        if f["name"] not in verdict(*_ctx_of(stack), case, given)["breaks"]:
            out += [f"Then tell the advisor, and it passes: {_option_words(option)}.", ""]
    return out


def _pool_cases(stack: Stack) -> list[str]:
    """One admonition per pool case: works or breaks, the error, the setting."""
    features = {n: feature_facts(stack, n, f) for n, f in stack.features.items()}
    out: list[str] = []
    said: list[dict[str, Any]] = []  # the conditional features already listed
    for case in CASES:
        title, where = _case_title(case)
        v = verdict(*_ctx_of(stack), case)
        body: list[str] = [f"*{text(where)}.*", ""] if where else []
        for name in v["breaks"]:
            body += _broken(stack, case, features[name])
        kept = features.get(PREPARED) or {}
        if case == "kept" and PREPARED not in v["breaks"] and kept.get("when_kept"):
            body += [text(kept["when_kept"]), ""]
        lost = set(LOST[case])
        conditional = [f for n, f in features.items() if f["usage"] == "conditional" and n in lost]
        if conditional and conditional == said:
            body += ["What your code may ask for breaks here as above.", ""]
        elif conditional:
            said = conditional
            body += ["Only if your code asks for it:", ""]
            body += [
                f"- **{f['title']}**, if {text(f['trigger'])}: {_fix_inline(f['fix'])}"
                for f in conditional
            ]
            body.append("")
        if not body:
            body = ["Every session feature stays on the client's own server connection.", ""]
        kind, word = ("success", "works") if v["works"] else ("failure", "breaks")
        out += [f'!!! {kind} "{title}: {word}"', "", indent("\n".join(body)), ""]
    return out


def _features(stack: Stack, page: str) -> list[str]:
    """The table of session features, then one collapsible block per feature it uses."""
    facts = [feature_facts(stack, n, f) for n, f in stack.features.items()]
    used = [f for f in facts if f["usage"] != "never"]
    out = []
    if used:
        out += [
            "| Feature | Uses it | Through a transaction pool |",
            "|---|---|---|",
        ]
        for f in used:
            usage = "by default" if f["usage"] == "default" else f"only if {text(f['trigger'])}"
            out.append(f"| {text(f['title'])} | {usage} | {_fix_inline(f['fix'])} |")
        out.append("")
    never = [f["title"] for f in facts if f["usage"] == "never"]
    if never:
        out += [
            f"Does not use on its own (only SQL your code writes would): {', '.join(never)}.",
            "",
        ]
    for f in used:
        usage = f["usage_words"] + (f" ({f['trigger']})" if f["trigger"] else "")
        body = [text(f["detail"]), ""]
        body += [f"{_capital(label)}: `{'`, `'.join(values)}`." for label, values in f["lists"]]
        body += [""] if f["lists"] else []
        if f["errors"]:
            body += ["The error it shows:", "", *_errors_block(f["errors"])]
        for _, label, said in f["cases"]:
            shown = text(said) if said == "works" else _fix_inline(said)
            body.append(f"- {text(_capital(label))}: {shown}")
        body.append("")
        if f["note"]:
            body += [f"*Note:* {text(f['note'])}", ""]
        owner = str(f["origin"] or stack.id).split("+")[0]
        origin = f" (what {_link(owner)} does)" if owner != page else ""
        body += [_source(f) + origin, ""]
        title = html.escape(f"{f['title']}: {usage}").replace('"', "&quot;")
        out += [f'??? info "{title}"', "", indent("\n".join(body)), ""]
    return out


def _measured(cells: list[dict[str, Any]]) -> list[str]:
    """The matrix cells of one stack: a row per pool, a column per variant."""
    if not cells:
        return []
    variants: list[str] = []
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    for c in cells:
        variants += [c["variant"]] if c["variant"] not in variants else []
        rows.setdefault(pool_label(c), {})[c["variant"]] = c
    versions = ", ".join(sorted({f"{c['stack']} {c['driver_version']}" for c in cells}))
    out = [
        "## Measured",
        "",
        "Two client processes at once through each pool, with real drivers "
        f"({versions}), measured {max(c['date'] for c in cells)}; ✔: the advisor said the "
        "same. All stacks: the [compatibility matrix](../compatibility.md).",
        "",
        "| Pool | " + " | ".join(f"{text(v)} ({VARIANTS.get(v, v)})" for v in variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for label, found in rows.items():
        shown = []
        for v in variants:
            c = found.get(v)
            if c is None:
                shown.append("—")
                continue
            mark = "✔" if c["advisor"] == c["outcome"] else f"✗ the advisor said {c['advisor']}"
            what = "works" if c["outcome"] == "works" else f"**breaks**: `{_code(c['error'])}`"
            shown.append(f"{what} {mark}")
        out.append(f"| {text(label)} | " + " | ".join(shown) + " |")
    return [*out, ""]


def _code(value: str) -> str:
    """Text for a code span (in a table cell, whose pipes a code span keeps)."""
    return str(value).replace("`", "'").replace("\n", " ")


def _stack_sections(stack: Stack, page: str) -> tuple[list[str], list[str]]:
    if "postgresql" not in stack.engines:
        cases = [
            '!!! info "MySQL"',
            "",
            "    The pool cases are PostgreSQL's. A MySQL proxy (ProxySQL, RDS Proxy) pins a "
            "connection or stops multiplexing it when a client uses the features below; "
            "`advisor probe` reports what the endpoint does with them.",
            "",
        ]
    else:
        cases = _pool_cases(stack)
    return cases, _features(stack, page)


def _tabs(blocks: list[tuple[str, list[str]]]) -> list[str]:
    out = []
    for label, lines in blocks:
        out += [f'=== "{label}"', "", indent("\n".join(lines)), ""]
    return out


def stack_page(entry: dict[str, Any], cells: list[dict[str, Any]]) -> str:
    sid = entry["id"]
    out = [f"# {text(entry['name'])}", "", f"**{text(entry['summary'])}**", ""]
    packages = ", ".join(f"`{p}`" for p in entry["packages"]) or "—"
    out += [
        "| Kind | Language | Engines | Packages |",
        "|---|---|---|---|",
        f"| {entry['kind']} | {LANGUAGES[entry['language']]} | {', '.join(entry['engines'])} "
        f"| {packages} |",
        "",
    ]
    if entry.get("verified") is False:
        out += [
            '!!! warning "Not confirmed at the source"',
            f"    {text(entry.get('note') or 'What this page says was not confirmed at its source.')}",
            "",
        ]
    elif entry.get("note"):
        out += ['!!! note "Note"', f"    {text(entry['note'])}", ""]
    if entry["kind"] == "orm":
        default, drivers = orm_rules(entry, None)
        out += [
            f"Runs on {', '.join(_link(d) for d in drivers)}; without a version the default "
            f"is {_link(default)}.",
            "",
        ]
        for since in entry["since"]:
            out += [
                f"From {since['version']} the default is {_link(since['default_driver'])}. "
                f"{text(since.get('note'))}".rstrip(),
                "",
            ]
        stacks = [resolve(sid, d) for d in drivers]
    else:
        stacks = [resolve(driver=sid)]
    pool = stacks[0].pool
    out += [
        "## Pool size",
        "",
        f"{_pool_size(pool)} {text(pool.get('detail'))}",
        "",
        "Change it:",
        "",
        "```text",
        pool["setting"],
        "```",
        "",
        _source(pool),
        "",
    ]
    sections = [_stack_sections(s, sid) for s in stacks]
    out += ["## Behind a pooler", ""]
    if len(stacks) == 1:
        out += sections[0][0]
    else:
        out += _tabs(
            [(_tab_label(entry, s), c) for s, (c, _) in zip(stacks, sections, strict=True)]
        )
    out += ["## Session features", ""]
    if len(stacks) == 1:
        out += sections[0][1]
    else:
        out += _tabs(
            [(_tab_label(entry, s), f) for s, (_, f) in zip(stacks, sections, strict=True)]
        )
    out += _measured(cells)
    out += [
        "## Check it",
        "",
        "```bash",
        f'advisor lint "$DATABASE_URL" {_flags(stacks[0])}',
        f'advisor probe "$DATABASE_URL" {_flags(stacks[0])}',
        f"advisor stacks {sid}",
        "```",
        "",
        _source(entry),
        "",
        "[All stacks](index.md) · [Compatibility matrix](../compatibility.md)",
        "",
    ]
    return "\n".join(out)


def _pool_size(pool: Mapping[str, Any]) -> str:
    words = pool_words(pool)
    if words == "no limit":
        return "**No limit** on connections per process by default."
    return f"**{words}** connections per process by default."


def _flags(stack: Stack) -> str:
    orm, driver = _ctx_of(stack)
    return f"--orm {orm}" if orm else f"--driver {driver}"


def _tab_label(orm: dict[str, Any], stack: Stack) -> str:
    driver = stack.driver["id"]
    label = str(stack.driver["name"])
    since = [s["version"] for s in orm["since"] if s["default_driver"] == driver]
    if since:
        label += f" · default from {since[0]}"
    elif driver == orm["default_driver"]:
        label += " · default"
    return label.replace('"', "'")


def stacks_index(catalog: dict[str, dict[str, Any]]) -> str:
    out = [
        "# Stacks: drivers and ORMs",
        "",
        "Generated from the advisor's stack catalog (`advisor/catalog/stacks.toml`), the "
        "data `advisor lint --driver/--orm` and `advisor probe` judge a stack by: which "
        "session features it uses, the error it shows behind a pool that loses them, and "
        "the exact setting that makes it safe, each with a source and the date it was "
        "checked. The [compatibility matrix](../compatibility.md) shows real drivers "
        "through real PgBouncer.",
        "",
        "| Stack | Kind | Language | Pool per process | Breaks behind a transaction pool | Summary |",
        "|---|---|---|---|---|---|",
    ]
    for sid, entry in catalog.items():
        stack = resolve(sid) if entry["kind"] == "orm" else resolve(driver=sid)
        if "postgresql" in stack.engines:
            titles = [FEATURES[n]["title"] for n in breaks_behind_transaction_pool(stack)]
            what = ", ".join(titles) or "nothing by default"
        else:
            what = "— (MySQL)"
        out.append(
            f"| [{text(entry['name'])}]({page_id(sid)}) | {entry['kind']} "
            f"| {LANGUAGES[entry['language']]} | {text(pool_words(stack.pool))} | {what} "
            f"| {text(entry['summary'])} |"
        )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the matrix


class MatrixError(ValueError):
    """The matrix file is missing or not what `make matrix` writes (one line)."""


CELL_FIELDS: dict[str, Any] = {
    "pool": str,
    "pooler": str,
    "version": str,
    "postgresql": str,
    "settings": dict,
    "stack": str,
    "driver": str,
    "orm": (str, type(None)),
    "variant": str,
    "driver_version": str,
    "outcome": ("works", "breaks"),
    "error": str,
    "date": re.compile(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]"),
    "advisor": ("works", "breaks"),
    "findings": dict,
}


TYPE_WORDS = {str: "a string", dict: "an object", type(None): "null"}


def matrix_path() -> Path:
    return Path(os.environ.get(MATRIX_ENV) or MATRIX_FILE)


def shown_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def _problem(field: str, rule: Any, value: Any) -> str | None:
    if isinstance(rule, re.Pattern):
        ok = isinstance(value, str) and rule.fullmatch(value) is not None
        return None if ok else f"{field} must be a date YYYY-MM-DD, not {value!r:.40}"
    if isinstance(rule, tuple) and all(isinstance(r, str) for r in rule):
        return None if value in rule else f"{field} must be {' or '.join(rule)}, not {value!r:.40}"
    if isinstance(value, rule):
        return None
    kinds = rule if isinstance(rule, tuple) else (rule,)
    words = " or ".join(TYPE_WORDS[k] for k in kinds)
    return f"{field} must be {words}, not {type(value).__name__}"


def load_matrix(path: Path | None = None) -> dict[str, Any]:
    """docs/data/driver-matrix.json, checked; MatrixError naming the file and the field."""
    path = path or matrix_path()
    name = shown_path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MatrixError(f"{name}: missing; `make matrix` measures and writes it") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise MatrixError(f"{name}: cannot read it: {exc}") from None
    except json.JSONDecodeError as exc:
        raise MatrixError(f"{name}: not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list) or not doc["cells"]:
        raise MatrixError(f"{name}: expected an object with a non-empty list of cells")
    if _problem("measured", CELL_FIELDS["date"], doc.get("measured")):
        raise MatrixError(f"{name}: measured must be a date YYYY-MM-DD")
    catalog, seen = load_stacks(), set()
    for i, c in enumerate(doc["cells"]):
        where = f"{name}: cells[{i}]"
        if not isinstance(c, dict):
            raise MatrixError(f"{where}: must be an object")
        for field, rule in CELL_FIELDS.items():
            if field not in c:
                raise MatrixError(f"{where}: {field} is missing")
            if (problem := _problem(field, rule, c[field])) is not None:
                raise MatrixError(f"{where}: {problem}")
        for field in ("driver", "orm"):
            if c[field] is not None and c[field] not in catalog:
                raise MatrixError(f"{where}: {field} {c[field]!r} is not in the stack catalog")
        key = (c["pool"], c["stack"], c["variant"])
        if key in seen:
            raise MatrixError(f"{where}: {'/'.join(key)} is there twice")
        seen.add(key)
    return doc


def catalog_id(c: dict[str, Any]) -> str:
    """The catalog entry whose page shows a cell: the ORM's, else the driver's."""
    return str(c["orm"] or c["driver"])


def pool_label(c: dict[str, Any]) -> str:
    """A pool in words, from the settings the cell records."""
    if c["pooler"] == "none":
        return f"direct to PostgreSQL {c['postgresql']}"
    return f"{POOLERS.get(c['pooler'], c['pooler'])} {c['version']}, " + _pool_shape(c)


def _pool_shape(c: dict[str, Any]) -> str:
    s = c["settings"]
    n = s.get("default_pool_size")
    parts = [f"{s.get('pool_mode', '?')} mode"]
    if n is not None:
        parts.append(f"{n} server connection{'' if n == 1 else 's'}")
    if s.get("server_round_robin"):
        parts.append("round robin")
    if "max_prepared_statements" in s:
        parts.append(f"max_prepared_statements = {s['max_prepared_statements']}")
    return ", ".join(parts)


MODES = {"transaction": "txn", "session": "session", "statement": "stmt"}


def _column(c: dict[str, Any]) -> str:
    """A pool's short column title: `1.24 txn 2 rr mps 200` (the legend explains it)."""
    if c["pooler"] == "none":
        return "direct"
    s = c["settings"]
    mode = s.get("pool_mode", "?")
    out = f"{'.'.join(str(c['version']).split('.')[:2])} {MODES.get(mode, mode)}"
    if mode != "session" and s.get("default_pool_size") is not None:
        out += f" {s['default_pool_size']}"
    if s.get("server_round_robin"):
        out += " rr"
    if "max_prepared_statements" in s:
        out += f" mps {s['max_prepared_statements']}"
    return out


def _attr(value: str) -> str:
    """Text for an HTML attribute in a table cell."""
    return html.escape(str(value), quote=True).replace("|", "&#124;")


def compatibility_page(doc: dict[str, Any], source: str, download: bool = False) -> str:
    """The matrix page; `source` names the file `make matrix` writes, which the page links
    for download when it is the file the build read (`download`)."""
    cells = doc["cells"]
    pools: dict[str, dict[str, Any]] = {}  # pool id -> its first cell, in file order
    rows: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    errors: list[str] = []
    for c in cells:
        pools.setdefault(c["pool"], c)
        rows.setdefault((c["stack"], c["variant"]), {})[c["pool"]] = c
        if c["outcome"] == "breaks" and c["error"] not in errors:
            errors.append(c["error"])
    agree = sum(c["advisor"] == c["outcome"] for c in cells)
    pg = sorted({c["postgresql"] for c in cells})
    poolers = sorted(
        {
            f"{POOLERS.get(c['pooler'], c['pooler'])} {c['version']}"
            for c in pools.values()
            if c["pooler"] != "none"
        }
    )
    out = [
        "---",
        "hide:",
        "  - toc  # the matrix needs the width",
        "---",
        "",
        "# Compatibility matrix",
        "",
        "Real drivers and ORMs, with their defaults and with their documented fix, through "
        f"real PgBouncer, measured on **{doc['measured']}**: {len(cells)} cells. In {agree} "
        "of them the advisor's verdict (`advisor probe --driver/--orm`, checks "
        "[STK101](checks/STK101.md) and [STK102](checks/STK102.md)) was what really "
        "happened: ✔ (hover over a mark for what it said, over *breaks* for the error).",
        "",
        f"**Versions:** PostgreSQL {', '.join(pg)}; {', '.join(poolers)}; the drivers' "
        "versions are in the last table.",
        "",
        "| Stack, variant | "
        + " | ".join(
            f'<span title="{_attr(pool_label(c))}" data-pool="{_attr(pid)}">{_column(c)}</span>'
            for pid, c in pools.items()
        )
        + " |",
        "|---|" + "---|" * len(pools),
    ]
    for (stack, variant), found in rows.items():
        first = next(iter(found.values()))
        link = f"[{text(stack)}](stacks/{page_id(catalog_id(first))})"
        shown = [_matrix_cell(found.get(pid), errors) for pid in pools]
        out.append(f"| {link} *{text(variant)}* | " + " | ".join(shown) + " |")
    out += [
        "",
        "Columns:",
        "",
        *[f"- **{_column(c)}**: {text(pool_label(c))}" for c in pools.values()],
        "",
        '!!! info "How each cell is measured"',
        "",
        indent(
            "\n".join(
                [
                    "Two client *processes* (two serverless instances) run the same queries at "
                    "the same moment through a PgBouncer started for that cell alone, in front "
                    "of one PostgreSQL. The pools are chosen so that failures can happen:",
                    "",
                    "- **txn 1**, a transaction pool of 1 server connection: both clients' "
                    "statements land on the same server connection, so the names they pick "
                    'collide ("already exists").',
                    "- **txn 2 rr**, 2 server connections with `server_round_robin = 1`: a "
                    "statement prepared on one server connection is missing on the other "
                    '("does not exist").',
                    "- **session** and **direct**: each client keeps its own server "
                    "connection, so everything works.",
                    "- **mps**, `max_prepared_statements` (PgBouncer 1.21+): above 0 PgBouncer "
                    "keeps protocol-level prepared statements across transactions (200 is "
                    "1.24's default); 0 is Azure's default, and behaves like 1.18.",
                ]
            )
        ),
        "",
        "Variants: *default* is the stack out of the box, *fix* with the setting its page "
        "gives, *named* node-postgres with named queries. `make matrix` measures it again "
        f"and rewrites `{source}`; `make test` measures it and fails when a cell or the "
        "advisor's verdict changed."
        + (
            f" The cells as JSON: [{source.rsplit('/', 1)[-1]}]({source.removeprefix('docs/')})."
            if download
            else ""
        ),
        "",
        "## Errors",
        "",
        "The first error a client saw, per numbered mark above:",
        "",
        *[f"{i}. `{_code(e)}`" for i, e in enumerate(errors, 1)],
        "",
        "## Versions",
        "",
        "| Stack | Version |",
        "|---|---|",
    ]
    versions: dict[str, str] = {}
    for c in cells:
        versions.setdefault(c["stack"], c["driver_version"])
    out += [f"| {text(s)} | {text(v)} |" for s, v in versions.items()]
    out.append("")
    return "\n".join(out)


def _matrix_cell(c: dict[str, Any] | None, errors: list[str]) -> str:
    if c is None:
        return "—"
    findings = ", ".join(f"{k} {v}" for k, v in sorted(c["findings"].items()))
    said = html.escape(f"the advisor said {c['advisor']} ({findings})", quote=True)
    mark = (
        f'<span title="{said}">✔</span>'
        if c["advisor"] == c["outcome"]
        else f'<span title="{said}">✗ advisor: {c["advisor"]}</span>'
    )
    if c["outcome"] == "works":
        return f"works {mark}"
    n = errors.index(c["error"]) + 1
    return f'<span title="{_attr(c["error"])}"><strong>breaks</strong></span><sup>{n}</sup> {mark}'
