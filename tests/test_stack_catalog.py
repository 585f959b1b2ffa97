"""The stack catalog (advisor/catalog/stacks.toml): its schema, its content, resolve(), and
`advisor stacks` as a user runs it."""

from __future__ import annotations

import json

import pytest

from advisor.catalog.stacks import (
    FEATURES,
    CatalogError,
    load_stacks,
    pool_size,
    read_stacks,
    resolve,
)
from advisor.options import ORMS
from tests.support.cli import run_advisor

# The ids issue 17 asks for, besides what the catalog adds.
DRIVER_IDS = [
    "asyncpg",
    "psycopg",
    "psycopg2",
    "node-postgres",
    "postgres.js",
    "pgx",
    "database-sql",
    "pgjdbc",
    "npgsql",
    "pdo-pgsql",
    "postgrex",
    "mysql2",
    "pymysql",
    "mysqlclient",
]
ORM_IDS = [
    "prisma",
    "drizzle",
    "sqlalchemy",
    "django",
    "rails",
    "kysely",
    "typeorm",
    "sequelize",
    "knex",
    "hibernate",
    "laravel",
    "ecto",
]


@pytest.fixture(autouse=True)
def no_parse_cache(monkeypatch):
    """Every test file is parsed for real (the JSON cache is tested in test_catalog_loader)."""
    monkeypatch.setenv("ADVISOR_NO_CACHE", "1")


# --------------------------------------------------------------------------- content


def test_every_required_id_exists_with_its_kind():
    stacks = load_stacks()
    assert {i: stacks[i]["kind"] for i in DRIVER_IDS if i in stacks} == dict.fromkeys(
        DRIVER_IDS, "driver"
    )
    assert {i: stacks[i]["kind"] for i in ORM_IDS if i in stacks} == dict.fromkeys(ORM_IDS, "orm")


def test_every_fact_has_a_source_a_checked_date_and_a_verified_flag():
    for stack_id, entry in load_stacks().items():
        tables = [("entry", entry), *entry["features"].items()]
        tables += [("pool", entry["pool"])] if "pool" in entry else []
        for driver, on in entry.get("on", {}).items():
            tables += [(f"on.{driver}.{n}", f) for n, f in on["features"].items()]
        for what, table in tables:
            assert table["source"].startswith("https://"), (stack_id, what)
            assert len(table["checked"]) == 10 and table["checked"].startswith("20"), (
                stack_id,
                what,
            )
            assert isinstance(table["verified"], bool), (stack_id, what)


def test_every_driver_says_how_it_uses_every_feature_of_its_engines():
    for stack_id, entry in load_stacks().items():
        if entry["kind"] != "driver":
            continue
        wanted = {n for n, s in FEATURES.items() if set(s["engines"]) & set(entry["engines"])}
        assert set(entry["features"]) == wanted, stack_id


def test_every_orm_sits_on_drivers_that_exist():
    stacks = load_stacks()
    for stack_id, entry in stacks.items():
        if entry["kind"] != "orm":
            continue
        assert entry["default_driver"] in entry["drivers"], stack_id
        for d in [*entry["drivers"], *(s["default_driver"] for s in entry["since"])]:
            assert stacks[d]["kind"] == "driver", (stack_id, d)
        assert resolve(stack_id).driver["id"] == entry["default_driver"]


@pytest.mark.parametrize(
    "stack, feature, error",
    [
        ("prisma-engine", "protocol_prepared_statements", 'prepared statement "s0" already exists'),
        (
            "asyncpg",
            "protocol_prepared_statements",
            'prepared statement "__asyncpg_stmt_1__" already exists',
        ),
        ("psycopg", "protocol_prepared_statements", 'prepared statement "_pg3_0" does not exist'),
        ("rails", "protocol_prepared_statements", "PG::DuplicatePstatement"),
        (
            "pdo-pgsql",
            "protocol_prepared_statements",
            'prepared statement "pdo_stmt_00000001" does not exist',
        ),
        ("pgjdbc", "protocol_prepared_statements", 'prepared statement "S_1" already exists'),
        ("pgx", "protocol_prepared_statements", '"stmtcache_'),
    ],
)
def test_the_errors_users_report_are_in_the_catalog(stack, feature, error):
    errors = resolve(stack).features[feature]["errors"]
    assert any(error in e for e in errors), errors


