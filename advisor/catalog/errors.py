"""Load the error signature catalog (catalog/errors.toml) and hold it to its schema.

The schema is declared below as data, like checks.py and stacks.py do. An entry that breaks
it stops the load with an error naming the file, the id and the field, so a typo cannot
reach `advisor explain`, a finding or a page. A signature's per-stack fix is the `fix` line
stacks.toml gives that stack for the signature's feature: it is looked up here, never
written twice. Pure data access and the standard library only: the browser tools run this
module under Pyodide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from .checks import DOCS_BASE
from .loader import load_toml
from .stacks import FEATURES, load_stacks, resolve

CATALOG_FILE = Path(__file__).parent / "errors.toml"

RAISERS = {
    "server": "the database server",
    "pooler": "the connection pooler",
    "driver": "the database driver",
    "orm": "the ORM",
    "provider": "the provider or the network path",
}
ENGINES = ("postgresql", "mysql")
ID_FORMAT = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+){1,8}")
DATE_FORMAT = re.compile(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]")
SQLSTATE_FORMAT = re.compile(r"[0-9A-Z]{5}")
# A pattern may not nest repetitions ((a+)+ and the like): a pasted log must cost one pass.
NESTED = re.compile(r"\([^()]*[+*}][^()]*\)[+*{]")
MAX_PATTERN = 200

Rule = Callable[[Any], "str | None"]


class CatalogError(ValueError):
    """The error catalog breaks the declared schema."""


def _fail(path: Path, where: str, problem: str) -> NoReturn:
    raise CatalogError(f"error catalog {path}: {where}: {problem}")


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    return "is empty" if not value.strip() else None


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("https://") and " " not in value:
        return None
    return f"must be an https:// address, not {value!r}"


def _date(value: Any) -> str | None:
    if isinstance(value, str) and DATE_FORMAT.fullmatch(value):
        return None
    return f"must be a date as a string, YYYY-MM-DD, not {value!r}"


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {value!r}"


def _one_of(allowed: Mapping[str, Any] | tuple[str, ...]) -> Rule:
    def rule(value: Any) -> str | None:
        return None if value in allowed else f"{value!r} is not one of: {', '.join(allowed)}"

    return rule


def _pattern(value: Any) -> str | None:
    if (problem := _text(value)) is not None:
        return problem
    if len(value) > MAX_PATTERN:
        return f"longer than {MAX_PATTERN} characters"
    if NESTED.search(value):
        return "nests a repetition inside a repeated group (slow on long input)"
    try:
        re.compile(value)
    except re.error as exc:
        return f"is not a regular expression: {exc}"
    return None


def _patterns(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of regular expressions"
    for item in value:
        if (problem := _pattern(item)) is not None:
            return f"item {item!r}: {problem}"
    return None


def _raised_by(value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != {"kind", "name"}:
        return "must be a table { kind, name }"
    return _one_of(RAISERS)(value["kind"]) or _text(value["name"])


def _stack_ref(value: Any) -> str | None:
    """A stack as `advisor stacks` names it: ID, or ORM+DRIVER."""
    if not isinstance(value, str):
        return f"must be a stack id, not {value!r}"
    try:
        stack_of(value)
    except ValueError as exc:
        return str(exc)
    return None


def _stacks(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list of stack ids"
    for item in value:
        if (problem := _stack_ref(item)) is not None:
            return f"item {item!r}: {problem}"
    return None


def _fixes(value: Any) -> str | None:
    if not isinstance(value, dict) or not value:
        return 'must be a table STACK = "fix"'
    for key, text in value.items():
        if (problem := _stack_ref(key) or _text(text)) is not None:
            return f"{key}: {problem}"
    return None


def _examples(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must list at least one recorded message"
    for item in value:
        if not isinstance(item, dict) or set(item) != {"text", "source"}:
            return "each example is a table { text, source }"
        if (problem := _text(item["text"]) or _url(item["source"])) is not None:
            return f"example {item.get('text')!r}: {problem}"
    return None


def _sqlstate(value: Any) -> str | None:
    if isinstance(value, str) and SQLSTATE_FORMAT.fullmatch(value):
        return None
    return f"must be a five-character SQLSTATE, not {value!r}"


REQUIRED: dict[str, Rule] = {
    "title": _text,
    "engine": _one_of(ENGINES),
    "patterns": _patterns,
    "raised_by": _raised_by,
    "cause": _text,
    "fix": _text,
    "source": _url,
    "checked": _date,
    "examples": _examples,
}
OPTIONAL: dict[str, Rule] = {
    "sqlstate": _sqlstate,
    "generic": _bool,
    "case_sensitive": _bool,
    "feature": _one_of(FEATURES),
    "stacks": _stacks,
    "fixes": _fixes,
    "stack": _stack_ref,
}


META = set(".^$*+?{}[]()|\\")


def needle(pattern: str) -> str | None:
    """The longest run of literal text every match of `pattern` contains, lower-cased (a
    quick `in` test before the regular expression runs), or None when there is none of 3+
    characters. Text inside groups and classes, optional characters and escapes such as
    \\b or \\d end a run; a `|` outside any group means no run is certain."""
    runs, run, depth, i = [], "", 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if depth == 0 and not nxt.isalnum():
                run += nxt
            elif depth == 0:
                runs.append(run)
                run = ""
            i += 2
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif depth == 0 and c == "|":
            return None
        if depth == 0 and c not in META:
            run += c
        elif depth == 0 or c in "([":
            if c in "*?{" and run:
                run = run[:-1]  # the character before is optional (or counted)
            runs.append(run)
            run = ""
        i += 1
    runs.append(run)
    best = max(runs, key=len)
    return best.lower() if len(best) >= 3 else None


def stack_of(ref: str) -> Any:
    """The catalog stack a reference names (ID or ORM+DRIVER); ValueError otherwise."""
    stacks = load_stacks()
    orm, plus, driver = ref.partition("+")
    if plus:
        return resolve(orm, driver)
    entry = stacks.get(ref)
    if entry is None:
        raise ValueError(f"unknown stack {ref!r}; `advisor stacks` lists them")
    return resolve(ref) if entry["kind"] == "orm" else resolve(driver=ref)


def _stack_fixes(path: Path, error_id: str, entry: dict[str, Any]) -> dict[str, str]:
    """stack reference -> fix line: stacks.toml's for the feature, then `fixes`."""
    out: dict[str, str] = {}
    if "stacks" in entry and "feature" not in entry:
        _fail(path, f"{error_id}.stacks", "needs `feature`: the fix lines are that feature's")
    for ref in entry.get("stacks", []):
        fix = stack_of(ref).features.get(entry["feature"], {}).get("fix")
        if not fix:
            _fail(
                path,
                f"{error_id}.stacks",
                f"{ref} has no fix line for {entry['feature']} in stacks.toml; give it in `fixes`",
            )
        out[ref] = fix
    out.update(entry.get("fixes", {}))
    return out


