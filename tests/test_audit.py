"""`advisor audit`, live: a PostgreSQL with pg_stat_statements loaded, a workload run through
psycopg that uses every session feature (and the safe forms next to them), connections held
open while the audit runs; and a server without the extension.

What must hold: each feature is found with its rewrite and the safe forms are not; the
ledger's groups and counts are the connections opened; the safe-concurrency figure is
exactly how many more logins the server takes; the audit opens one connection, writes
nothing, creates no extension, and never prints the password or a string literal.
"""

from __future__ import annotations

import json
import time

import psycopg
import pytest

from advisor.classify import Classified, classify_mysql, classify_pg, example_mysql, example_pg
from tests.support import servers
from tests.support.cli import run_advisor
from tests.support.live import running

LITERAL = "Lit-Secret-Utility"

# -- the classifier (PostgreSQL's grammar through pglast; sqlglot for MySQL) -------------


@pytest.mark.parametrize(
    "text, features",
    [
        ("SET search_path TO tenant_42", ("session_set",)),
        ("SET LOCAL search_path TO tenant_42", ()),
        ("RESET ALL", ("session_set",)),
        ("LISTEN jobs", ("listen_notify",)),
        ("UNLISTEN *", ("listen_notify",)),
        ("SELECT pg_advisory_lock($1)", ("advisory_lock",)),
        ("SELECT pg_catalog.pg_try_advisory_lock_shared(1, 2)", ("advisory_lock",)),
        ("SELECT pg_advisory_xact_lock($1)", ()),
        ("SELECT other.pg_advisory_lock(1)", ()),
        ("PREPARE q AS SELECT $1::int", ("sql_prepare",)),
        ("EXECUTE q(1)", ("sql_prepare",)),
        ("DEALLOCATE ALL", ("sql_prepare",)),
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", ("with_hold_cursors",)),
        ("DECLARE c CURSOR FOR SELECT 1", ()),
        ("CREATE TEMP TABLE t (a int)", ("temp_tables",)),
        ("CREATE TEMP TABLE t (a int) ON COMMIT DROP", ()),
        ("CREATE TEMP TABLE t AS SELECT 1", ("temp_tables",)),
        ("SELECT 1 INTO TEMP t", ("temp_tables",)),
        ("SELECT set_config('a.b', 'x', false)", ("set_config",)),
        ("SELECT set_config('a.b', 'x', true)", ()),
        ("SELECT set_config($1, $2, $3)", ("set_config_normalised",)),
        ("SELECT 'SET search_path TO x; LISTEN y'", ()),  # words in a string are not statements
    ],
)
def test_postgres_statements_are_classified_by_the_grammar(text, features):
    result = classify_pg(text)
    assert result.unclassified is None and result.features == features


@pytest.mark.parametrize(
    "text", ["SELECT * FROM orders WHERE id = ", "LISTEN $1", "SET search_path TO 'tenant_4"]
)
def test_texts_the_parser_rejects_are_unclassified(text):
    result = classify_pg(text)
    assert result.features == () and "cannot read" in (result.unclassified or "")


@pytest.mark.parametrize(
    "text, features",
    [
        ("SET @tenant = ?", ("user_variables",)),
        ("SELECT GET_LOCK (?, ?)", ("get_lock",)),
        ("CREATE TEMPORARY TABLE `t` (`a` INTEGER)", ("temp_tables",)),
        ("PREPARE `s` FROM ?", ("sql_prepare",)),
        ("SET SESSION `sql_mode` = ?", ()),  # tracked by ProxySQL and RDS Proxy
        ("SELECT `GET_LOCK` (...)", ("get_lock",)),  # a digest's value list
        ("SET @? = ?", ("user_variables",)),  # a digest's variable name
        ("SET STATEMENT MAX_STATEMENT_TIME = ? FOR SELECT `RELEASE_LOCK` (?)", ("get_lock",)),
        ("SET GLOBAL `max_connections` = ?", ()),
        ("SELECT * FROM `t` WHERE `a` = ?", ()),
    ],
)
def test_mysql_digests_are_classified_by_sqlglot(text, features):
    assert classify_mysql(text) == Classified(features)


