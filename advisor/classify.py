"""Which session state a statement depends on, read by a real SQL parser.

PostgreSQL texts go through PostgreSQL's own grammar (pglast wraps libpg_query, the server's
parser as a library); MySQL/MariaDB digests through sqlglot's MySQL dialect. A text the
parser cannot read (cut short by pg_stat_statements' track size, a normalised `$1` where
the grammar wants a name) is "unclassified": never guessed at from its words.

Both parsers are imported here, inside the functions: only `advisor audit` loads them.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

# Session features, in report order: what each is, and the rewrite that makes it safe under
# a transaction-mode pooler (the server connection changes between transactions).
FEATURES: dict[str, dict[str, str]] = {
    "session_set": {
        "what": "session SET / RESET",
        "rewrite": "SET LOCAL name = value as the first statement inside the transaction "
        "(or set_config(name, value, true)); per-tenant settings go with each transaction, "
        "never on the connection",
    },
    "set_config": {
        "what": "set_config(name, value, false)",
        "rewrite": "set_config(name, value, true) inside the transaction: its third "
        "argument true makes the setting end with the transaction",
    },
    "set_config_normalised": {
        "what": "set_config(name, value, $n): the third argument was normalised away",
        "rewrite": "make sure the third argument is true (the setting ends with the "
        "transaction); pg_stat_statements keeps no constant, so the audit cannot tell",
    },
    "advisory_lock": {
        "what": "session advisory locks (pg_advisory_lock*, not the _xact_ forms)",
        "rewrite": "pg_advisory_xact_lock(key) (or pg_try_advisory_xact_lock) inside the "
        "transaction that needs it; a migration tool that needs a session lock runs over "
        "a direct connection",
    },
    "listen_notify": {
        "what": "LISTEN / UNLISTEN",
        "rewrite": "keep the listener on a direct (or session-mode) connection of its own; "
        "NOTIFY itself works through any pool mode",
    },
    "sql_prepare": {
        "what": "SQL PREPARE / EXECUTE / DEALLOCATE",
        "rewrite": "use the driver's protocol-level prepared statements with a pooler that "
        "tracks them (PgBouncer 1.21+ max_prepared_statements), or plain parameterised "
        "queries; SQL PREPARE lives on one server connection",
    },
    "with_hold_cursors": {
        "what": "DECLARE ... WITH HOLD cursors",
        "rewrite": "DECLARE the cursor without WITH HOLD and fetch inside one transaction, "
        "or page with keyset queries (WHERE id > last_id ORDER BY id LIMIT n)",
    },
    "temp_tables": {
        "what": "temporary tables that outlive the transaction",
        "rewrite": "CREATE TEMP TABLE ... ON COMMIT DROP inside the transaction that uses it "
        "(or a CTE / unlogged table)",
    },
    "user_variables": {
        "what": "user variables (@name)",
        "rewrite": "pass the value as a query parameter in each statement instead of a "
        "session variable (ProxySQL stops multiplexing the connection, RDS Proxy pins it)",
    },
    "get_lock": {
        "what": "GET_LOCK / RELEASE_LOCK named locks",
        "rewrite": "SELECT ... FOR UPDATE on a lock row inside the transaction, or run the "
        "locking job over a direct connection",
    },
}
UNCLASSIFIED = "unclassified"

# PostgreSQL's session-level advisory lock functions (the _xact_ forms end with the
# transaction and are safe under any pool mode).
PG_SESSION_LOCKS = frozenset(
    {
        "pg_advisory_lock",
        "pg_advisory_lock_shared",
        "pg_try_advisory_lock",
        "pg_try_advisory_lock_shared",
        "pg_advisory_unlock",
        "pg_advisory_unlock_shared",
        "pg_advisory_unlock_all",
    }
)
CURSOR_OPT_HOLD = 0x20  # parsenodes.h: DECLARE ... WITH HOLD
ONCOMMIT_DROP = 3  # primnodes.h OnCommitAction: ON COMMIT DROP


@dataclass(frozen=True)
class Classified:
    """The features a statement uses (empty: none); `unclassified` with the reason when
    the parser could not read it."""

    features: tuple[str, ...] = ()
    unclassified: str | None = None


def classify_pg(text: str) -> Classified:
    """The session features one PostgreSQL statement text (as pg_stat_statements keeps it)
    depends on."""
    from pglast import parse_sql
    from pglast.parser import ParseError

    try:
        statements = parse_sql(text)
    except ParseError as exc:
        return Classified(unclassified=f"the parser cannot read it ({str(exc)[:80]})")
    except Exception as exc:  # pglast's own errors for what libpg_query returns
        return Classified(unclassified=f"the parser cannot read it ({type(exc).__name__})")
    found: list[str] = []
    for raw in statements:
        for feature in _pg_statement(raw.stmt):
            if feature not in found:
                found.append(feature)
    return Classified(tuple(found))


def _pg_statement(stmt: Any) -> list[str]:
    from pglast import ast

    found: list[str] = []
    if isinstance(stmt, ast.VariableSetStmt) and not stmt.is_local:
        found.append("session_set")
    elif isinstance(stmt, (ast.ListenStmt, ast.UnlistenStmt)):
        found.append("listen_notify")
    elif isinstance(stmt, (ast.PrepareStmt, ast.ExecuteStmt, ast.DeallocateStmt)):
        found.append("sql_prepare")
    elif isinstance(stmt, ast.DeclareCursorStmt) and (stmt.options or 0) & CURSOR_OPT_HOLD:
        found.append("with_hold_cursors")
    elif isinstance(stmt, ast.CreateStmt) and _temp_kept(stmt.relation, stmt.oncommit):
        found.append("temp_tables")
    elif isinstance(stmt, ast.CreateTableAsStmt) and stmt.into is not None:
        if _temp_kept(stmt.into.rel, stmt.into.onCommit):
            found.append("temp_tables")
    for node in _walk(stmt):
        if isinstance(node, ast.IntoClause) and _temp_kept(node.rel, node.onCommit):
            if "temp_tables" not in found:
                found.append("temp_tables")
        if isinstance(node, ast.FuncCall):
            feature = _pg_function(node)
            if feature and feature not in found:
                found.append(feature)
    return found


def _temp_kept(relation: Any, oncommit: Any) -> bool:
    """A temporary relation that stays after COMMIT (not ON COMMIT DROP)."""
    return (
        relation is not None
        and relation.relpersistence == "t"
        and int(oncommit or 0) != ONCOMMIT_DROP
    )


def _pg_function(node: Any) -> str | None:
    from pglast import ast

    names = [getattr(n, "sval", None) for n in node.funcname or ()]
    if len(names) == 2 and names[0] != "pg_catalog":
        return None  # a function of another schema that only shares the name
    name = names[-1] if names else None
    if name in PG_SESSION_LOCKS:
        return "advisory_lock"
    if name == "set_config":
        args: list[Any] = list(node.args or ())
        last = args[2] if len(args) == 3 else None
        if isinstance(last, ast.A_Const) and isinstance(last.val, ast.Boolean):
            return None if last.val.boolval else "set_config"
        if isinstance(last, ast.TypeCast) and isinstance(last.arg, ast.A_Const):
            value = getattr(last.arg.val, "sval", None) or getattr(last.arg.val, "boolval", None)
            return None if str(value).lower() in ("t", "true", "on", "1") else "set_config"
        if isinstance(last, ast.ParamRef):
            return "set_config_normalised"  # pg_stat_statements replaced the constant
        return "set_config"  # an expression: it may be false (session-wide)
    return None


def _walk(node: Any) -> Any:
    """Every AST node below `node` (depth first)."""
    from pglast import ast

    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, (list, tuple)):
            stack.extend(current)
            continue
        if not isinstance(current, ast.Node):
            continue
        yield current
        for name in current:  # a Node iterates over its attribute names
            stack.append(getattr(current, name))


# --------------------------------------------------------------------------- MySQL


def classify_mysql(text: str) -> Classified:
    """The session features one MySQL/MariaDB digest text depends on (sqlglot, MySQL):
    user variables, named locks, temporary tables, SQL PREPARE. Session SET is left out:
    ProxySQL and RDS Proxy track the settings drivers send (autocommit, names, sql_mode)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    logging.getLogger("sqlglot").setLevel(logging.CRITICAL)  # no "falling back" chatter
    if text.rstrip().endswith("..."):
        return Classified(unclassified="cut short (performance_schema_max_digest_length)")
    # A digest writes a list of values as (...) and a user variable's name as @?: read them
    # as one value and a variable (they are placeholders, like ? for a constant).
    text = text.replace("(...)", "(?)").replace("@?", "@_v")
    # digests write @@GLOBAL.x as @@GLOBAL . `x`, which sqlglot does not read
    text = re.sub(r"@@(GLOBAL|SESSION|LOCAL) \. `(\w+)`", r"@@\1.\2", text)
    text = _mariadb_set_statement(text)
    try:
        parsed = sqlglot.parse(text, read="mysql")
    except SqlglotError as exc:
        return Classified(unclassified=f"the parser cannot read it ({type(exc).__name__})")
    except Exception as exc:  # a parser bug on a strange text: still not guessed at
        return Classified(unclassified=f"the parser cannot read it ({type(exc).__name__})")
    found: list[str] = []

    def add(feature: str) -> None:
        if feature not in found:
            found.append(feature)

    for tree in parsed:
        if tree is None:
            continue
        if isinstance(tree, exp.Command):
            word = str(tree.this).upper()
            if word in ("PREPARE", "EXECUTE", "DEALLOCATE"):
                add("sql_prepare")
            else:
                return Classified(unclassified=f"the parser reads only its first word ({word})")
        if isinstance(tree, exp.Create) and tree.kind == "TABLE":
            props = tree.args.get("properties")
            if props and any(isinstance(p, exp.TemporaryProperty) for p in props.expressions):
                add("temp_tables")
        for node in tree.walk():
            if isinstance(node, exp.Parameter):  # @name (@@name is a SessionParameter)
                add("user_variables")
            elif isinstance(node, exp.Anonymous) and node.name.upper() in (
                "GET_LOCK",
                "RELEASE_LOCK",
                "RELEASE_ALL_LOCKS",
                "IS_USED_LOCK",
            ):
                add("get_lock")
    return Classified(tuple(found))


