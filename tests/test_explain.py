"""`advisor explain`: the error catalog, the matching, the output formats, and the probe's
`error` findings that use the same catalog (live PgBouncer).

Every recorded example message of advisor/catalog/errors.toml (taken from the source or the
issue thread linked next to it) goes through the real CLI and must come back with its own
signature first.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys

import pytest

from advisor.catalog.errors import CatalogError, load_errors, read_errors
from advisor.cli import main
from advisor.webtools import explain_error
from tests.support.cli import ROOT, run_advisor

SIGNATURES = load_errors()
EXAMPLES = [(sid, e["text"]) for sid, s in SIGNATURES.items() for e in s["examples"]]
FORMATS = ("text", "json", "markdown")


def explain(*argv: str) -> tuple[int, str, str]:
    """The CLI in this process (fast enough for every example): code, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["explain", *argv])
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def ids(text: str, *options: str) -> list[str]:
    code, out, err = explain("--format", "json", *options, "--", text)
    assert code in (0, 1), err
    doc = json.loads(out)
    assert doc["schema_version"] == 1 and doc["kind"] == "explain"
    return [m["id"] for m in doc["matches"]]


# --------------------------------------------------------------------------- the catalog


def test_catalog_size_and_sources():
    assert len(SIGNATURES) >= 60
    kinds = {s["raised_by"]["kind"] for s in SIGNATURES.values()}
    assert kinds == {"server", "pooler", "driver", "orm", "provider"}
    for sid, s in SIGNATURES.items():
        assert s["source"].startswith("https://") and s["checked"] == "2026-12-02", sid
        assert s["docs_url"].endswith(f"/errors/{sid}/"), sid
        assert all(e["source"].startswith("https://") for e in s["examples"]), sid


def test_issue_topics_are_covered():
    """Each family the issue names has a signature whose examples say it."""
    texts = " ".join(t for _, t in EXAMPLES)
    for needle in (
        "too many clients already",
        "reserved for roles with the SUPERUSER attribute",
        "pg_use_reserved_connections",
        "no more connections allowed (max_client_conn)",
        "query_wait_timeout",
        "unsupported startup parameter",
        "no such database",
        "server_login_retry",
        "PGBOUNCER_",
        "EMAXCONNSESSION",
        "Tenant or user not found",
        "EPSSIMPLEQUERY",
        "RDS Proxy",
        "Endpoint ID is not specified",
        "P1001",
        "P1017",
        "Timed out fetching a new connection",
        'prepared statement "s0" already exists',
        "__asyncpg_stmt_",
        "_pg3_",
        "PG::DuplicatePstatement",
        "pdo_stmt_",
        '"S_1"',
        "Connection terminated unexpectedly",
        "ENETUNREACH",
        "1040",
        "max_user_connections",
        "Lost connection to MySQL server",
        "ProxySQL",
    ):
        assert needle in texts, needle


@pytest.mark.parametrize(
    "sid,text", EXAMPLES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(EXAMPLES)]
)
def test_every_example_matches_its_signature_first(sid, text):
    found = ids(text)
    assert found and found[0] == sid, (text, found)


def test_literal_pretest_never_hides_a_match():
    """explain skips a pattern whose literal run is missing from the text: the run must be
    in every text the pattern matches."""
    from advisor.catalog.errors import needle

    assert needle(r"no such database: ?\S{1,64}") == "no such database:"
    assert needle(r"(^|[^\w])query_wait_timeout($|[^\w])") == "query_wait_timeout"
    assert needle("a|b") is None
    for s in SIGNATURES.values():
        for pattern, literal in zip(s["compiled"], s["needles"], strict=True):
            for e in s["examples"]:
                if pattern.search(e["text"]) and literal is not None:
                    assert literal in e["text"].lower(), (s["id"], pattern.pattern, literal)


def test_a_large_log_is_scanned_quickly():
    import time

    filler = "2026-12-01T10:00:00Z INFO request served in 12 ms (user 42, route /api/items)\n"
    log = filler * 50_000 + "FATAL: no more connections allowed (max_client_conn)\n"
    from advisor.explain import match

    started = time.perf_counter()
    found = match(log)
    assert [m.signature["id"] for m in found] == ["pgbouncer-max-client-conn"]
    assert found[0].line == 50_001
    assert time.perf_counter() - started < 5  # about 0.1 s here; a loaded CI box is slower


def test_the_stack_fix_is_the_stack_catalogs_line():
    from advisor.catalog.stacks import resolve

    s = SIGNATURES["asyncpg-duplicate-statement"]
    want = resolve("sqlalchemy", "asyncpg").features["protocol_prepared_statements"]["fix"]
    assert s["stack_fixes"]["sqlalchemy+asyncpg"] == want
    code, out, _ = explain(
        "--format", "json", "--orm", "sqlalchemy", "--driver", "asyncpg",
        'asyncpg.exceptions.DuplicatePreparedStatementError: prepared statement "__asyncpg_stmt_1__" already exists',
    )  # fmt: skip
    assert code == 0 and json.loads(out)["matches"][0]["fix"] == want