def test_cut_mysql_digests_are_unclassified():
    assert "cut short" in (classify_mysql("SELECT `a` , `b` FROM `t` WHERE ...").unclassified or "")


def test_examples_hide_string_literals_and_comments():
    shown = example_pg("ALTER ROLE app PASSWORD 'hunter2-Secret' /* note */ VALID UNTIL 'x'")
    assert shown == "ALTER ROLE app PASSWORD '?' VALID UNTIL '?'"
    assert len(example_pg("SELECT " + "1, " * 500 + "1")) == 200
    assert example_mysql("SELECT 'hunter2', N'x' FROM `t`") == "SELECT '?', '?' FROM `t`"
    assert "hunter2" not in example_mysql("PREPARE s FROM 'SELECT hunter2'")


# -- live ------------------------------------------------------------------------------

PGSS = {"shared_preload_libraries": "'pg_stat_statements'"}


@pytest.fixture(scope="module")
def pgss():
    with running(
        lambda: servers.PostgresServer("audit", max_connections=16, settings=PGSS).start()
    ) as pg:
        pg.psql("CREATE EXTENSION pg_stat_statements", db="app")
        pg.psql("GRANT pg_read_all_stats TO app")
        yield pg


def workload(pg) -> None:
    """Every feature through psycopg, with the safe forms next to them."""
    with psycopg.connect(pg.url(), autocommit=True, application_name="workload") as c:
        c.execute("SET search_path TO public")
        for _ in range(3):
            c.execute(f"SET application_name = '{LITERAL}'")
        c.execute("SELECT set_config('app.tenant', '42', false)")
        c.execute("SELECT pg_advisory_lock(42)")
        c.execute("SELECT pg_advisory_unlock(42)")
        c.execute("LISTEN jobs")
        c.execute("UNLISTEN jobs")
        c.execute("PREPARE q AS SELECT $1::int")
        c.execute("EXECUTE q(1)")
        c.execute("DEALLOCATE q")
        with c.transaction():
            c.execute("DECLARE held CURSOR WITH HOLD FOR SELECT 1")
        c.execute("CLOSE held")
        c.execute("CREATE TEMP TABLE kept (a int)")
        c.execute("DROP TABLE kept")
        with c.transaction():  # the safe forms: none of these is a finding
            c.execute("SET LOCAL work_mem = '8MB'")
            c.execute("SELECT pg_advisory_xact_lock(7)")
            c.execute("CREATE TEMP TABLE scratch (a int) ON COMMIT DROP")
            c.execute("DECLARE plain CURSOR FOR SELECT 1")


def catalog_rows(pg) -> str:
    return pg.psql(
        "SELECT (SELECT count(*) FROM pg_class) || ' ' || (SELECT count(*) FROM pg_namespace)"
        " || ' ' || (SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension)",
        db="app",
    )


@pytest.fixture(scope="module")
def audited(pgss):
    """The workload, connections held open, then one audit per format."""
    workload(pgss)
    held = []
    try:
        for app in ("web", "web", "web", "worker"):
            held.append(psycopg.connect(pgss.url(), autocommit=True, application_name=app))
        held[2].execute("BEGIN")
        held[2].execute("SELECT 1")  # web: idle in transaction
        held[3].execute("SELECT pg_advisory_lock(99)")  # worker: idle, holding a session lock
        held[3].execute("CREATE TEMP TABLE worker_scratch (a int)")
        time.sleep(2.5)  # idle in transaction for more than the 1 s threshold, in whole seconds
        before, offset = catalog_rows(pgss), pgss.log_size()
        runs = {}
        for fmt in ("json", "text", "markdown", "junit"):
            runs[fmt] = run_advisor(
                "audit",
                pgss.url(),
                "--format",
                fmt,
                "--pool-size",
                "2",
                "--instances",
                "3",
                "--threshold",
                "AUD203.warn_above_seconds=1",
            )
            if fmt == "json":
                log = pgss.log_since(offset)
        after = catalog_rows(pgss)
        leftover = pgss.advisor_sessions()
        report = json.loads(runs["json"].stdout)
        safe = report["facts"]["ledger"]["safe_connections"]
        # Exactly `safe` more logins fit while the held connections stay open.
        extra, refused = [], None
        try:
            for _ in range(safe):
                extra.append(psycopg.connect(pgss.url(), autocommit=True))
            try:
                extra.append(psycopg.connect(pgss.url(), autocommit=True))
            except psycopg.OperationalError as exc:
                refused = str(exc)
        finally:
            for c in extra:
                c.close()
        yield {
            "runs": runs,
            "report": report,
            "log": log,
            "catalogs": (before, after),
            "refused": refused,
            "opened": len(extra),
            "leftover": leftover,
        }
    finally:
        for c in held:
            c.close()


