"""Hostile servers against one deadline per command: --timeout bounds the whole command.

Real sockets on loopback: a MySQL wire-protocol fake (tests/support/fakemysql.py) that
trickles its greeting or a result one byte at a time, floods, sends garbage or asks for the
password in clear text; real PgBouncer behind a forward that holds every statement 1.9 s
(tests/support/delayproxy.py --per-message Q); a listener that never answers, with
sub-second timeouts. Every command ends within --timeout + 1 s (+ the interpreter start-up,
the `startup` fixture of tests/conftest.py) with one clear line, and pool-mode detection
that runs out of time says so instead of guessing or failing the probe.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.support import delayproxy, servers
from tests.support.cli import run_advisor
from tests.support.fakemysql import FakeMySQL
from tests.support.live import running
from tests.support.servers import PASSWORD, SilentListener, free_port, stop_process, wait_port

pytestmark = pytest.mark.live
SLOW_MS = 1900  # each statement through the slow forward: just under a 2 s per-statement cap


def timed(
    *args, limit: float, env: dict | None = None
) -> tuple[subprocess.CompletedProcess, float]:
    """Run the CLI; fail (not hang) when it outlives `limit` by far."""
    started = time.monotonic()
    try:
        r = run_advisor(*args, env=env, timeout=limit + 10, input_text="")
    except subprocess.TimeoutExpired:
        pytest.fail(f"still running after {limit + 10:.0f} s (bound {limit:.1f} s)")
    return r, time.monotonic() - started


def bounded(url: str, startup: float, timeout: float = 1.0) -> dict:
    """Probe; exit 3 within the bound, nothing on stderr; return the one error finding."""
    r, elapsed = timed(
        "probe", url, "--timeout", str(timeout), "--format", "json", limit=timeout + 1 + startup
    )
    assert r.returncode == 3, (r.returncode, r.stdout[-500:], r.stderr)
    assert elapsed < timeout + 1 + startup, f"{elapsed:.2f} s (start-up {startup:.2f} s)"
    assert r.stderr == "", r.stderr
    errors = [f for f in report_of(r)["findings"] if f["status"] == "error"]
    assert len(errors) == 1 and "\n" not in errors[0]["message"], errors
    return errors[0]


def report_of(r: subprocess.CompletedProcess) -> dict:
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    assert PASSWORD not in r.stdout + r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return servers.make_certs(tmp_path_factory.mktemp("fakemysql-certs"))


@pytest.fixture
def fake(request, certs):
    """FakeMySQL(mode) or FakeMySQL(mode, plugin, tls?) from the test's parameter."""
    mode, plugin, tls = (
        (request.param, "mysql_clear_password", False)
        if isinstance(request.param, str)
        else request.param
    )
    with running(lambda: FakeMySQL(mode, plugin=plugin, certs=certs if tls else None)) as server:
        yield server


# -- MySQL: trickles, floods, garbage -------------------------------------------------


@pytest.mark.parametrize(
    "fake",
    ["trickle-greeting", "trickle-result", ("trickle-result", "mysql_clear_password", True)],
    indirect=True,
    ids=["greeting", "result", "result-over-tls"],
)
def test_mysql_trickle_is_bounded(fake, startup):
    """One byte every 0.5 s: each read succeeds, so a read timeout never fires. Under TLS
    too: the deadline shuts down the socket the TLS layer reads from."""
    url = fake.url(PASSWORD, **({"ssl-mode": "REQUIRED"} if fake.tls else {}))
    error = bounded(url, startup)
    assert "timed out" in error["message"], error
    if fake.mode == "trickle-result":  # it got as far as the facts query
        assert any("max_connections" in q for q in fake.queries)


@pytest.mark.parametrize(
    "modes", [["giant"], ["garbage-greeting", "garbage-result"]], ids=["giant", "garbage"]
)
def test_mysql_giant_or_garbage_reply_is_one_error(modes, startup):
    """A packet without end (16 MB packets, one after the other), bytes that are no
    handshake, and a facts row whose numbers are not numbers: exit 3, the requested format
    with one error finding of one line, nothing on stderr."""
    for mode in modes:
        with running(lambda: FakeMySQL(mode)) as server:  # noqa: B023 (called at once)
            error = bounded(server.url(PASSWORD), startup, timeout=3)
        assert "unexpected reply" in error["message"] and len(error["message"]) <= 300, error


