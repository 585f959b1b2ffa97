"""`advisor probe` against real PostgreSQL, PgBouncer and a TCP forwarder."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from tests.support import servers
from tests.support.cli import run_advisor
from tests.support.live import running
from tests.support.servers import PASSWORD

SCHEMA = json.loads((Path(__file__).parent.parent / "advisor/schema/report-v1.json").read_text())
pytestmark = pytest.mark.live


def probe_json(url: str, *extra: str, env: dict | None = None):
    r = run_advisor("probe", url, "--format", "json", *extra, env=env)
    assert "Traceback" not in r.stderr, r.stderr
    report = json.loads(r.stdout)
    jsonschema.validate(report, SCHEMA)
    return r, report


def finding(report: dict, check_id: str) -> dict:
    found = [f for f in report["findings"] if f["id"] == check_id]
    assert found, f"{check_id} missing from {[f['id'] for f in report['findings']]}"
    return found[0]


def tcp_connections(log: str) -> int:
    return len(re.findall(r"connection received: host=127\.0\.0\.1", log))


def wait_no_advisor_sessions(server, seconds: float = 5.0) -> int:
    deadline = time.monotonic() + seconds
    while (n := server.advisor_sessions()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return n


def test_plain_server_facts_are_read_not_assumed(pg_plain):
    r, report = probe_json(pg_plain.url())
    facts = report["facts"]
    in_use = int(
        pg_plain.psql("SELECT count(*) FROM pg_stat_activity WHERE backend_type='client backend'")
    )
    assert facts["max_connections"] == 23
    assert facts["reserved_connections"] == 2 and facts["superuser_reserved_connections"] == 2
    assert facts["connections_in_use"] >= 1
    assert facts["available_connections"] == 23 - 2 - facts["connections_in_use"]
    # Our psql query above counts itself but not the (closed) probe.
    assert abs(facts["connections_in_use"] - in_use) <= 2
    assert facts["tls"]["client"]["in_use"] is False
    assert facts["tls"]["server"]["ssl_enabled"] is False
    assert facts["pooler"]["detected"] is False
    assert facts["session"]["read_only"] is True
    assert facts["server_version"].startswith(pg_plain.psql("SHOW server_version").split()[0])
    assert report["target"]["url"].count("***") == 1 and PASSWORD not in r.stdout
    # A direct server and serverless clients: the pooler check fails, so exit 1.
    assert finding(report, "PG201")["status"] == "fail"
    pg102 = finding(report, "PG102")  # 2 reserved of 23: the default share, no warning
    assert pg102["status"] == "pass" and "2 of 23 slots reserved" in pg102["message"]
    assert r.returncode == 1


def test_tls_server_verified_with_test_ca(pg_tls):
    url = pg_tls.url(sslmode="verify-full", sslrootcert=pg_tls.certs["ca"]).replace(
        "127.0.0.1", "localhost"
    )
    r, report = probe_json(url)
    facts = report["facts"]
    assert facts["max_connections"] == 31 and facts["reserved_connections"] == 4
    client = facts["tls"]["client"]
    assert client["in_use"] is True and client["verified"] is True
    assert client["version"] and client["version"].startswith("TLS")
    assert client["cipher"]
    assert (
        facts["tls"]["server"]["in_use"] is True and facts["tls"]["server"]["ssl_enabled"] is True
    )
    assert finding(report, "PG301")["status"] == "pass"
    assert finding(report, "PG302")["status"] == "pass"


def test_tls_require_warns_unverified(pg_tls):
    _, report = probe_json(pg_tls.url(sslmode="require"))
    assert report["facts"]["tls"]["client"]["in_use"] is True
    assert report["facts"]["tls"]["client"]["verified"] is False
    assert finding(report, "PG302")["status"] == "warn"
    assert "not verified" in finding(report, "PG302")["message"]


def test_require_against_plain_server_exits_3(pg_plain):
    r, report = probe_json(pg_plain.url(sslmode="require"))
    assert r.returncode == 3
    err = finding(report, "PG001")
    assert err["status"] == "error" and "SSL" in err["message"]


def test_pgbouncer_is_reported_as_pooler(pgbouncer_txn, pg_plain):
    r, report = probe_json(pgbouncer_txn.url())
    pooler = report["facts"]["pooler"]
    assert pooler["detected"] is True
    assert any("differs from pg_backend_pid()" in e for e in pooler["evidence"])
    assert any(f"port {pg_plain.port}" in e for e in pooler["evidence"])
    assert finding(report, "PG201")["status"] == "pass"
    assert report["facts"]["max_connections"] == 23
    pg303 = finding(report, "PG303")  # the pooler-to-server leg is loopback
    assert pg303["status"] == "pass" and "never leaves the machine" in pg303["message"]


def test_tcp_forwarder_is_not_a_pooler(forwarder):
    r, report = probe_json(f"postgresql://app:{PASSWORD}@127.0.0.1:{forwarder.port}/app")
    pooler = report["facts"]["pooler"]
    assert pooler["detected"] is False and pooler["kind"] is None
    assert any("port forward" in e for e in pooler["evidence"])
    assert any("matches pg_backend_pid()" in e for e in pooler["evidence"])


def test_through_a_far_away_forward(pg_plain):
    """The bench's delay forward (tests/support/delayproxy.py, 50 ms each way): the probe's facts
    come through intact, it is a forward (not a pooler), and the delay is really there:
    the handshake's round trip, the TLS request, and the startup/authentication exchanges."""
    with running(lambda: servers.DelayProxy(pg_plain.port, 50).start()) as far:
        r, report = probe_json(pg_plain.url(port=far.port))
    assert r.returncode in (0, 1), r.stderr
    facts = report["facts"]
    assert facts["max_connections"] == 23 and facts["pooler"]["detected"] is False
    assert facts["probe"]["connections_opened"] == 1
    assert facts["probe"]["connect_ms"] >= 3 * 100  # at least three 100 ms round trips