pytestmark = pytest.mark.live


def finding(report, check_id):
    return next(f for f in report["findings"] if f["id"] == check_id)


def test_every_session_feature_is_found_with_its_rewrite(audited):
    report = audited["report"]
    assert audited["runs"]["json"].returncode == 1
    features = {f["feature"]: f for f in report["facts"]["workload"]["session_features"]}
    assert set(features) == {
        "session_set",
        "set_config_normalised",
        "advisory_lock",
        "listen_notify",
        "sql_prepare",
        "with_hold_cursors",
        "temp_tables",
    }
    assert features["session_set"]["example"] == "SET application_name = '?'"
    assert features["session_set"]["roles"] == ["app"] and features["session_set"]["databases"] == [
        "app"
    ]
    assert features["advisory_lock"]["calls"] >= 2
    # pg_stat_statements keeps set_config's third argument as $3: a warning, not a guess
    assert finding(report, "AUD103")["status"] == "warn"
    assert "normalised" in finding(report, "AUD103")["message"]
    assert finding(report, "AUD101")["status"] == "pass"
    assert finding(report, "AUD001")["status"] == "pass"
    assert finding(report, "AUD120")["status"] in ("pass", "warn")


@pytest.mark.parametrize(
    "check_id, word",
    [
        ("AUD102", "SET LOCAL"),
        ("AUD104", "pg_advisory_xact_lock"),
        ("AUD105", "direct"),
        ("AUD106", "protocol-level prepared statements"),
        ("AUD107", "without WITH HOLD"),
        ("AUD108", "ON COMMIT DROP"),
    ],
)
def test_each_feature_fails_with_its_rewrite(audited, check_id, word):
    f = finding(audited["report"], check_id)
    assert f["status"] == "fail" and word in f["message"], f


def test_live_catalogs_idle_locks_temp_tables_idle_in_transaction(audited):
    report = audited["report"]
    assert (
        finding(report, "AUD201")["status"] == "fail"
        and "worker" in finding(report, "AUD201")["message"]
    )
    assert finding(report, "AUD202")["status"] == "warn"
    assert report["facts"]["workload"]["temp_relations"]["sessions"] == 1
    assert (
        finding(report, "AUD203")["status"] == "warn"
        and "web" in finding(report, "AUD203")["message"]
    )


def test_the_ledger_groups_and_safe_concurrency(audited):
    ledger = audited["report"]["facts"]["ledger"]
    groups = {(g["application_name"], g["state"]): g["connections"] for g in ledger["groups"]}
    assert groups[("web", "idle")] == 2
    assert groups[("web", "idle in transaction")] == 1
    assert groups[("worker", "idle")] == 1
    assert groups[("advisor", "active")] == 1 and ledger["own_connections"] == 1
    assert all(g["role"] == "app" and g["database"] == "app" for g in ledger["groups"])
    assert ledger["max_connections"] == 16 and ledger["reserved_connections"] == 3
    # 16 - 3 reserved - the 4 held (the audit's own has closed) = 9
    assert ledger["safe_connections"] == 9 == audited["opened"]
    assert "remaining connection slots are reserved" in (audited["refused"] or "")
    assert ledger["safe_instances"] == 4 and ledger["needed_connections"] == 6
    assert finding(audited["report"], "AUD301")["status"] == "pass"
    text = audited["runs"]["text"].stdout
    assert "Connection ledger" in text and "idle in transaction" in text
    assert "safe concurrency: 9 more connection(s)" in text
    md = audited["runs"]["markdown"].stdout
    assert "| application | role | database |" in md and "| web |" in md