@pytest.mark.parametrize(
    "stack, fix, option, value",
    [
        ("asyncpg", "statement_cache_size=0", "statement_cache_size", "0"),
        ("psycopg", "prepare_threshold=None", "prepare_threshold", "None"),
        ("postgres.js", "prepare: false", "prepare", "false"),
        ("rails", "prepared_statements: false", "prepared_statements", "false"),
        ("pdo-pgsql", "PDO::ATTR_EMULATE_PREPARES => true", "PDO::ATTR_EMULATE_PREPARES", "true"),
        ("pgjdbc", "prepareThreshold=0", "prepareThreshold", "0"),
        ("pgx", "default_query_exec_mode=exec", "default_query_exec_mode", "simple_protocol"),
        ("prisma", "pgbouncer=true", "pgbouncer", "true"),
        ("ecto", "prepare: :unnamed", "prepare", ":unnamed"),
    ],
)
def test_each_fix_is_the_exact_setting_and_machine_readable(stack, fix, option, value):
    feature = resolve(stack).features["protocol_prepared_statements"]
    assert fix in feature["fix"]
    assert any(o["name"] == option and value in o["values"] for o in feature["safe_options"])


def test_what_to_do_when_the_pool_keeps_prepared_statements():
    prisma6 = resolve("prisma").features["protocol_prepared_statements"]
    assert "Remove pgbouncer=true" in prisma6["when_kept"] and prisma6["works_when_kept"]
    # PgBouncer keeps PDO's statements, but not its SQL DEALLOCATE (measured in the matrix)
    assert resolve("pdo-pgsql").features["sql_prepare"]["usage"] == "default"
    assert (
        "prepared_max=None"
        in resolve("psycopg").features["protocol_prepared_statements"]["when_kept"]
    )


def test_stacks_that_send_only_unnamed_statements_are_not_default_users():
    for orm, driver in (
        ("prisma", "node-postgres"),
        ("kysely", None),
        ("typeorm", None),
        ("django", None),
    ):
        usage = resolve(orm, driver, "7" if orm == "prisma" else None).features[
            "protocol_prepared_statements"
        ]["usage"]
        assert usage in ("never", "conditional"), orm
    assert resolve("psycopg2").features["protocol_prepared_statements"]["usage"] == "never"
    assert (
        resolve(driver="node-postgres").features["protocol_prepared_statements"]["usage"]
        == "conditional"
    )


def test_pool_sizes_per_process():
    assert pool_size(resolve("prisma").pool, cpus=4) == 9  # Prisma 6: num_cpus * 2 + 1
    assert pool_size(resolve("prisma", version="7").pool) == 10  # pg.Pool's max
    assert pool_size(resolve(driver="pgx").pool, cpus=2) == 4
    assert pool_size(resolve(driver="pgx").pool, cpus=8) == 8
    assert pool_size(resolve(driver="database-sql").pool) is None
    assert pool_size(resolve("sqlalchemy").pool) == 15


def test_the_catalog_survives_the_json_parse_cache():
    data = load_stacks()
    assert json.loads(json.dumps(data)) == data
    assert load_stacks() is data  # read once per process


# --------------------------------------------------------------------------- resolve()


def test_an_orm_alone_gets_its_default_driver_for_its_version():
    assert resolve("sqlalchemy").id == "sqlalchemy+psycopg2"
    assert resolve("sqlalchemy", version="2.1").id == "sqlalchemy+psycopg"
    assert resolve("prisma").id == "prisma+prisma-engine"  # as --prisma-version assumes today
    assert resolve("prisma", version="7").id == "prisma+node-postgres"
    assert resolve("prisma", version="8.0").id == "prisma+node-postgres"
    assert resolve("prisma", version="6.19").id == "prisma+prisma-engine"


def test_orm_and_driver_together_take_the_orms_setting_for_that_driver():
    stack = resolve("sqlalchemy", "asyncpg")
    assert stack.id == "sqlalchemy+asyncpg" and stack.orm is not None
    feature = stack.features["protocol_prepared_statements"]
    assert feature["origin"] == "sqlalchemy+asyncpg"
    assert "prepared_statement_cache_size" in feature["fix"]
    assert stack.features["listen_notify"]["origin"] == "asyncpg"  # the rest is the driver's
    assert stack.pool["origin"] == "sqlalchemy"


def test_every_orm_id_the_cli_accepts_today_still_resolves():
    for orm in ORMS:
        resolve(orm)
    stack = resolve("node-postgres")  # --orm node-postgres names the driver alone
    assert stack.orm is None and stack.id == "node-postgres"
    assert resolve("node-postgres", "node-postgres").id == "node-postgres"


def test_engines_are_what_orm_and_driver_share():
    assert resolve("sqlalchemy", "pymysql").engines == ("mysql",)
    assert "protocol_prepared_statements" not in resolve("sqlalchemy", "pymysql").features
    assert "session_set" in resolve("django", "mysqlclient").features
    assert resolve("django", "mysqlclient").features["session_set"]["usage"] == "default"


