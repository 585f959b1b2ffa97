"""Load the stack catalog (catalog/stacks.toml: drivers and ORMs) and resolve a stack.

The schema is declared below as data. An entry that breaks it stops the load with an error
naming the file, the id and the field, so a typo cannot reach a report or a page. Pure data
access and the standard library only: the browser tools run this module under Pyodide.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NoReturn

from .loader import load_toml

CATALOG_FILE = Path(__file__).parent / "stacks.toml"

KINDS = ("driver", "orm")
ENGINES = ("postgresql", "mysql")
LANGUAGES = {
    "python": "Python",
    "javascript": "JavaScript / TypeScript",
    "go": "Go",
    "java": "Java",
    "dotnet": ".NET",
    "ruby": "Ruby",
    "php": "PHP",
    "elixir": "Elixir",
}
USAGES = {
    "default": "uses it by default",
    "conditional": "uses it only when the code asks",
    "never": "does not use it on its own",
}
# Where a package is named: `npm:pg`, `pypi:asyncpg`, `go:github.com/jackc/pgx/v5`, ...
ECOSYSTEMS = ("npm", "pypi", "gem", "go", "composer", "hex", "maven", "nuget")
# A pool size is a number of connections per process, or one of these (cpus = CPU count).
POOL_FORMULAS: dict[str, Callable[[int], int | None]] = {
    "2*cpus+1": lambda cpus: 2 * cpus + 1,
    "max(4,cpus)": lambda cpus: max(4, cpus),
    "unlimited": lambda cpus: None,
}
# Startup parameters a stack may send, and whether PgBouncer accepts them out of the box
# (it tracks these per client; any other is refused unless ignore_startup_parameters lists
# it, and `options` only carries -c settings of tracked parameters).
STARTUP_PARAMETERS = {
    "client_encoding": True,
    "DateStyle": True,
    "TimeZone": True,
    "standard_conforming_strings": True,
    "application_name": True,
    "IntervalStyle": True,  # PgBouncer's default track_extra_parameters
    "options": False,
    "search_path": False,
    "extra_float_digits": False,
    "statement_timeout": False,
    "lock_timeout": False,
    "idle_in_transaction_session_timeout": False,
}
# The session features that decide whether a stack works through a pooler. `fields` are the
# extra fields a feature table may hold; `fix` is what to do in code when the pool cannot
# keep the feature and the stack has no setting of its own.
FEATURES: dict[str, dict[str, Any]] = {
    "protocol_prepared_statements": {
        "engines": ("postgresql",),
        "title": "Protocol-level prepared statements",
        "what": "A named statement lives in one server session: through a transaction pool the next transaction may run on a server connection where the name is missing ('does not exist') or taken by another client ('already exists').",
        "fix": "Turn the driver's named statements off, or use a pool that keeps them (PgBouncer 1.21+ with max_prepared_statements > 0).",
        "fields": ("when_kept", "works_when_kept", "names"),
    },
    "sql_prepare": {
        "engines": ("postgresql",),
        "title": "SQL PREPARE / EXECUTE",
        "what": "Statements prepared with SQL PREPARE are session state no transaction pool keeps: PgBouncer's max_prepared_statements covers only the protocol messages.",
        "fix": "Prepare and execute inside one transaction, or use the driver's protocol-level statements.",
        "fields": (),
    },
    "session_set": {
        "engines": ("postgresql", "mysql"),
        "title": "Session SET",
        "what": "A session-level SET stays on the server connection: through a transaction pool it is lost for the next transaction and leaks to other clients. PgBouncer re-applies the parameters it tracks (client_encoding, DateStyle, TimeZone, standard_conforming_strings, application_name, track_extra_parameters).",
        "fix": "SET LOCAL inside the transaction, or ALTER ROLE ... SET for a value every client shares.",
        "fields": ("settings", "settings_conditional"),
    },
    "advisory_lock": {
        "engines": ("postgresql",),
        "title": "Session advisory locks",
        "what": "pg_advisory_lock belongs to the server session: through a transaction pool the unlock runs elsewhere and the lock stays held, so the next migration waits for it.",
        "fix": "pg_advisory_xact_lock inside a transaction, or take session locks over the direct URL.",
        "fields": (),
    },
    "listen_notify": {
        "engines": ("postgresql",),
        "title": "LISTEN / NOTIFY",
        "what": "LISTEN registers the server session: once the transaction ends the client is elsewhere and receives nothing, without an error.",
        "fix": "LISTEN over the direct URL or a session-mode pool.",
        "fields": (),
    },
    "with_hold_cursors": {
        "engines": ("postgresql",),
        "title": "WITH HOLD cursors",
        "what": "A cursor declared WITH HOLD outlives its transaction in that server session only: the next FETCH lands elsewhere ('cursor ... does not exist').",
        "fix": "Fetch inside one transaction, or turn server-side cursors off.",
        "fields": ("names",),
    },
    "temp_tables": {
        "engines": ("postgresql", "mysql"),
        "title": "Temporary tables",
        "what": "A temporary table belongs to the server session; ProxySQL stops multiplexing a connection that created one.",
        "fix": "CREATE TEMP TABLE ... ON COMMIT DROP inside one transaction.",
        "fields": (),
    },
    "startup_parameters": {
        "engines": ("postgresql",),
        "title": "Startup parameters",
        "what": "PgBouncer refuses a startup parameter it does not track ('unsupported startup parameter: NAME') unless ignore_startup_parameters lists it, which then drops it silently.",
        "fix": "Set the value per role or database (ALTER ROLE ... SET) instead of in the URL.",
        "fields": ("params", "params_conditional"),
    },
    "server_prepared_statements": {
        "engines": ("mysql",),
        "title": "Server-side prepared statements (MySQL)",
        "what": "COM_STMT_PREPARE creates a statement in the server session, which a proxy must track or pin to one server connection.",
        "fix": "Use the text protocol (client-side interpolation).",
        "fields": (),
    },
    "user_variables": {
        "engines": ("mysql",),
        "title": "User variables (@var)",
        "what": "User variables are session state; ProxySQL stops multiplexing a connection that set one.",
        "fix": "Keep the value in the application instead of @variables.",
        "fields": (),
    },
    "get_lock": {
        "engines": ("mysql",),
        "title": "GET_LOCK()",
        "what": "Named locks belong to the session; ProxySQL stops multiplexing a connection that holds one.",
        "fix": "Lock with a row in a table, or over a connection kept for the whole session.",
        "fields": (),
    },
}
FEATURE_ORDER = tuple(FEATURES)
# How a pooled path treats prepared statements, in the order `advisor stacks ID` explains them.
POOL_CASES = {
    "session": "direct, or a session-mode pool",
    "not_kept": "a transaction or statement pool that does not keep prepared statements (PgBouncer < 1.21, max_prepared_statements = 0 as on Azure, Supavisor transaction mode)",
    "kept": "PgBouncer 1.21+ with max_prepared_statements > 0 (200 by default since 1.24)",
}

ID_FORMAT = re.compile(r"[a-z][a-z0-9.-]{1,30}")
DATE_FORMAT = re.compile(r"20[0-9]{2}-[01][0-9]-[0-3][0-9]")
VERSION_FORMAT = re.compile(r"[0-9]+(\.[0-9]+)*")
SETTING_FORMAT = re.compile(r"[A-Za-z_][A-Za-z0-9_ ]{0,60}")

Rule = type | tuple[str, ...] | Callable[[Any], "str | None"]


class CatalogError(ValueError):
    """The stack catalog breaks the declared schema."""


def _fail(path: Path, where: str, problem: str) -> NoReturn:
    raise CatalogError(f"stack catalog {path}: {where}: {problem}")


# --------------------------------------------------------------------------- value rules
# Each returns a problem (one phrase) or None.


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, not {type(value).__name__}"
    return "is empty" if not value.strip() else None


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, not {value!r}"


def _date(value: Any) -> str | None:
    if isinstance(value, str) and DATE_FORMAT.fullmatch(value):
        return None
    return f"must be a date as a string, YYYY-MM-DD, not {value!r}"


def _url(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("https://") and " " not in value:
        return None
    return f"must be an https:// address, not {value!r}"


def _table(value: Any) -> str | None:
    return None if isinstance(value, dict) else f"must be a table, not {type(value).__name__}"


def _list_of(check: Callable[[Any], str | None]) -> Callable[[Any], str | None]:
    def rule(value: Any) -> str | None:
        if not isinstance(value, list):
            return f"must be a list, not {type(value).__name__}"
        for item in value:
            if (problem := check(item)) is not None:
                return f"item {item!r}: {problem}"
        return None

    return rule


def _one_of(allowed: tuple[str, ...] | dict[str, Any]) -> Callable[[Any], str | None]:
    def rule(value: Any) -> str | None:
        return None if value in allowed else f"{value!r} is not one of: {', '.join(allowed)}"

    return rule


def _engines(value: Any) -> str | None:
    if isinstance(value, list) and not value:
        return "lists no engine"
    return _list_of(_one_of(ENGINES))(value)


def _package(value: Any) -> str | None:
    if not isinstance(value, str) or ":" not in value:
        return f"must be ECOSYSTEM:NAME, e.g. npm:pg, not {value!r}"
    eco, _, name = value.partition(":")
    if eco not in ECOSYSTEMS:
        return f"ecosystem {eco!r} is not one of: {', '.join(ECOSYSTEMS)}"
    return None if name.strip() and " " not in name else f"no package name in {value!r}"


def _stack_id(value: Any) -> str | None:
    if isinstance(value, str) and ID_FORMAT.fullmatch(value):
        return None
    return f"an id is {ID_FORMAT.pattern}, not {value!r}"


def _pool_size(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return None
    if value in POOL_FORMULAS:
        return None
    return f"must be a number of connections (1 or more) or one of: {', '.join(POOL_FORMULAS)}"


def _version(value: Any) -> str | None:
    if isinstance(value, str) and VERSION_FORMAT.fullmatch(value):
        return None
    return f'must be a version as a string, e.g. "7" or "2.1", not {value!r}'


def _setting(value: Any) -> str | None:
    if isinstance(value, str) and SETTING_FORMAT.fullmatch(value):
        return None
    return f"must be a setting name, not {value!r}"


def _startup(value: Any) -> str | None:
    return _one_of(STARTUP_PARAMETERS)(value)


def _safe_option(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a table { name, values, in_url }"
    if set(value) != {"name", "values", "in_url"}:
        return f"holds {', '.join(sorted(value))}; it must hold exactly name, values, in_url"
    return (
        _text(value["name"])
        or _list_of(_text)(value["values"])
        or (None if value["values"] else "values is empty")
        or _bool(value["in_url"])
    )


FACT: dict[str, Rule] = {"source": _url, "checked": _date, "verified": _bool, "note": _text}
ENTRY_REQUIRED: dict[str, Rule] = {
    "kind": KINDS,
    "name": _text,
    "language": tuple(LANGUAGES),
    "engines": _engines,
    "summary": _text,
    "source": _url,
    "checked": _date,
    "verified": _bool,
}
ENTRY_OPTIONAL: dict[str, Rule] = {
    "note": _text,
    "packages": _list_of(_package),
    "pool": _table,
    "features": _table,
    "never": _list_of(_one_of(FEATURES)),
}
# Only an ORM names the drivers it sits on; `default_driver` and `drivers` are required.
ORM_FIELDS: dict[str, Rule] = {
    "default_driver": _stack_id,
    "drivers": _list_of(_stack_id),
    "since": _list_of(_table),
    "adapter_packages": _table,
    "on": _table,
}
POOL_REQUIRED: dict[str, Rule] = {"size": _pool_size, "setting": _text}
POOL_OPTIONAL: dict[str, Rule] = {"detail": _text, **FACT}
FEATURE_REQUIRED: dict[str, Rule] = {"usage": tuple(USAGES), "detail": _text}
FEATURE_OPTIONAL: dict[str, Rule] = {
    "trigger": _text,
    "errors": _list_of(_text),
    "fix": _text,
    "safe_options": _list_of(_safe_option),
    "when_kept": _text,
    "works_when_kept": _bool,
    "settings": _list_of(_setting),
    "settings_conditional": _list_of(_setting),
    "params": _list_of(_startup),
    "params_conditional": _list_of(_startup),
    # Whether two processes pick the same names (a counter from 0: "shared", the default)
    # or never do ("unique", e.g. random): behind ONE server connection only shared names
    # collide, since nothing can go missing there.
    "names": ("shared", "unique"),
    **FACT,
}
# Fields FEATURE_OPTIONAL lists that only some features may hold (FEATURES[...]["fields"]).
FEATURE_SPECIFIC = {field for spec in FEATURES.values() for field in spec["fields"]}
SINCE_REQUIRED: dict[str, Rule] = {"version": _version, "default_driver": _stack_id}
SINCE_OPTIONAL: dict[str, Rule] = {"drivers": _list_of(_stack_id), "note": _text}
# What `never` stands for: the driver sends no such SQL of its own.
NEVER_DETAIL = "Does not use it on its own; only SQL your code writes would."


def _check_table(
    path: Path,
    where: str,
    table: object,
    required: Mapping[str, Rule],
    optional: Mapping[str, Rule],
) -> dict[str, Any]:
    if not isinstance(table, dict):
        _fail(path, where, "must be a table")
    for field in required:
        if field not in table:
            _fail(path, f"{where}.{field}", "missing (required)")
    for field, value in table.items():
        rule = required.get(field, optional.get(field))
        if rule is None:
            known = ", ".join([*required, *optional])
            _fail(path, f"{where}.{field}", f"unknown field (known: {known})")
        if isinstance(rule, tuple):
            problem = None if value in rule else f"{value!r} is not one of: {', '.join(rule)}"
        elif isinstance(rule, type):
            problem = None if isinstance(value, rule) else f"must be a {rule.__name__}"
        else:
            problem = rule(value)
        if problem is not None:
            _fail(path, f"{where}.{field}", problem)
    return table


def _startup_usage(params: list[str], conditional: list[str]) -> str:
    """The usage a startup_parameters table must declare: whether a parameter PgBouncer
    refuses is sent always, only when configured, or never."""
    if any(not STARTUP_PARAMETERS[p] for p in params):
        return "default"
    if any(not STARTUP_PARAMETERS[p] for p in conditional):
        return "conditional"
    return "never"


def _check_feature(path: Path, where: str, name: str, table: object, engines: list[str]) -> None:
    if name not in FEATURES:
        _fail(path, where, f"unknown feature (known: {', '.join(FEATURES)})")
    spec = FEATURES[name]
    allowed = {
        k: v
        for k, v in FEATURE_OPTIONAL.items()
        if k not in FEATURE_SPECIFIC or k in spec["fields"]
    }
    feature = _check_table(path, where, table, FEATURE_REQUIRED, allowed)
    if not set(spec["engines"]) & set(engines):
        _fail(path, where, f"applies to {'/'.join(spec['engines'])}, not to {'/'.join(engines)}")
    if feature["usage"] == "conditional" and "trigger" not in feature:
        _fail(path, f"{where}.trigger", "missing (required when usage is conditional)")
    if ("when_kept" in feature) != ("works_when_kept" in feature):
        _fail(path, where, "when_kept and works_when_kept go together")
    if name == "startup_parameters":
        for field in ("params", "params_conditional"):
            if field not in feature:
                _fail(path, f"{where}.{field}", "missing (required for startup_parameters)")
        expected = _startup_usage(feature["params"], feature["params_conditional"])
        if feature["usage"] != expected:
            _fail(path, f"{where}.usage", f"{feature['usage']!r} contradicts params: {expected!r}")


def _facts(table: dict[str, Any], entry: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """A copy with source/checked/verified defaulting to the entry's, and its origin."""
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in table.items()}
    for field in ("source", "checked", "verified"):
        out.setdefault(field, entry[field])
    out["origin"] = origin
    return out