def _mariadb_set_statement(text: str) -> str:
    """MariaDB's `SET STATEMENT var = value [, ...] FOR stmt`: the statement after FOR
    (its settings last for that one statement only); other texts as they are."""
    import sqlglot
    from sqlglot import TokenType

    try:
        tokens = sqlglot.tokenize(text, read="mysql")
    except Exception:
        return text
    if len(tokens) < 3 or tokens[0].token_type != TokenType.SET:
        return text
    if tokens[1].text.upper() != "STATEMENT":
        return text
    depth = 0
    for token in tokens[2:]:
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1
        elif token.token_type == TokenType.FOR and depth == 0:
            return text[token.end + 1 :]
    return text


# --------------------------------------------------------------------------- display

MAX_EXAMPLE = 200
STRING_TOKENS = frozenset({"SCONST", "USCONST", "BCONST", "XCONST"})
COMMENT_TOKENS = frozenset({"SQL_COMMENT", "C_COMMENT"})


def example_pg(text: str, limit: int = MAX_EXAMPLE) -> str:
    """A statement text fit to show: string literals replaced by '?' and comments dropped
    (found by PostgreSQL's own scanner, so a password in `ALTER ROLE ... PASSWORD '...'`
    never shows), one line, cut to `limit` characters. A text the scanner cannot read is
    not shown at all."""
    from pglast.parser import scan

    try:
        tokens = [(t.start, t.end + 1, t.name) for t in scan(text)]
    except Exception:
        return "(not shown: the scanner cannot read it)"
    return _rebuild(text, tokens, STRING_TOKENS, COMMENT_TOKENS, limit)