@pytest.mark.parametrize(
    "args, words",
    [
        (("prisma", "prisma-engine", "7"), "does not run on prisma-engine"),
        (("sqlalchemy", "pgx"), "does not run on pgx"),
        (("node-postgres", "pgx"), "is a driver, not an ORM"),
        ((None, "django"), "is an ORM, not a driver"),
        (("nosuch",), "unknown ORM"),
        ((None, "nosuch"), "unknown driver"),
        (("prisma", None, "seven"), "not a version"),
        ((), "name an ORM or a driver"),
    ],
)
def test_a_wrong_combination_is_one_line(args, words):
    with pytest.raises(ValueError) as err:
        resolve(*args)
    assert words in str(err.value) and "\n" not in str(err.value)


# --------------------------------------------------------------------------- schema

BASE = """\
schema_version = 1

[stacks.drv]
kind = "driver"
name = "Drv"
language = "python"
engines = ["mysql"]
summary = "A driver."
packages = ["pypi:drv"]
source = "https://example.org/drv"
checked = "2026-12-01"
verified = true
never = ["server_prepared_statements", "user_variables", "get_lock", "temp_tables"]

[stacks.drv.pool]
size = 3
setting = "drv.pool(n)"

[stacks.drv.features.session_set]
usage = "conditional"
trigger = "the code asks"
detail = "SET on request."

[stacks.orm1]
kind = "orm"
name = "Orm"
language = "python"
engines = ["mysql"]
summary = "An ORM."
source = "https://example.org/orm"
checked = "2026-12-01"
verified = false
default_driver = "drv"
drivers = ["drv"]
"""


def write(tmp_path, text):
    path = tmp_path / "stacks.toml"
    path.write_text(text)
    return path


def test_the_small_catalog_loads(tmp_path):
    stacks = read_stacks(write(tmp_path, BASE))
    assert list(stacks) == ["drv", "orm1"]
    assert stacks["drv"]["features"]["get_lock"]["usage"] == "never"
    assert stacks["drv"]["features"]["session_set"]["source"] == "https://example.org/drv"
    assert resolve("orm1", catalog=stacks).id == "orm1+drv"


@pytest.mark.parametrize(
    "old, new, where, problem",
    [
        (
            'summary = "A driver."',
            'summary = "A driver."\ncolour = "red"',
            "drv.colour",
            "unknown field",
        ),
        ('source = "https://example.org/drv"\n', "", "drv.source", "missing"),
        (
            'checked = "2026-12-01"\nverified = true',
            'checked = "yesterday"\nverified = true',
            "drv.checked",
            "YYYY-MM-DD",
        ),
        (
            'usage = "conditional"',
            'usage = "sometimes"',
            "drv.features.session_set.usage",
            "'sometimes' is not one of",
        ),
        ('trigger = "the code asks"\n', "", "drv.features.session_set.trigger", "missing"),
        ('"get_lock", ', "", "drv.features", "missing: get_lock"),
        (
            'language = "python"\nengines = ["mysql"]\nsummary = "A driver."',
            'language = "cobol"\nengines = ["mysql"]\nsummary = "A driver."',
            "drv.language",
            "'cobol' is not one of",
        ),
        ("size = 3", "size = 0", "drv.pool.size", "number of connections"),
        (
            'default_driver = "drv"\ndrivers = ["drv"]',
            'default_driver = "drv"\ndrivers = ["nope"]',
            "orm1.drivers",
            "'nope' is not a driver",
        ),
        (
            'default_driver = "drv"\n',
            'default_driver = "nope"\n',
            "orm1.default_driver",
            "not in drivers",
        ),
        ("[stacks.orm1]", "[stacks.Orm_1]", "Orm_1", "an id is"),
        ('packages = ["pypi:drv"]', 'packages = ["cpan:drv"]', "drv.packages", "ecosystem 'cpan'"),
        (
            "[stacks.drv.features.session_set]",
            '[stacks.drv.features.listen_notify]\nusage = "never"\ndetail = "x"\n\n[stacks.drv.features.session_set]',
            "drv.features.listen_notify",
            "applies to postgresql",
        ),
        (
            'detail = "SET on request."',
            'detail = "SET on request."\nparams = ["options"]',
            "drv.features.session_set.params",
            "unknown field",
        ),
    ],
)
def test_the_loader_refuses_a_schema_break_naming_file_id_and_field(
    tmp_path, old, new, where, problem
):
    assert old in BASE
    path = write(tmp_path, BASE.replace(old, new, 1))
    with pytest.raises(CatalogError) as err:
        read_stacks(path)
    message = str(err.value)
    assert str(path) in message and f"{where}:" in message and problem in message, message
    assert "\n" not in message