def _features(
    path: Path, where: str, raw: object, entry: dict[str, Any], origin: str
) -> dict[str, Any]:
    features: dict[str, Any] = {}
    for name, table in _check_table(path, where, raw, {}, dict.fromkeys(FEATURES, _table)).items():
        _check_feature(path, f"{where}.{name}", name, table, entry["engines"])
        features[name] = _facts(table, entry, origin)
    return features


def _applicable(engines: list[str]) -> list[str]:
    return [n for n, spec in FEATURES.items() if set(spec["engines"]) & set(engines)]


def _entry(path: Path, stack_id: str, raw: object) -> dict[str, Any]:
    if (problem := _stack_id(stack_id)) is not None:
        _fail(path, stack_id, problem)
    if not isinstance(raw, dict):
        _fail(path, stack_id, "must be a table ([stacks.ID] followed by its fields)")
    is_orm = raw.get("kind") == "orm"
    required = {**ENTRY_REQUIRED, **({"pool": _table} if not is_orm else {})}
    if is_orm:
        required |= {k: ORM_FIELDS[k] for k in ("default_driver", "drivers")}
    optional = {**ENTRY_OPTIONAL, **(ORM_FIELDS if is_orm else {})}
    entry = dict(_check_table(path, stack_id, raw, required, optional))
    entry["id"] = stack_id
    entry.setdefault("packages", [])
    features = _features(path, f"{stack_id}.features", entry.get("features", {}), entry, stack_id)
    for name in entry.pop("never", []):
        where = f"{stack_id}.never"
        if name in features:
            _fail(path, where, f"{name} is also described in {stack_id}.features.{name}")
        if name not in _applicable(entry["engines"]):
            _fail(path, where, f"{name} does not apply to {'/'.join(entry['engines'])}")
        features[name] = _facts({"usage": "never", "detail": NEVER_DETAIL}, entry, stack_id)
    if not is_orm:
        missing = [n for n in _applicable(entry["engines"]) if n not in features]
        if missing:
            _fail(
                path,
                f"{stack_id}.features",
                f"a driver describes every feature or lists it in never; missing: {', '.join(missing)}",
            )
    entry["features"] = {n: features[n] for n in FEATURE_ORDER if n in features}
    if "pool" in entry:
        pool = _check_table(path, f"{stack_id}.pool", entry["pool"], POOL_REQUIRED, POOL_OPTIONAL)
        entry["pool"] = _facts(pool, entry, stack_id)
    if is_orm:
        entry["since"] = sorted(
            (
                dict(
                    _check_table(path, f"{stack_id}.since[{i}]", s, SINCE_REQUIRED, SINCE_OPTIONAL)
                )
                for i, s in enumerate(entry.get("since", []))
            ),
            key=lambda s: version_key(s["version"]),
        )
        entry.setdefault("adapter_packages", {})
        on: dict[str, Any] = {}
        for driver, table in entry.get("on", {}).items():
            where = f"{stack_id}.on.{driver}"
            inner = _check_table(path, where, table, {"features": _table}, {})
            on[driver] = {
                "features": _features(
                    path, f"{where}.features", inner["features"], entry, f"{stack_id}+{driver}"
                )
            }
        entry["on"] = on
    return {k: (v.strip() if isinstance(v, str) else v) for k, v in entry.items()}