@pytest.mark.parametrize(
    "field,value,where,problem",
    [
        ("colour", '"red"', "colour", "unknown field"),
        ("patterns", "['(a+)+b']", "patterns", "nests a repetition"),
        ("patterns", "['no match here']", "examples", "matches none of the patterns"),
        ("stacks", '["asyncpg"]', "stacks", "needs `feature`"),
        ("checked", '"yesterday"', "checked", "YYYY-MM-DD"),
    ],
)
def test_a_broken_catalog_names_file_id_and_field(tmp_path, field, value, where, problem):
    good = {
        "title": '"T"',
        "engine": '"postgresql"',
        "patterns": "['sorry, too many clients already']",
        "raised_by": '{ kind = "server", name = "PostgreSQL" }',
        "cause": '"c"',
        "fix": '"f"',
        "source": '"https://example.org/"',
        "checked": '"2026-12-02"',
        "examples": '[{ text = "sorry, too many clients already", source = "https://example.org/" }]',
    }
    good[field] = value
    path = tmp_path / "errors.toml"
    body = "\n".join(f"{k} = {v}" for k, v in good.items())
    path.write_text(f"schema_version = 1\n[errors.test-one]\n{body}\n")
    with pytest.raises(CatalogError) as exc:
        read_errors(path)
    assert str(path) in str(exc.value) and f"test-one.{where}" in str(exc.value)
    assert problem in str(exc.value)


# --------------------------------------------------------------------------- ranking


def test_specific_before_generic():
    found = ids('ERROR: prepared statement "s0" already exists')
    assert found[:2] == ["prisma-prepared-already-exists", "pg-prepared-already-exists"]
    found = ids('ERROR: prepared statement "my_stmt" already exists')
    assert found == ["pg-prepared-already-exists"]
    # PgBouncer's log line: the message it sent ranks before the log wrapper around it
    found = ids(
        "2026-12-01 10:00:00.123 UTC [7] WARNING C-0x5581: app/app@10.0.0.7:53100 "
        "pooler error: no more connections allowed (max_client_conn)"
    )
    assert found == ["pgbouncer-max-client-conn", "pgbouncer-pooler-error"]


def test_a_pasted_log_ranks_every_match_and_the_stack_first():
    log = "\n".join(
        [
            "2026-12-01T10:00:00Z INFO starting",
            "2026-12-01T10:00:01Z ERROR sorry, too many clients already",
            "2026-12-01T10:00:02Z ERROR Error: Connection terminated unexpectedly",
            "2026-12-01T10:00:03Z ERROR sorry, too many clients already",
        ]
    )
    code, out, _ = explain("--format", "json", log)
    doc = json.loads(out)
    assert code == 0
    assert {m["id"] for m in doc["matches"]} == {
        "pg-too-many-clients",
        "node-pg-terminated-unexpectedly",
    }
    too_many = next(m for m in doc["matches"] if m["id"] == "pg-too-many-clients")
    assert too_many["line"] == 2 and too_many["count"] == 2
    # The chosen stack's signature comes first.
    assert ids(log, "--driver", "node-postgres")[0] == "node-pg-terminated-unexpectedly"
    # From standard input, as a pipe gives it.
    r = run_advisor("explain", "-", "--format", "json", input_text=log)
    assert r.returncode == 0 and json.loads(r.stdout)["matches"] == doc["matches"]


# --------------------------------------------------------------------------- exit codes


def test_unmatched_text_exits_1_in_every_format():
    for fmt in FORMATS:
        code, out, err = explain("--format", fmt, "everything is fine")
        assert code == 1 and not err, (fmt, err)
        if fmt == "json":
            assert json.loads(out)["matches"] == []
        else:
            assert "No known error signature matched" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["explain"],
        ["explain", ""],
        ["explain", "   \n"],
        ["explain", "--orm", "no-such-orm", "too many clients already"],
        ["explain", "--driver", "prisma", "too many clients already"],
        ["explain", "--format", "junit", "too many clients already"],
    ],
)
def test_usage_errors_exit_2_with_one_line(argv):
    r = run_advisor(*argv)
    assert r.returncode == 2, r
    assert r.stdout == "" and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


# --------------------------------------------------------------------------- secrets

SECRETS = ["hunter2-Zq9", "p@ss:w/rd%41", "s3cr3t'\"<b>&;x"]