def test_probe_opens_exactly_one_connection_and_leaves_none(pg_tls):
    # pg_tls has no pooler in front (a pooler keeps its own server connections by design).
    time.sleep(0.3)
    offset = pg_tls.log_size()
    r, report = probe_json(pg_tls.url())
    assert report["facts"]["probe"]["connections_opened"] == 1
    assert wait_no_advisor_sessions(pg_tls) == 0
    time.sleep(0.3)
    log = pg_tls.log_since(offset)
    assert tcp_connections(log) == 1, log
    assert "application_name=advisor" in log


def test_headroom_fails_when_server_is_nearly_full(pg_plain):
    import psycopg

    # The server is shared by the session: other tests' poolers may hold some of its slots.
    # Fill it up to two free slots (one for the probe), whatever is already in use.
    used = int(
        pg_plain.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        ).split()[-1]
    )
    holders = [psycopg.connect(pg_plain.url()) for _ in range(max(0, 21 - used - 2))]
    try:
        r, report = probe_json(pg_plain.url())
        facts = report["facts"]
        assert facts["connections_in_use"] >= 19
        check = finding(report, "PG101")
        assert check["status"] == "fail"
        assert f"{facts['available_connections']} of 21 usable slots free" in check["message"]
        # Thresholds are data with overridable defaults.
        _, relaxed = probe_json(
            pg_plain.url(),
            "--threshold",
            "PG101.fail_below_slots=1",
            "--threshold",
            "PG101.fail_below_percent=1",
            "--threshold",
            "PG101.warn_below_percent=2",
        )
        assert finding(relaxed, "PG101")["status"] == "pass"
    finally:
        for conn in holders:
            conn.close()


def test_role_and_database_limits(pg_plain):
    pg_plain.psql(f"CREATE ROLE capped LOGIN PASSWORD '{PASSWORD}' CONNECTION LIMIT 2")
    pg_plain.psql("CREATE DATABASE limited OWNER capped CONNECTION LIMIT 3")
    try:
        _, report = probe_json(pg_plain.url(user="capped", db="limited"))
        role, db = finding(report, "PG103"), finding(report, "PG104")
        assert report["facts"]["role"]["connection_limit"] == 2
        assert report["facts"]["database"]["connection_limit"] == 3
        assert role["status"] == "fail" and "limited to 2 connections" in role["message"]
        assert db["status"] in ("warn", "fail") and "limited to 3 connections" in db["message"]
    finally:
        pg_plain.psql("DROP DATABASE limited")
        pg_plain.psql("DROP ROLE capped")