@pytest.mark.parametrize(
    "fake",
    [("clear-auth", "mysql_clear_password", True), ("clear-auth", "dialog", True)],
    indirect=True,
    ids=["mysql_clear_password", "dialog"],
)
def test_mysql_cleartext_password_only_inside_tls(fake):
    """A server (or impostor) asking for the password in clear text on a plain connection
    gets nothing: probe and burst exit 3 saying why, and the password never leaves. Inside
    TLS the same request is honoured (RDS IAM authentication, PAM): the probe works."""
    plain = fake.url(PASSWORD, **{"ssl-mode": "DISABLED"})
    r = run_advisor("probe", plain, "--format", "json")
    assert r.returncode == 3, r.stdout[-500:]
    error = next(f for f in report_of(r)["findings"] if f["status"] == "error")
    assert "refused to send the password" in error["message"] and "TLS" in error["message"]
    assert fake.plugin in error["message"]
    r = run_advisor("burst", plain, "--clients", "2", "--yes", input_text="")
    assert r.returncode == 3 and len(r.stderr.splitlines()) == 1, r.stderr
    assert "refused to send the password" in r.stderr and PASSWORD not in r.stdout + r.stderr
    assert fake.connections == 2
    assert PASSWORD.encode() not in fake.received
    r = run_advisor("probe", fake.url(PASSWORD, **{"ssl-mode": "REQUIRED"}), "--format", "json")
    assert r.returncode in (0, 1), r.stdout[-800:]
    assert report_of(r)["facts"]["tls"]["client"]["in_use"] is True
    assert PASSWORD.encode() in fake.received  # what the fake read inside TLS


@pytest.mark.parametrize("plugin", ["caching_sha2_password", "sha256_password"])
def test_mysql_rsa_key_exchange_only_inside_tls(plugin, certs):
    """MySQL 8's full authentication without TLS would encrypt the password with a key the
    server sends itself: an impostor's. The advisor never asks for that key (exit 3, saying
    why), as the mysql client refuses; inside TLS the password goes over the encrypted link."""
    with running(lambda: FakeMySQL("rsa-auth", plugin=plugin, certs=certs)) as server:
        r = run_advisor(
            "probe", server.url(PASSWORD, **{"ssl-mode": "DISABLED"}), "--format", "json"
        )
        assert r.returncode == 3, r.stdout[-500:]
        error = next(f for f in report_of(r)["findings"] if f["status"] == "error")
        assert "refused to send the password" in error["message"] and plugin in error["message"]
        assert server.key_requests == 0 and PASSWORD.encode() not in server.received
        r = run_advisor(
            "probe", server.url(PASSWORD, **{"ssl-mode": "REQUIRED"}), "--format", "json"
        )
        assert r.returncode in (0, 1), r.stdout[-800:]
        assert server.key_requests == 0


def test_burst_against_trickling_mysql_ends_in_its_bound(startup):
    """The free-slot read is served; then every client meets a trickling greeting. Each
    connect ends at --timeout, and no stuck thread keeps the process alive."""
    with running(lambda: FakeMySQL("serve-once")) as server:
        timeout = 1.0
        bound = timeout + (2 * timeout + 0 + 1) + 1 + startup  # slot read + the leg + exit
        r, elapsed = timed(
            "burst",
            server.url(PASSWORD),
            "--clients",
            "3",
            "--hold-ms",
            "0",
            "--timeout",
            str(timeout),
            "--yes",
            "--format",
            "json",
            limit=bound,
        )
        assert elapsed < bound, f"{elapsed:.2f} s"
        assert r.returncode == 1, r.stderr
        leg = report_of(r)["legs"][0]
        assert leg["failed"] == 3 and set(leg["errors"]) == {"timeout"}, leg["errors"]
        assert server.connections == 4