def _entry(path: Path, error_id: str, entry: object) -> dict[str, Any]:
    if not ID_FORMAT.fullmatch(error_id):
        _fail(path, error_id, f"an id is lowercase words joined by '-' ({ID_FORMAT.pattern})")
    if not isinstance(entry, dict):
        _fail(path, error_id, "must be a table")
    for field in REQUIRED:
        if field not in entry:
            _fail(path, f"{error_id}.{field}", "missing (required)")
    for field, value in entry.items():
        rule = REQUIRED.get(field, OPTIONAL.get(field))
        if rule is None:
            _fail(
                path,
                f"{error_id}.{field}",
                f"unknown field (known: {', '.join([*REQUIRED, *OPTIONAL])})",
            )
        if (problem := rule(value)) is not None:
            _fail(path, f"{error_id}.{field}", problem)
    flags = re.MULTILINE | (0 if entry.get("case_sensitive") else re.IGNORECASE)
    compiled = [re.compile(p, flags) for p in entry["patterns"]]
    for example in entry["examples"]:
        if not any(c.search(example["text"]) for c in compiled):
            _fail(path, f"{error_id}.examples", f"{example['text']!r} matches none of the patterns")
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in entry.items()}
    out["id"] = error_id
    out["compiled"] = compiled
    out["needles"] = [needle(p) for p in entry["patterns"]]
    out["stack_fixes"] = _stack_fixes(path, error_id, entry)
    out["docs_url"] = docs_url(error_id)
    out.setdefault("generic", False)
    return out


def read_errors(path: Path) -> dict[str, dict[str, Any]]:
    """id -> signature for the catalog file at `path`, validated (file order)."""
    data = load_toml(path)
    if data.get("schema_version") != 1:
        _fail(path, "schema_version", f"unsupported: {data.get('schema_version')!r} (expected 1)")
    unknown = set(data) - {"schema_version", "errors"}
    if unknown:
        _fail(path, sorted(unknown)[0], "unknown top-level key (known: schema_version, errors)")
    raw = data.get("errors")
    if not isinstance(raw, dict) or not raw:
        _fail(path, "errors", "no [errors.ID] tables")
    return {error_id: _entry(path, error_id, entry) for error_id, entry in raw.items()}


@lru_cache(maxsize=1)
def load_errors() -> dict[str, dict[str, Any]]:
    """The package's error catalog (read once per process; treat it as read-only)."""
    return read_errors(CATALOG_FILE)


def docs_url(error_id: str) -> str:
    return f"{DOCS_BASE}errors/{error_id}/"