def test_every_format_on_a_real_probe(pg_plain, tmp_path):
    url = pg_plain.url()
    text = run_advisor("probe", url)
    assert "max_connections 23" in text.stdout and "PG101" in text.stdout
    assert "\x1b[" not in text.stdout  # not a TTY: no colour
    md = run_advisor("probe", url, "--format", "markdown")
    assert "| 23 | 2 |" in md.stdout and "[PG201](" in md.stdout
    junit = run_advisor("probe", url, "--format", "junit", "--output", str(tmp_path / "r.xml"))
    root = ET.parse(tmp_path / "r.xml").getroot()
    cases = root.findall(".//testcase")
    report = json.loads(run_advisor("probe", url, "--format", "json").stdout)
    assert len(cases) == len(report["findings"])
    failed = {c.get("name").split()[0] for c in cases if c.find("failure") is not None}
    assert failed == {f["id"] for f in report["findings"] if f["status"] == "fail"}
    warned = [c for c in cases if (c.findtext("system-out") or "").startswith("WARNING")]
    assert len(warned) == report["summary"]["warn"]
    assert "PG101" in junit.stdout  # --output: the text report still goes to stdout
    for out in (text.stdout, md.stdout, junit.stdout, (tmp_path / "r.xml").read_text()):
        assert PASSWORD not in out


def test_reads_database_url_and_python_m_equals_console_script(pg_plain):
    import shutil
    import subprocess
    import sys

    r = run_advisor("probe", "--format", "json", env={"DATABASE_URL": pg_plain.url()})
    report = json.loads(r.stdout)
    assert report["facts"]["max_connections"] == 23
    assert finding(report, "URL301")["status"] == "pass"  # not on the command line
    script = Path(sys.executable).parent / "advisor"
    exe = str(script) if script.exists() else shutil.which("advisor")
    assert exe, "console script `advisor` not installed"
    out = subprocess.run(
        [exe, "probe", pg_plain.url(), "--format", "json"], capture_output=True, text=True
    )
    assert json.loads(out.stdout)["facts"]["max_connections"] == 23


def test_wrong_password_exits_3_and_says_authentication_failed(pg_plain, tmp_path):
    bad = "Wr0ng-" + PASSWORD
    out = tmp_path / "err.json"
    r = run_advisor("probe", pg_plain.url(password=bad), "--format", "json", "--output", str(out))
    assert r.returncode == 3
    report = json.loads(out.read_text())
    jsonschema.validate(report, SCHEMA)
    err = finding(report, "PG001")
    assert err["status"] == "error" and "authentication failed" in err["message"]
    assert report["summary"]["status"] == "error"
    for blob in (r.stdout, r.stderr, out.read_text()):
        assert bad not in blob and PASSWORD not in blob and "Traceback" not in blob


def test_closed_port_exits_3_quickly():
    from tests.support.servers import free_port

    port = free_port()
    started = time.monotonic()
    r = run_advisor("probe", f"postgresql://app:{PASSWORD}@127.0.0.1:{port}/app", "--timeout", "3")
    assert r.returncode == 3
    assert time.monotonic() - started < 3 + 1 + 2  # + interpreter start-up
    assert "refused" in r.stdout.lower() and PASSWORD not in r.stdout + r.stderr


def test_silent_listener_times_out_within_bound(silent_listener):
    started = time.monotonic()
    r = run_advisor(
        "probe",
        f"postgresql://app:{PASSWORD}@127.0.0.1:{silent_listener.port}/app",
        "--timeout",
        "2",
        "--format",
        "json",
    )
    elapsed = time.monotonic() - started
    assert r.returncode == 3
    assert elapsed < 2 + 1 + 2, elapsed
    report = json.loads(r.stdout)
    assert "timed out" in finding(report, "PG001")["message"]


def test_missing_database_exits_3(pg_plain):
    r, report = probe_json(pg_plain.url(db="nope"))
    assert r.returncode == 3
    assert "does not exist" in finding(report, "PG001")["message"]


@pytest.mark.parametrize(
    "bad",
    [
        "garbage",
        "mysql-ish://x",
        "http://h/d",
        "postgresql://app:{pw}@127.0.0.1:70000/app",
        "postgresql://app:{pw}@[::1/app",
        "postgresql://app:{pw}@h/app?sslmode=sure",
    ],
)
def test_bad_urls_exit_2_with_one_line(bad):
    r = run_advisor("probe", bad.format(pw=PASSWORD))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("advisor: error:"), r.stderr
    assert PASSWORD not in r.stderr + r.stdout


def test_help_and_lint_do_not_import_the_driver():
    import subprocess
    import sys

    code = (
        "import sys, contextlib, io\nfrom advisor.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['--help'])\n    except SystemExit: pass\n"
        "    main(['lint', 'postgresql://u:p@h/d'])\n"
        "print('psycopg' in sys.modules, 'pymysql' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False False", out.stderr
    helptext = run_advisor("--help").stdout
    for code_line in ("0  no failing finding", "2  usage error", "3  could not probe"):
        assert code_line in helptext