def test_one_connection_nothing_written_no_secret(audited):
    log = audited["log"]
    assert log.count("connection received") == 1, log
    before, after = audited["catalogs"]
    assert before == after and "pg_stat_statements" in after
    assert audited["leftover"] == 0  # no session of the advisor stays behind
    for fmt, run in audited["runs"].items():
        out = run.stdout + run.stderr
        assert servers.PASSWORD not in out and LITERAL not in out, fmt
        assert run.returncode == 1, (fmt, run.stderr)


def test_without_the_extension_one_finding_and_the_rest_runs(pg_plain):
    extensions = pg_plain.psql("SELECT string_agg(extname, ',') FROM pg_extension", db="app")
    run = run_advisor("audit", pg_plain.url(), "--format", "json")
    assert run.returncode in (0, 1), run.stderr
    report = json.loads(run.stdout)
    f = finding(report, "AUD101")
    assert f["status"] == "warn" and "shared_preload_libraries" in f["message"]
    assert not any(x["id"] in ("AUD102", "AUD104") for x in report["findings"])
    assert finding(report, "AUD301")["status"] in ("pass", "warn")
    assert (
        pg_plain.psql("SELECT string_agg(extname, ',') FROM pg_extension", db="app") == extensions
    )
    assert servers.PASSWORD not in run.stdout + run.stderr


def test_the_audit_report_combines(audited, tmp_path):
    (tmp_path / "audit.json").write_text(audited["runs"]["json"].stdout)
    run = run_advisor("report", str(tmp_path / "audit.json"), "--format", "json")
    assert run.returncode == 1, run.stderr
    combined = json.loads(run.stdout)
    target = combined["targets"][0]
    assert target["kind"] == "audit" and target["key"].endswith("(audit)")
    assert {"application_name": "web", "role": "app", "state": "idle", "connections": 2} in target[
        "ledger"
    ]["groups"]


def test_the_audit_report_matches_the_schema_and_the_model(audited):
    from pathlib import Path

    import jsonschema

    from advisor.facts import model

    schema = Path(model.__file__).resolve().parent.parent / "schema" / "report-v1.json"
    report = audited["report"]
    jsonschema.validate(report, json.loads(schema.read_text()))
    facts = report["facts"]
    shapes = [
        (facts["ledger"], model.Ledger),
        (facts["ledger"]["groups"][0], model.LedgerGroup),
        (facts["workload"], model.Workload),
        (facts["workload"]["statement_source"], model.StatementSource),
        (facts["workload"]["session_features"][0], model.WorkloadFeature),
        (facts["workload"]["unclassified"], model.Unclassified),
        (facts["workload"]["idle_advisory_locks"][0], model.IdleLock),
        (facts["workload"]["temp_relations"], model.TempRelations),
    ]
    for value, typed in shapes:
        keys = set(value)
        assert typed.__required_keys__ <= keys, typed.__name__
        assert keys <= typed.__required_keys__ | typed.__optional_keys__, typed.__name__
    assert "temp_relations" in facts["workload"]  # PostgreSQL only
    assert "AUD104" in audited["runs"]["junit"].stdout


def test_help_and_lint_do_not_load_the_parsers():
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\nfrom advisor.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n    except SystemExit: pass\n"
        "    try: main(['audit', '--help'])\n    except SystemExit: pass\n"
        "    main(['lint', 'postgresql://u:p@h/d'])\n"
        "print('pglast' in sys.modules, 'sqlglot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False False", out.stderr


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_an_unreachable_server_is_exit_3_with_an_error_finding(scheme):
    for fmt in ("text", "json"):
        run = run_advisor(
            "audit", f"{scheme}://app:Pw-Gone-Secret@127.0.0.1:1/app", "--format", fmt
        )
        assert run.returncode == 3, run.stderr
        assert "Pw-Gone-Secret" not in run.stdout + run.stderr
    assert finding(json.loads(run.stdout), "AUD001")["status"] == "error"