def _check_links(path: Path, stacks: dict[str, dict[str, Any]]) -> None:
    """What one entry says of another: ORMs sit on drivers that exist and share an engine."""
    owner: dict[str, str] = {}
    for stack_id, entry in stacks.items():
        for package in entry["packages"]:
            if package in owner:
                _fail(path, f"{stack_id}.packages", f"{package} already names {owner[package]}")
            owner[package] = stack_id
        if entry["kind"] != "orm":
            continue

        def driver(where: str, driver_id: str, orm: dict[str, Any] = entry) -> None:
            target = stacks.get(driver_id)
            if target is None or target["kind"] != "driver":
                _fail(path, where, f"{driver_id!r} is not a driver in the catalog")
            if not set(target["engines"]) & set(orm["engines"]):
                _fail(path, where, f"{driver_id} shares no engine with {orm['id']}")

        for d in entry["drivers"]:
            driver(f"{stack_id}.drivers", d)
        if entry["default_driver"] not in entry["drivers"]:
            _fail(
                path, f"{stack_id}.default_driver", f"{entry['default_driver']!r} is not in drivers"
            )
        for i, since in enumerate(entry["since"]):
            allowed = since.get("drivers", entry["drivers"])
            for d in allowed:
                driver(f"{stack_id}.since[{i}].drivers", d)
            if since["default_driver"] not in allowed:
                _fail(
                    path,
                    f"{stack_id}.since[{i}].default_driver",
                    f"{since['default_driver']!r} is not among its drivers",
                )
        for package, d in entry["adapter_packages"].items():
            if (problem := _package(package)) is not None:
                _fail(path, f"{stack_id}.adapter_packages", problem)
            if d not in entry["drivers"]:
                _fail(path, f"{stack_id}.adapter_packages.{package}", f"{d!r} is not in drivers")
        for d in entry["on"]:
            if d not in entry["drivers"]:
                _fail(path, f"{stack_id}.on.{d}", "not one of the ORM's drivers")


