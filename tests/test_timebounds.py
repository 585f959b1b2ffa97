"""Time bounds: whatever the network or the server does, `probe` ends with exit 3 within
--timeout plus one second (plus the interpreter's start-up, measured once: the `startup`
fixture of tests/conftest.py).

Real sockets on loopback: a closed port, a listener that never answers, a fake server
that stalls mid-handshake (TLS or startup) or never answers a query, a real PostgreSQL
whose facts query waits, an unresolvable name and a resolver that hangs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import psycopg
import pytest

from tests.support.cli import run_advisor
from tests.support.fakepg import FakePostgres
from tests.support.live import running
from tests.support.servers import PASSWORD, SilentListener, free_port

pytestmark = pytest.mark.live
TIMEOUT = 2.0


def bounded(url: str, startup: float, env: dict | None = None, timeout: float = TIMEOUT) -> dict:
    """Probe; assert exit 3 within the bound; return the error finding."""
    started = time.monotonic()
    r = run_advisor("probe", url, "--timeout", str(timeout), "--format", "json", env=env)
    elapsed = time.monotonic() - started
    assert r.returncode == 3, (r.returncode, r.stdout[-500:], r.stderr)
    assert elapsed < timeout + 1 + startup, f"{elapsed:.2f} s (start-up {startup:.2f} s)"
    assert "Traceback" not in r.stderr
    report = json.loads(r.stdout)
    error = next(f for f in report["findings"] if f["status"] == "error")
    assert PASSWORD not in r.stdout + r.stderr
    return error


@pytest.fixture(scope="module")
def silent():
    with running(SilentListener) as listener:
        yield listener


@pytest.fixture(params=["tls-stall", "startup-stall", "query-stall"])
def stalling(request):
    with running(lambda: FakePostgres(request.param)) as server:
        yield request.param, server


def pg(port: int, host: str = "127.0.0.1", **query) -> str:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return f"postgresql://app:{PASSWORD}@{host}:{port}/app" + (f"?{q}" if q else "")


def test_unresolvable_host(startup):
    error = bounded(pg(5432, "no-such-host.invalid"), startup)
    assert "resolve" in error["message"] and "no-such-host.invalid" in error["message"]


def test_closed_port(startup):
    error = bounded(pg(free_port()), startup)
    assert "refused" in error["message"].lower()


def test_listener_that_never_answers(silent, startup):
    error = bounded(pg(silent.port), startup)
    assert "timed out" in error["message"]


def test_server_that_stalls_mid_handshake_or_query(stalling, startup):
    mode, server = stalling
    error = bounded(pg(server.port, "localhost", sslmode="prefer"), startup)
    assert "timed out" in error["message"], error
    if mode == "query-stall":
        assert server.queries and server.queries[0].startswith("BEGIN READ ONLY")


def test_real_server_slow_facts_query(pg_plain, startup):
    """A role whose read-only transactions wait for a safe snapshot while another session
    holds a serializable transaction: the facts query blocks on the server for real."""
    pg_plain.psql(f"CREATE ROLE slowpoke LOGIN PASSWORD '{PASSWORD}'")
    pg_plain.psql("ALTER ROLE slowpoke SET default_transaction_isolation = 'serializable'")
    pg_plain.psql("ALTER ROLE slowpoke SET default_transaction_deferrable = on")
    holder = psycopg.connect(pg_plain.url())
    try:
        holder.execute("BEGIN ISOLATION LEVEL SERIALIZABLE")
        holder.execute("SELECT 1")
        error = bounded(pg_plain.url(user="slowpoke"), startup)
        assert "timed out" in error["message"]
    finally:
        holder.close()
        pg_plain.psql("DROP ROLE slowpoke")


@pytest.fixture
def hanging_resolver(tmp_path):
    """PYTHONPATH with a sitecustomize whose getaddrinfo never returns for *.hang.test."""
    (tmp_path / "sitecustomize.py").write_text(
        "import socket, time\n_real = socket.getaddrinfo\n"
        "def getaddrinfo(host, *a, **k):\n"
        "    if isinstance(host, str) and host.endswith('.hang.test'):\n"
        "        time.sleep(600)\n"
        "    return _real(host, *a, **k)\n"
        "socket.getaddrinfo = getaddrinfo\n"
    )
    return {"PYTHONPATH": str(tmp_path)}


def test_hanging_resolver_is_bounded(hanging_resolver, startup):
    # The harness works: without a deadline the lookup would not come back.
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(
            [sys.executable, "-c", "import socket; socket.getaddrinfo('db.hang.test', 1)"],
            env=hanging_resolver,
            capture_output=True,
            timeout=1,
        )
    error = bounded(pg(5432, "db.hang.test"), startup, env=hanging_resolver)
    assert "resolving the host name db.hang.test" in error["message"]
    error = bounded(f"mysql://app:{PASSWORD}@db.hang.test/app", startup, env=hanging_resolver)
    assert "resolving the host name db.hang.test" in error["message"]


def test_mysql_closed_port(startup):
    error = bounded(f"mysql://app:{PASSWORD}@127.0.0.1:{free_port()}/app", startup)
    assert "refused" in error["message"].lower()


def test_mysql_listener_that_never_answers(silent, startup):
    error = bounded(f"mysql://app:{PASSWORD}@localhost:{silent.port}/app", startup)
    assert "timed out" in error["message"]


def test_mysql_unresolvable_host(startup):
    error = bounded(f"mysql://app:{PASSWORD}@no-such-host.invalid/app", startup)
    assert "resolve" in error["message"]


def test_fractional_timeout_is_honoured(silent, startup):
    bounded(pg(silent.port), startup, timeout=2.5)


def test_admin_console_lookup_is_bounded(pgbouncer_txn, hanging_resolver, startup):
    """--pooler-admin-url gets the same deadline-bound host lookup as the probe itself
    (libpq's own lookup has none); a console that cannot be read is reported, not fatal."""
    started = time.monotonic()
    r = run_advisor(
        "probe",
        pgbouncer_txn.url(),
        "--pooler-admin-url",
        f"postgresql://admin@db.hang.test:{pgbouncer_txn.port}/pgbouncer",
        "--timeout",
        str(TIMEOUT),
        "--format",
        "json",
        env=hanging_resolver,
    )
    elapsed = time.monotonic() - started
    assert r.returncode in (0, 1), r.stderr
    pooler = json.loads(r.stdout)["facts"]["pooler"]
    assert pooler["detected"] and "admin" not in pooler
    assert "resolving the host name db.hang.test" in pooler["admin_error"]
    # Each URL gets its own --timeout: the pooler's leg, then the console's.
    assert elapsed < 2 * TIMEOUT + 1 + startup, elapsed
