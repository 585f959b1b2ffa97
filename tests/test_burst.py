"""`advisor burst`: 40 clients on max_connections=20, directly and through PgBouncer."""

from __future__ import annotations

import json
import resource
import signal
import subprocess
import sys
import time

import pytest

from advisor.burst import classify, percentiles
from tests.support import servers
from tests.support.cli import ROOT, run_advisor
from tests.support.live import running

pytestmark = pytest.mark.live
SLOT_ERRORS = {"too_many_clients", "reserved_slots"}


@pytest.fixture(scope="module")
def pg20():
    with running(
        lambda: servers.PostgresServer("burst", max_connections=20, superuser_reserved=3).start()
    ) as server:
        yield server


@pytest.fixture(scope="module")
def bouncer20(pg20):
    with running(
        lambda: servers.PgBouncer(
            pg20,
            pool_mode="transaction",
            default_pool_size=5,
            settings={"max_client_conn": 200},
            name="pgbouncer-burst",
        ).start()
    ) as bouncer:
        yield bouncer


def burst(*args, **kw):
    # stdin is a pipe, never the terminal: no prompt may appear
    return run_advisor("burst", *args, input_text="", **kw)


def test_direct_and_via_pgbouncer(pg20, bouncer20):
    r = burst(
        pg20.url(),
        "--clients",
        "40",
        "--hold-ms",
        "300",
        "--timeout",
        "5",
        "--yes",
        "--via-pooler",
        bouncer20.url(),
        "--format",
        "json",
    )
    assert r.returncode == 1, r.stderr  # some direct clients failed
    d = json.loads(r.stdout)
    assert d["server_slots"]["free"] == 17
    direct, pooled = d["legs"]
    assert direct["name"] == "direct" and pooled["name"] == "via pooler"
    assert direct["succeeded"] + direct["failed"] == 40
    assert 0 < direct["succeeded"] <= 17 and direct["failed"] >= 23
    assert set(direct["errors"]) <= SLOT_ERRORS, direct["errors"]
    assert sum(e["count"] for e in direct["errors"].values()) == direct["failed"]
    words = " ".join(w for e in direct["errors"].values() for w in e["messages"])
    assert "too many clients" in words
    assert pooled["succeeded"] == 40 and pooled["failed"] == 0 and pooled["errors"] == {}
    for leg in (direct, pooled):
        lat = leg["connect_ms"]
        assert lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert servers.PASSWORD not in r.stdout + r.stderr
    # what is left is PgBouncer's pool (it keeps its server connections), nothing more
    left = pg20.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'advisor-burst'"
    )
    assert int(left) <= 5


def test_text_and_markdown(pg20, bouncer20):
    r = burst(bouncer20.url(), "--clients", "10", "--hold-ms", "50")
    assert r.returncode == 0, r.stderr
    assert "succeeded" in r.stdout and "10 / 10" in r.stdout and "p95" in r.stdout
    r = burst(pg20.url(), "--clients", "5", "--hold-ms", "0", "--format", "markdown")
    assert r.returncode == 0, r.stderr
    assert "| succeeded | 5 / 5 |" in r.stdout
    assert servers.PASSWORD not in r.stdout + r.stderr


def test_guard_rails(pg20):
    url = pg20.url()
    r = burst(url)
    assert r.returncode == 2 and "--clients" in r.stderr
    r = burst(url, "--clients", "2001")
    assert r.returncode == 2 and "2000" in r.stderr
    r = burst(url, "--clients", "0")
    assert r.returncode == 2
    r = burst(url, "--clients", "40")  # <= 17 free slots, no --yes, no terminal
    assert r.returncode == 2 and "--yes" in r.stderr and " free connection slots" in r.stderr
    assert r.stdout == ""
    r = burst("postgresql://app:x@/app", "--clients", "1")  # no host: libpq would pick one
    assert r.returncode == 2
    r = burst(url, "--clients", "1", "--via-pooler", "mysql://u:p@127.0.0.1/app")
    assert r.returncode == 2
    wrong = pg20.url(password="wrong-" + servers.PASSWORD)
    r = burst(wrong, "--clients", "1")
    assert r.returncode == 3 and "authentication" in r.stderr
    for out in (r.stdout, r.stderr):
        assert servers.PASSWORD not in out


def test_ctrl_c_closes_everything(pg20):
    def held() -> int:  # PgBouncer's idle pool may hold some from the earlier tests
        return int(
            pg20.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'advisor-burst'"
            )
        )

    before = held()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "advisor",
            "burst",
            pg20.url(),
            "--clients",
            "8",
            "--hold-ms",
            "20000",
        ],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 15
        while held() < before + 8 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert held() == before + 8
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "interrupted" in err and servers.PASSWORD not in out + err
    deadline = time.monotonic() + 5  # backends exit just after the client closes
    while held() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert held() == before


def test_classify_and_percentiles():
    assert classify("FATAL:  sorry, too many clients already") == "too_many_clients"
    assert (
        classify(
            "FATAL:  remaining connection slots are reserved for non-replication "
            "superuser connections"
        )
        == "reserved_slots"
    )
    assert classify("1040 Too many connections") == "too_many_clients"
    assert classify("connection timeout expired") == "timeout"
    assert classify('password authentication failed for user "app"') == "auth"
    assert classify("1045 Access denied for user 'app'") == "auth"
    assert classify("Connection refused") == "other"
    p = percentiles([float(i) for i in range(1, 101)])
    assert (p["p50"], p["p95"], p["p99"], p["min"], p["max"]) == (50, 95, 99, 1, 100)
    assert percentiles([])["p50"] is None


def test_mariadb_burst():
    from tests.support import servers_mysql

    with running(
        lambda: servers_mysql.MariaDBServer("burst", max_connections=10).start()
    ) as server:
        r = burst(server.url(), "--clients", "15", "--hold-ms", "300", "--yes", "--format", "json")
        assert r.returncode == 1, r.stderr
        leg = json.loads(r.stdout)["legs"][0]
        assert leg["succeeded"] + leg["failed"] == 15 and 0 < leg["succeeded"] <= 10
        assert set(leg["errors"]) == {"too_many_clients"}, leg["errors"]
        assert "Too many connections" in " ".join(leg["errors"]["too_many_clients"]["messages"])
        assert servers.PASSWORD not in r.stdout + r.stderr


def test_too_few_open_files_is_a_usage_error(pg_plain):
    """A hard open-files limit below what the clients need: one line, exit 2, before any
    connection (not hundreds of clients failing with "connection is bad")."""

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    before = pg_plain.log_size()
    r = subprocess.run(
        [sys.executable, "-m", "advisor", "burst", pg_plain.url(), "--clients", "500", "--yes"],
        capture_output=True,
        text=True,
        preexec_fn=limit,
        cwd=ROOT,
        timeout=60,
    )
    assert r.returncode == 2, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1 and "open files" in r.stderr and "256" in r.stderr
    assert servers.PASSWORD not in r.stdout + r.stderr
    assert "connection received" not in pg_plain.log_since(before)