def read_stacks(path: Path) -> dict[str, dict[str, Any]]:
    """id -> entry for every [stacks.ID] in `path`, validated, in file order.

    Entries get `id`; features listed in `never` become feature tables; every feature and
    the pool get source/checked/verified (the entry's unless their own) and `origin`.
    """
    data = load_toml(path)
    if data.get("schema_version") != 1:
        _fail(path, "schema_version", f"unsupported: {data.get('schema_version')!r} (expected 1)")
    unknown = set(data) - {"schema_version", "stacks"}
    if unknown:
        _fail(path, sorted(unknown)[0], "unknown top-level key (known: schema_version, stacks)")
    raw = data.get("stacks")
    if not isinstance(raw, dict) or not raw:
        _fail(path, "stacks", "no [stacks.ID] tables")
    stacks = {stack_id: _entry(path, stack_id, entry) for stack_id, entry in raw.items()}
    _check_links(path, stacks)
    return stacks


@lru_cache(maxsize=1)
def load_stacks() -> dict[str, dict[str, Any]]:
    """The package's stack catalog (read once per process; treat it as read-only)."""
    return read_stacks(CATALOG_FILE)


def version_key(version: str) -> tuple[int, ...]:
    """ "7.2.0" -> (7, 2, 0); ValueError (one line) for anything else."""
    if not VERSION_FORMAT.fullmatch(version.strip()):
        raise ValueError(f"not a version number: {version!r}")
    return tuple(int(part) for part in version.strip().split("."))


