"""Read-only and leak-free.

A server logging every statement shows that the probe's only statement runs inside
BEGIN READ ONLY ... ROLLBACK with search_path pinned; a role that owns a table (and
could write to it) leaves it unchanged, even when its search_path tries to run its own
code. After success, failure and Ctrl-C the server shows no session with
application_name=advisor, and Ctrl-C ends the process with exit 130 and one line.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from tests.support.cli import ROOT, run_advisor
from tests.support.fakepg import FakePostgres
from tests.support.live import running
from tests.support.servers import PASSWORD, PostgresServer, SilentListener

pytestmark = pytest.mark.live
WRITES = re.compile(
    r"\b(INSERT|UPDATE|DELETE|MERGE|CREATE|ALTER|DROP|TRUNCATE|GRANT|REVOKE|COPY|"
    r"COMMIT|nextval|setval|pg_advisory\w*|lo_\w+|dblink\w*)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module")
def audit():
    with running(
        lambda: PostgresServer("audit", settings={"log_statement": "'all'"}).start()
    ) as server:
        server.psql("CREATE TABLE accounts (id int PRIMARY KEY, balance int)", db="app")
        server.psql("INSERT INTO accounts SELECT g, 100 FROM generate_series(1, 50) g", db="app")
        server.psql("ALTER TABLE accounts OWNER TO app", db="app")
        # The trap: app's own current_setting(), found first on its search_path.
        server.psql("CREATE SCHEMA trap AUTHORIZATION app", db="app")
        server.psql(
            "CREATE FUNCTION trap.current_setting(text) RETURNS text LANGUAGE plpgsql AS $$ "
            "BEGIN INSERT INTO public.accounts VALUES (999, 0); "
            "RETURN pg_catalog.current_setting($1); END $$",
            db="app",
        )
        server.psql("ALTER FUNCTION trap.current_setting(text) OWNER TO app", db="app")
        server.psql("ALTER ROLE app SET search_path = trap, pg_catalog, public")
        yield server


def state(server) -> str:
    """Contents and write counters of the table, read over the superuser's socket."""
    server.psql("SELECT pg_stat_force_next_flush()", db="app")
    return server.psql(
        "SELECT (SELECT string_agg(id || ':' || balance, ',' ORDER BY id) FROM accounts)"
        " || ' ' || (SELECT n_tup_ins || '/' || n_tup_upd || '/' || n_tup_del "
        "FROM pg_stat_user_tables WHERE relname = 'accounts')",
        db="app",
    )


def no_advisor_sessions(server, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while server.advisor_sessions():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def advisor_statements(log: str) -> list[str]:
    """Statements logged for application_name=advisor (multi-line ones joined)."""
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", log)
    return [
        e.split("LOG:  statement: ", 1)[1]
        for e in entries
        if re.match(r"\S+ \S+ \S+ \[\d+\] advisor LOG:  statement: ", e)
    ]


def test_the_probe_cannot_write(audit):
    # The trap works: a plain session of the same role does write through it.
    with psycopg.connect(audit.url()) as conn:
        conn.execute("SELECT current_setting('server_version')")
        assert conn.execute("SELECT count(*) FROM accounts WHERE id = 999").fetchone()[0] == 1
        conn.rollback()
    before = state(audit)
    offset = audit.log_size()
    r = run_advisor("probe", audit.url(), "--format", "json")
    assert r.returncode == 1, r.stdout[-800:]
    assert '"read_only": true' in r.stdout
    assert no_advisor_sessions(audit)
    time.sleep(0.3)
    statements = advisor_statements(audit.log_since(offset))
    assert len(statements) == 1, statements
    sql = statements[0].strip()
    assert sql.startswith("BEGIN READ ONLY; SET LOCAL statement_timeout = ")
    assert "SET LOCAL search_path = pg_catalog;" in sql and sql.endswith("ROLLBACK")
    assert not WRITES.search(sql), WRITES.search(sql)
    assert state(audit) == before  # same rows, no insert/update/delete counted


def test_no_session_left_after_success_or_failure(audit, pg_plain):
    assert run_advisor("probe", audit.url()).returncode == 1
    assert no_advisor_sessions(audit)
    assert run_advisor("probe", audit.url(password="Wr0ng-" + PASSWORD)).returncode == 3
    assert run_advisor("probe", audit.url(db="nope")).returncode == 3
    assert no_advisor_sessions(audit, 1.0)


@pytest.fixture
def slow_role(audit):
    """Read-only transactions of `slowpoke` wait for a safe snapshot while `holder` is open."""
    audit.psql(f"CREATE ROLE slowpoke LOGIN PASSWORD '{PASSWORD}'")
    audit.psql("ALTER ROLE slowpoke SET default_transaction_isolation = 'serializable'")
    audit.psql("ALTER ROLE slowpoke SET default_transaction_deferrable = on")
    holder = psycopg.connect(audit.url())
    holder.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
    holder.execute("SELECT 1")
    yield audit.url(user="slowpoke")
    holder.close()
    audit.psql("DROP ROLE slowpoke")


def test_no_session_left_after_a_timeout(audit, slow_role):
    r = run_advisor("probe", slow_role, "--timeout", "2")
    assert r.returncode == 3 and "timed out" in r.stdout
    assert no_advisor_sessions(audit, 0.5)


def start(url: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "advisor", "probe", url, "--timeout", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def interrupt(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 130, (proc.returncode, out, err)
    assert err == "advisor: interrupted\n", err  # one line, no traceback
    return out, err


def wait_for(predicate, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def test_ctrl_c_during_a_slow_query_leaves_no_session(audit, slow_role):
    proc = start(slow_role)
    wait_for(
        lambda: (
            audit.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                "'advisor' AND wait_event = 'SafeSnapshot'"
            )
            == "1"
        )
    )
    interrupt(proc)
    assert no_advisor_sessions(audit, 1.0)


@pytest.mark.parametrize("where", ["silent-listener", "tls-stall", "query-stall"])
def test_ctrl_c_while_waiting_exits_130(where):
    with running(
        lambda: SilentListener() if where == "silent-listener" else FakePostgres(where)
    ) as server:
        proc = start(f"postgresql://app:{PASSWORD}@127.0.0.1:{server.port}/app?sslmode=prefer")
        if where == "query-stall":
            wait_for(lambda: server.queries)
        else:
            time.sleep(1.0)
        out, _ = interrupt(proc)
        assert PASSWORD not in out
        if where == "query-stall":
            wait_for(lambda: server.cancels == 1, 2.0)  # the running query was cancelled