def test_the_readiness_page_shows_the_ledger_chart(audited, tmp_path):
    from advisor.catalog import load_checks
    from advisor.catalog.providers import load_providers
    from advisor.combine import combine, read_folder
    from advisor.render.site import readiness_pages

    (tmp_path / "audit.json").write_text(audited["runs"]["json"].stdout)
    reports, skipped = read_folder(tmp_path)
    assert skipped == [] and len(reports) == 1
    by_file = {str(path): d for path, d in reports}
    pages = readiness_pages(
        combine(reports), by_file, tmp_path, skipped, load_checks(), load_providers()
    )
    env = next(text for name, text in pages.items() if name.startswith("readiness/"))
    assert "## Who holds the connection slots" in env
    assert "| web · app · idle | 2 | `█████` 12.5 % |" in env
    assert "Safe concurrency: 9 more connection(s)" in env and "AUD104" in env


def test_the_ledger_chart_makes_report_strings_inert():
    from advisor.render.audit import ledger_chart
    from advisor.render.site import esc

    ledger = {
        "max_connections": 10,
        "safe_connections": 3,
        "groups": [
            {"application_name": "<script>|x", "role": "[a](b)", "state": "idle", "connections": 4},
            {"application_name": "bad", "role": "r", "state": "idle", "connections": "4"},
        ],
    }
    chart = "\n".join(ledger_chart(ledger, esc))
    assert "<script>" not in chart and "[a](b)" not in chart and "|x" not in chart
    assert "&#60;script&#62;&#124;x" in chart and "bad" not in chart


def test_audit_and_probe_reports_sit_side_by_side(pgss, audited, tmp_path):
    for command in ("audit", "probe"):
        run = run_advisor(
            command, pgss.url(), "--format", "json", "--output", f"{tmp_path}/", "--label", "prod"
        )
        assert run.returncode in (0, 1), run.stderr
    names = sorted(p.name for p in tmp_path.glob("*.json"))
    assert names == ["prod-127-0-0-1-app-audit.json", "prod-127-0-0-1-app.json"]
    run = run_advisor("report", str(tmp_path), "--format", "json")
    keys = {t["key"]: t["kind"] for t in json.loads(run.stdout)["targets"]}
    assert keys == {"prod": "probe", "prod (audit)": "audit"}


@pytest.mark.parametrize("mode", ["silent", "startup-stall", "query-stall"])
def test_the_audit_is_bounded_by_its_timeout(mode, startup):
    from tests.support.fakepg import FakePostgres
    from tests.support.servers import SilentListener

    factory = SilentListener if mode == "silent" else (lambda: FakePostgres(mode))
    with running(factory) as server:
        url = f"postgresql://app:{servers.PASSWORD}@127.0.0.1:{server.port}/app"
        started = time.monotonic()
        run = run_advisor("audit", url, "--timeout", "1.5", "--format", "json")
        elapsed = time.monotonic() - started
    assert run.returncode == 3, (run.stdout[-500:], run.stderr)
    assert elapsed < 1.5 + 1 + startup, f"{elapsed:.2f} s (start-up {startup:.2f} s)"
    assert finding(json.loads(run.stdout), "AUD001")["status"] == "error"
    assert servers.PASSWORD not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_postgres_17_normalised_utility_statements(trixie_root):
    """PostgreSQL 17 (its own pg_stat_statements and grammar): the same features found; the
    literal pg_stat_statements keeps in a SET text is shown as '?'."""
    factory = lambda: servers.PostgresServer(  # noqa: E731
        "audit17", settings=PGSS, root=trixie_root
    ).start()
    with running(factory) as pg:
        pg.psql("CREATE EXTENSION pg_stat_statements", db="app")
        with psycopg.connect(pg.url(), autocommit=True) as c:
            c.execute("SET search_path TO 'tenant_42'")
            with c.transaction():
                c.execute("SET LOCAL work_mem = '8MB'")
                c.execute("DECLARE held CURSOR WITH HOLD FOR SELECT 42")
            c.execute("CLOSE held")
        run = run_advisor("audit", pg.url(), "--format", "json")
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)
    assert report["facts"]["server_version"].startswith("17")
    features = {f["feature"]: f for f in report["facts"]["workload"]["session_features"]}
    assert set(features) == {"session_set", "with_hold_cursors"}, features
    assert features["session_set"]["example"] == "SET search_path TO '?'"
    assert "tenant_42" not in run.stdout
    assert finding(report, "AUD102")["status"] == "fail"
    assert finding(report, "AUD107")["status"] == "fail"