def pool_size(pool: Mapping[str, Any], cpus: int = 1) -> int | None:
    """Connections per process for a pool table; None when there is no limit."""
    size = pool["size"]
    return size if isinstance(size, int) else POOL_FORMULAS[size](cpus)


# --------------------------------------------------------------------------- stacks


@dataclass(frozen=True)
class Stack:
    """A driver, with the ORM on top of it if any: what the application runs."""

    driver: Mapping[str, Any]
    orm: Mapping[str, Any] | None
    version: str | None
    engines: tuple[str, ...]
    features: Mapping[str, Mapping[str, Any]]
    pool: Mapping[str, Any]

    @property
    def id(self) -> str:
        return f"{self.orm['id']}+{self.driver['id']}" if self.orm else str(self.driver["id"])

    @property
    def name(self) -> str:
        if self.orm is None:
            return str(self.driver["name"])
        version = f" {self.version}" if self.version else ""
        return f"{self.orm['name']}{version} on {self.driver['name']}"


def orm_rules(orm: Mapping[str, Any], version: str | None) -> tuple[str, list[str]]:
    """(default driver, drivers) of an ORM at a version: the last `since` at or below it."""
    default, drivers = orm["default_driver"], list(orm["drivers"])
    if version is not None:
        wanted = version_key(version)
        for since in orm["since"]:
            if version_key(since["version"]) <= wanted:
                default = since["default_driver"]
                drivers = list(since.get("drivers", orm["drivers"]))
    return default, drivers