def test_fleet_inherits_the_deadline(tmp_path, startup):
    """probe --targets: each target's probe has the same bound, the fleet ends in it."""
    with (
        running(lambda: FakeMySQL("trickle-greeting")) as server,
        running(SilentListener) as listener,
    ):
        targets = tmp_path / "targets.toml"
        targets.write_text(
            f'[[target]]\nname = "trickle"\nurl = "{server.url(PASSWORD)}"\n'
            f'[[target]]\nname = "silent"\n'
            f'url = "postgresql://app:{PASSWORD}@127.0.0.1:{listener.port}/app"\n'
        )
        timeout = 1.5
        r, elapsed = timed(
            "probe",
            "--targets",
            str(targets),
            "--jobs",
            "2",
            "--timeout",
            str(timeout),
            "--format",
            "json",
            limit=timeout + 1 + startup,
        )
        assert elapsed < timeout + 1 + startup, f"{elapsed:.2f} s"
        assert r.returncode == 3, r.stderr
        assert PASSWORD not in r.stdout + r.stderr and "Traceback" not in r.stderr


# -- sub-second timeouts ----------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["postgresql", "mysql"])
def test_subsecond_timeout_against_a_silent_listener(scheme, startup):
    """No 2 s floor from the drivers' connect timeouts: 0.5 s means 0.5 s."""
    with running(SilentListener) as listener:
        error = bounded(
            f"{scheme}://app:{PASSWORD}@127.0.0.1:{listener.port}/app", startup, timeout=0.5
        )
        assert "timed out" in error["message"], error


def test_direct_url_shares_the_deadline(startup):
    """--timeout is for the command: a second URL gets what is left, not its own."""
    with running(SilentListener) as one, running(SilentListener) as two:
        timeout = 1.5
        r, elapsed = timed(
            "probe",
            f"postgresql://app:{PASSWORD}@127.0.0.1:{one.port}/app",
            "--direct-url",
            f"postgresql://app:{PASSWORD}@127.0.0.1:{two.port}/app",
            "--timeout",
            str(timeout),
            "--format",
            "json",
            limit=timeout + 1 + startup,
        )
        assert r.returncode == 3 and elapsed < timeout + 1 + startup, f"{elapsed:.2f} s"
        direct = report_of(r)["facts"]["direct"]
        assert "--timeout" in direct["error"] or "timed out" in direct["error"], direct


# -- PostgreSQL: every statement 1.9 s through real PgBouncer ---------------------------


@pytest.fixture(scope="module")
def slow(pgbouncer_txn):
    """PgBouncer (transaction mode) behind a forward that holds each query 1.9 s."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            delayproxy.__file__,
            str(port),
            str(pgbouncer_txn.port),
            str(SLOW_MS),
            "--per-message",
            "Q",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port, proc=proc)
        yield port
    finally:
        stop_process(proc, wait=5)


def test_pool_mode_detection_runs_out_of_time_cleanly(pg_plain, slow, startup):
    """Detection needs at least three more statements; at 1.9 s each they cannot fit in 4 s.
    The facts are read, so the probe succeeds, with the mode unknown and saying why."""
    timeout = 4.0
    r, elapsed = timed(
        "probe",
        pg_plain.url(port=slow),
        "--timeout",
        str(timeout),
        "--format",
        "json",
        limit=timeout + 1 + startup,
    )
    assert elapsed < timeout + 1 + startup, f"{elapsed:.2f} s"
    assert r.returncode in (0, 1), r.stdout[-800:]
    facts = report_of(r)["facts"]
    assert facts["max_connections"] == 23
    pooler = facts["pooler"]
    assert pooler["detected"] is True and pooler["pool_mode"] is None, pooler
    assert any("ran out of time" in e for e in pooler["evidence"]), pooler["evidence"]


def test_admin_console_gets_what_is_left(pgbouncer_txn, slow, startup):
    """Four SHOWs at 1.9 s each do not fit in what --timeout 3 leaves: the console is
    reported as not read (timed out), the rest of the report stands."""
    timeout = 3.0
    admin = pgbouncer_txn.admin_url().replace(f":{pgbouncer_txn.port}/", f":{slow}/")
    r, elapsed = timed(
        "probe",
        pgbouncer_txn.url(),
        "--pooler-admin-url",
        admin,
        "--timeout",
        str(timeout),
        "--format",
        "json",
        limit=timeout + 1 + startup,
    )
    assert elapsed < timeout + 1 + startup, f"{elapsed:.2f} s"
    assert r.returncode in (0, 1), r.stdout[-800:]
    pooler = report_of(r)["facts"]["pooler"]
    assert pooler["pool_mode"] == "transaction" and "admin" not in pooler, pooler
    assert "timed out" in pooler["admin_error"], pooler["admin_error"]