def example_mysql(text: str, limit: int = MAX_EXAMPLE) -> str:
    """A digest text fit to show: string literals replaced (digests normalise most of
    them to ? already), comments dropped, one line, cut to `limit` characters."""
    import sqlglot

    try:
        found = sqlglot.tokenize(text, read="mysql")
    except Exception:
        return "(not shown: the scanner cannot read it)"
    strings = frozenset({"STRING", "NATIONAL_STRING", "HEX_STRING", "BIT_STRING"})
    parts: list[tuple[int, int, str]] = []
    for t in found:
        start, end, name = t.start, t.end + 1, t.token_type.name
        if name in strings and text[start:end][:1] not in ("'", '"', "N", "n", "X", "x", "B", "b"):
            # not a literal: the rest of a statement sqlglot keeps as one Command string
            # (PREPARE `s` FROM ?), whose span it does not record: shown token by token
            start = text.find(t.text, parts[-1][1] if parts else 0)
            if start < 0 or t.text == text:
                return "(not shown: the scanner cannot read it)"
            end = start + len(t.text)
            parts.append((start, end, example_mysql(t.text, limit)))
        else:
            parts.append((start, end, "'?'" if name in strings else text[start:end]))
    return _join(parts, limit)


def _rebuild(
    text: str,
    tokens: list[tuple[int, int, str]],
    strings: frozenset[str],
    comments: frozenset[str],
    limit: int,
) -> str:
    """The tokens of `text`, comments dropped and strings as '?'."""
    return _join(
        [
            (start, end, "'?'" if name in strings else text[start:end])
            for start, end, name in tokens
            if name not in comments
        ],
        limit,
    )