def resolve(
    orm: str | None = None,
    driver: str | None = None,
    version: str | None = None,
    *,
    catalog: Mapping[str, Mapping[str, Any]] | None = None,
) -> Stack:
    """The stack for an ORM and/or a driver; ValueError with a one-line message.

    An ORM alone gets its default driver (at `version`, when given). A driver id given as
    the ORM (--orm node-postgres) means that driver without an ORM.
    """
    stacks = load_stacks() if catalog is None else catalog
    if orm is None and driver is None:
        raise ValueError("name an ORM or a driver")
    if version is not None:
        version_key(version)  # one line for a bad version, whatever is asked
    orm_entry = None
    if orm is not None:
        orm_entry = stacks.get(orm)
        if orm_entry is None:
            raise ValueError(f"unknown ORM {orm!r}; `advisor stacks` lists them")
        if orm_entry["kind"] == "driver":
            if driver is not None and driver != orm:
                raise ValueError(f"{orm} is a driver, not an ORM: it cannot sit on {driver}")
            driver, orm_entry = orm, None
    if driver is not None:
        if driver not in stacks:
            raise ValueError(f"unknown driver {driver!r}; `advisor stacks` lists them")
        if stacks[driver]["kind"] != "driver":
            raise ValueError(f"{driver} is an ORM, not a driver: give it as the ORM")
    if orm_entry is None:
        assert driver is not None
        entry = stacks[driver]
        return Stack(
            driver=entry,
            orm=None,
            version=version,
            engines=tuple(entry["engines"]),
            features=dict(entry["features"]),
            pool=entry["pool"],
        )
    default, drivers = orm_rules(orm_entry, version)
    driver_id = driver or default
    if driver_id not in drivers:
        at = f" {version}" if version else ""
        raise ValueError(
            f"{orm_entry['name']}{at} does not run on {driver_id}; it runs on {', '.join(drivers)}"
        )
    driver_entry = stacks[driver_id]
    engines = tuple(e for e in orm_entry["engines"] if e in driver_entry["engines"])
    merged = {
        **driver_entry["features"],
        **orm_entry["features"],
        **orm_entry["on"].get(driver_id, {}).get("features", {}),
    }
    features = {
        n: merged[n]
        for n in FEATURE_ORDER
        if n in merged and set(FEATURES[n]["engines"]) & set(engines)
    }
    return Stack(
        driver=driver_entry,
        orm=orm_entry,
        version=version,
        engines=engines,
        features=features,
        pool=orm_entry.get("pool", driver_entry["pool"]),
    )


def named(orm: str | None, driver: str | None, prisma_version: int | None = None) -> Stack:
    """resolve() for what a command line or targets file names: --prisma-version is the
    version of the Prisma ORM only. ValueError with a one-line message."""
    version = str(prisma_version) if orm == "prisma" and prisma_version else None
    return resolve(orm, driver, version)


def ids(kind: str | None = None) -> list[str]:
    """Catalog ids in file order, of one kind if given."""
    return [i for i, e in load_stacks().items() if kind is None or e["kind"] == kind]