def test_startup_parameter_usage_must_match_what_is_sent(tmp_path):
    pg = BASE.replace('engines = ["mysql"]', 'engines = ["postgresql"]').replace(
        'never = ["server_prepared_statements", "user_variables", "get_lock", "temp_tables"]',
        'never = ["protocol_prepared_statements", "sql_prepare", "advisory_lock", "listen_notify", '
        '"with_hold_cursors", "temp_tables"]',
    )
    pg += (
        '\n[stacks.drv.features.startup_parameters]\nusage = "conditional"\ntrigger = "x"\n'
        'detail = "Sends extra_float_digits."\nparams = ["extra_float_digits"]\nparams_conditional = []\n'
    )
    with pytest.raises(
        CatalogError, match=r"drv\.features\.startup_parameters\.usage: 'conditional' contradicts"
    ):
        read_stacks(write(tmp_path, pg))
    read_stacks(
        write(
            tmp_path,
            pg.replace(
                'usage = "conditional"\ntrigger = "x"\ndetail = "Sends',
                'usage = "default"\ndetail = "Sends',
            ),
        )
    )


def test_a_package_names_one_stack_only(tmp_path):
    text = BASE.replace('summary = "An ORM."', 'summary = "An ORM."\npackages = ["pypi:drv"]')
    with pytest.raises(CatalogError, match=r"orm1\.packages: pypi:drv already names drv"):
        read_stacks(write(tmp_path, text))


# --------------------------------------------------------------------------- the CLI


def test_advisor_stacks_lists_every_entry():
    r = run_advisor("stacks")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert [line.split()[0] for line in lines] == list(load_stacks())
    asyncpg = next(line for line in lines if line.startswith("asyncpg "))
    assert "driver" in asyncpg and "python" in asyncpg and "pool 10" in asyncpg


def test_advisor_stacks_explains_one():
    r = run_advisor("stacks", "asyncpg")
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("asyncpg: asyncpg  (driver, Python, postgresql)")
    assert "Protocol-level prepared statements: uses it by default" in out
    assert "statement_cache_size=0" in out and '"__asyncpg_stmt_1__" already exists' in out
    assert "PgBouncer 1.21+ with max_prepared_statements > 0" in out
    assert "source: https://github.com/MagicStack/asyncpg/" in out and "(checked 2026-12-0" in out


def test_advisor_stacks_json_and_a_combination():
    r = run_advisor("stacks", "sqlalchemy+asyncpg", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert (
        data["id"] == "sqlalchemy+asyncpg"
        and data["orm"] == "sqlalchemy"
        and data["driver"] == "asyncpg"
    )
    assert set(data["features"]) >= {"protocol_prepared_statements", "listen_notify", "session_set"}
    r = run_advisor("stacks", "--format", "json")
    assert [e["id"] for e in json.loads(r.stdout)] == list(load_stacks())


@pytest.mark.parametrize(
    "args",
    [
        ("stacks", "nosuch"),
        ("stacks", "prisma@7+prisma-engine"),
        ("stacks", "nosuch", "--format", "json"),
    ],
)
def test_advisor_stacks_unknown_or_wrong_is_one_line_and_exit_2(args):
    r = run_advisor(*args)
    assert r.returncode == 2 and r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("advisor: error: ")
    assert "Traceback" not in r.stderr


def test_orm_choices_are_the_catalogs_orms():
    """--orm takes every ORM of the stack catalog (and node-postgres, a driver given as an
    ORM since before the catalog): advisor/options.py lists them for a light `--help`."""
    from advisor.options import ORM_CHOICES

    catalog = {sid for sid, s in load_stacks().items() if s["kind"] == "orm"}
    assert set(ORM_CHOICES) == catalog | {"node-postgres"}
    assert len(ORM_CHOICES) == len(set(ORM_CHOICES))


def test_every_url_setting_of_the_catalog_is_known_to_the_parser():
    """A safe setting the catalog says goes in the URL (in_url) is not an unknown parameter
    to `advisor lint` (URL302 would warn about the very fix STK101 asks for)."""
    from advisor.target import LIBPQ_PARAMS, PG_CLIENT_PARAMS

    in_url = set()
    for stack in load_stacks().values():
        tables = [
            stack["features"],
            *(on.get("features", {}) for on in stack.get("on", {}).values()),
        ]
        for features in tables:
            for feature in features.values():
                for option in feature.get("safe_options", []):
                    if option.get("in_url") and option["name"].replace("_", "").islower():
                        in_url.add(option["name"])
    assert in_url >= {"prepare", "prepared_statement_cache_size", "pgbouncer"}
    assert in_url <= PG_CLIENT_PARAMS | LIBPQ_PARAMS, in_url - PG_CLIENT_PARAMS - LIBPQ_PARAMS