def _join(parts: list[tuple[int, int, str]], limit: int) -> str:
    """Token texts with a single space where anything lay between two of them."""
    out, prev_end = [], None
    for start, end, shown in parts:
        if prev_end is not None and start > prev_end:
            out.append(" ")
        out.append(shown)
        prev_end = end
    return _one_line("".join(out), limit)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --------------------------------------------------------------------------- summary

MAX_UNCLASSIFIED_EXAMPLES = 5


def summarise(rows: list[dict[str, Any]], engine: str, max_query: int) -> dict[str, Any]:
    """Statements (role, database, calls, query, length) -> the session features the
    workload uses, in FEATURES order, each with its calls, roles, databases, the example
    with most calls and the rewrite; and what could not be classified. A text read cut
    (longer than `max_query`) is not classified: its end is unknown."""
    classify = classify_pg if engine == "postgresql" else classify_mysql
    example = example_pg if engine == "postgresql" else example_mysql
    features: dict[str, dict[str, Any]] = {}
    unclassified: dict[str, Any] = {"statements": 0, "calls": 0, "examples": []}
    hidden = 0
    for row in rows:
        query = str(row.get("query") or "")
        calls = int(row.get("calls") or 0)
        if query in ("<insufficient privilege>", ""):
            hidden += 1
            continue
        length = int(row.get("length") or len(query))
        result = (
            Classified(unclassified=f"longer than {max_query} characters: read cut")
            if length > max_query
            else classify(query)
        )
        if result.unclassified is not None:
            unclassified["statements"] += 1
            unclassified["calls"] += calls
            if len(unclassified["examples"]) < MAX_UNCLASSIFIED_EXAMPLES:
                unclassified["examples"].append(
                    {"example": example(query), "calls": calls, "why": result.unclassified}
                )
            continue
        for name in result.features:
            f = features.setdefault(
                name, {"calls": 0, "statements": 0, "roles": set(), "databases": set(), "top": -1}
            )
            f["calls"] += calls
            f["statements"] += 1
            if row.get("role") is not None:  # MySQL digests are not kept per account
                f["roles"].add(row["role"])
            f["databases"].add(row.get("database") or "?")
            if calls > f["top"]:
                f["top"], f["example"] = calls, example(query)
    session_features = [
        {
            "feature": name,
            "what": FEATURES[name]["what"],
            "calls": features[name]["calls"],
            "statements": features[name]["statements"],
            "roles": sorted(features[name]["roles"]),
            "databases": sorted(features[name]["databases"]),
            "example": features[name]["example"],
            "rewrite": FEATURES[name]["rewrite"],
        }
        for name in FEATURES
        if name in features
    ]
    return {
        "session_features": session_features,
        "unclassified": unclassified,
        "statements_read": len(rows),
        "statements_hidden": hidden,
    }