def hostile_log(secret: str) -> str:
    from urllib.parse import quote

    return "\n".join(
        [
            f"connecting to postgresql://app:{quote(secret, safe='')}@db.example.com:6432/app",
            f"FATAL: no such database: postgresql://app:{quote(secret, safe='')}@h/db",
            f"FATAL: no such database: password={secret}",
            f"(ENOTFOUND) tenant/user app:{quote(secret, safe='')}@host not found",
            f"PGPASSWORD={secret} psql: sorry, too many clients already",
        ]
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_secrets_never_echo(fmt):
    from urllib.parse import quote

    log = "\n".join(hostile_log(secret) for secret in SECRETS)
    forms = {
        form
        for secret in SECRETS
        for form in (secret, quote(secret, safe=""), *(p for p in secret.split("@") if len(p) > 4))
    }
    runs = [
        run_advisor("explain", "--format", fmt, "-", input_text=log),  # a pasted log
        run_advisor("explain", "--format", fmt, "--", log),  # the text as an argument
    ]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    # a usage error quoting the text blanks it too
    runs.append(run_advisor("explain", "--format", fmt, "--orm", "nope", log))
    assert runs[-1].returncode == 2
    for r in runs:
        for form in forms:
            assert form not in r.stdout and form not in r.stderr, (fmt, form)
    # the browser tool's entry point is the same command
    doc = explain_error(log)
    assert doc["exit"] == 0 and not [f for f in forms if f in json.dumps(doc)]


def test_offline_and_no_driver_import():
    code = (
        "import sys, io, contextlib\n"
        "from advisor.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['explain', 'FATAL: no more connections allowed (max_client_conn)']) == 0\n"
        "loaded = [m for m in ('psycopg', 'psycopg2', 'pymysql', 'asyncpg', 'socket', 'ssl') if m in sys.modules]\n"
        "print(loaded)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert r.returncode == 0, r.stderr
    loaded = json.loads(r.stdout.replace("'", '"'))
    assert not {"psycopg", "psycopg2", "pymysql", "asyncpg"} & set(loaded), loaded


# --------------------------------------------------------------------------- the probe


@pytest.fixture(scope="module")
def bouncers():
    """Two PgBouncers in front of one server: one takes a single client and has it
    connected (max_client_conn exhausted), the other is open."""
    from tests.support import servers
    from tests.support.live import running, running_all

    with running(lambda: servers.PostgresServer("explain", max_connections=20).start()) as pg:
        factories = {
            "full": lambda: servers.PgBouncer(
                pg, settings={"max_client_conn": 1}, name="pgbouncer-explain-full"
            ).start(),
            "open": lambda: servers.PgBouncer(pg, name="pgbouncer-explain-open").start(),
        }
        with running_all(factories) as started:
            import psycopg

            holder = psycopg.connect(started["full"].url(), autocommit=True)
            try:
                yield started
            finally:
                holder.close()


def probe_error(url: str) -> dict:
    r = run_advisor("probe", url, "--format", "json", "--timeout", "10")
    assert r.returncode == 3, r.stderr
    errors = [f for f in json.loads(r.stdout)["findings"] if f["status"] == "error"]
    assert len(errors) == 1, errors
    return errors[0]


@pytest.mark.live
def test_probe_error_finding_names_the_signature(bouncers):
    f = probe_error(bouncers["full"].url())
    assert "no more connections allowed (max_client_conn)" in f["message"]
    assert "[pgbouncer-max-client-conn]" in f["message"]
    assert SIGNATURES["pgbouncer-max-client-conn"]["cause"] in f["message"]
    assert SIGNATURES["pgbouncer-max-client-conn"]["fix"] in f["remediation"]
    assert SIGNATURES["pgbouncer-max-client-conn"]["docs_url"] in f["remediation"]
    # the text report carries the same words
    r = run_advisor("probe", bouncers["full"].url(), "--timeout", "10")
    assert r.returncode == 3 and "pgbouncer-max-client-conn" in r.stdout


@pytest.mark.live
def test_probe_unknown_database_through_pgbouncer(bouncers):
    """PgBouncer's '*' entry passes the name on; the server's answer is explained."""
    f = probe_error(bouncers["open"].url(db="no_such_db_x"))
    assert 'database "no_such_db_x" does not exist' in f["message"]
    assert "[pg-database-does-not-exist]" in f["message"]
    assert SIGNATURES["pg-database-does-not-exist"]["fix"] in f["remediation"]


def test_an_unknown_message_leaves_the_finding_alone():
    from advisor.explain import annotate
    from advisor.report import Finding

    f = Finding("PG001", "t", "high", "error", "could not connect: boom", "r", "u")
    annotate([f], f.message)
    assert (f.message, f.remediation) == ("could not connect: boom", "r")
