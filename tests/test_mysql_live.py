"""`advisor probe` against real MariaDB servers, run as a user would (a subprocess).

Counters such as Max_used_connections are global and tests share the servers, so each
test that asserts on them starts with FLUSH STATUS (which resets the peak to "now").
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.support import servers_mysql
from tests.support.cli import ROOT, run_advisor
from tests.support.live import running
from tests.support.servers import PASSWORD

pytestmark = pytest.mark.live
SCHEMA = ROOT / "advisor" / "schema" / "report-v1.json"


@pytest.fixture(scope="session")
def maria_plain():
    """MariaDB without TLS, non-default max_connections."""
    with running(
        lambda: servers_mysql.MariaDBServer("plain", max_connections=37).start()
    ) as server:
        yield server


@pytest.fixture(scope="session")
def maria_tls():
    """MariaDB with TLS (throwaway CA), require_secure_transport off."""
    with running(
        lambda: servers_mysql.MariaDBServer("tls", max_connections=41, tls=True).start()
    ) as server:
        yield server


def probe(url: str, *args, timeout: float = 60) -> tuple[int, dict, str]:
    r = run_advisor("probe", "--format", "json", *args, env={"DATABASE_URL": url}, timeout=timeout)
    assert PASSWORD not in r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    return r.returncode, json.loads(r.stdout), r.stderr


def findings(report: dict) -> dict:
    return {f["id"]: f for f in report["findings"]}


def wait_idle(server, most: int = 1, timeout: float = 10) -> None:
    """Closed client connections leave the server asynchronously."""
    deadline = time.monotonic() + timeout
    while server.status("Threads_connected") > most and time.monotonic() < deadline:
        time.sleep(0.05)


# -- facts -------------------------------------------------------------------------


def test_facts_of_plain_server(maria_plain):
    code, report, _ = probe(maria_plain.url())
    facts = report["facts"]
    assert code == 0, report["findings"]
    assert report["target"]["engine"] == "mysql"
    assert facts["flavor"] == "mariadb" and facts["server_version"].startswith("10.")
    assert facts["max_connections"] == 37
    assert facts["reserved_connections"] == 1
    assert facts["connections_in_use"] >= 1
    assert facts["available_connections"] == 37 - facts["connections_in_use"]
    assert facts["wait_timeout"] == 28800 and facts["interactive_timeout"] == 28800
    assert facts["max_user_connections"]["global"] == 0
    assert facts["session"]["read_only"] is True
    assert facts["pooler"]["detected"] is False
    assert (
        facts["probe"]["connections_opened"] == 1 and facts["probe"]["queries"] == 5
    )  # 4 + the ProxySQL probe
    # No proxy: every session feature stays with the session (and costs no statement).
    features = facts["session_features"]
    assert set(features) == {
        "server_prepared_statements",
        "user_variables",
        "get_lock",
        "temp_tables",
        "session_set",
    }
    assert all(v["works"] is True and v["how"] == "inferred" for v in features.values())
    f = findings(report)
    assert f["MY001"]["status"] == "pass" and f["MY101"]["status"] == "pass"
    assert f["MY104"]["status"] == "warn" and "28800" in f["MY104"]["message"]


def test_mariadb_scheme_and_socket_url(maria_plain):
    url = f"mariadb://app:{quote(PASSWORD, safe='')}@{quote(str(maria_plain.socket), safe='')}/app"
    code, report, _ = probe(url)
    assert code == 0, report["findings"]
    assert report["facts"]["tls"]["client"]["in_use"] is False
    assert findings(report)["MY301"]["status"] == "warn"  # a socket never leaves the machine


def test_probe_opens_exactly_the_connections_it_reports(maria_plain):
    before = maria_plain.status("Connections")  # this socket session counts itself
    code, report, _ = probe(maria_plain.url())
    after = maria_plain.status("Connections")  # ...and so does this one
    assert code == 0
    assert after - before == report["facts"]["probe"]["connections_opened"] + 1 == 2


def test_peak_usage_reflects_connections_opened_and_closed(maria_plain):
    maria_plain.sql("FLUSH STATUS")
    held = [maria_plain.connect() for _ in range(6)]
    for conn in held:
        conn.close()
    wait_idle(maria_plain)
    code, report, _ = probe(maria_plain.url())
    facts = report["facts"]
    assert facts["max_used_connections"] == 6
    assert findings(report)["MY102"]["status"] == "pass"
    assert "peak 6 of 37" in findings(report)["MY102"]["message"]


def test_full_server_earlier_fails_peak_although_quiet_now(maria_plain):
    import pymysql

    maria_plain.sql("FLUSH STATUS")
    held = [maria_plain.connect() for _ in range(37)]
    try:
        with pytest.raises(pymysql.err.OperationalError) as refused:
            maria_plain.connect()
        assert refused.value.args[0] == 1040
    finally:
        for conn in held:
            conn.close()
    wait_idle(maria_plain)
    try:
        code, report, _ = probe(maria_plain.url())
    finally:
        maria_plain.sql("FLUSH STATUS")  # later tests must not inherit this peak
    f = findings(report)
    assert code == 1
    # 37, or 38 when the refused client briefly held the admin slot before being turned away.
    assert report["facts"]["max_used_connections"] in (37, 38)
    assert f["MY101"]["status"] == "pass"
    assert f["MY102"]["status"] == "fail" and " of 37 connections" in f["MY102"]["message"]
    assert f["MY103"]["status"] == "warn" and "Too many connections" in f["MY103"]["message"]


def test_per_account_limit(maria_plain):
    maria_plain.sql("ALTER USER 'app'@'%' WITH MAX_USER_CONNECTIONS 3")
    held = maria_plain.connect()
    try:
        code, report, _ = probe(maria_plain.url())
    finally:
        held.close()
        maria_plain.sql("ALTER USER 'app'@'%' WITH MAX_USER_CONNECTIONS 0")
    limits = report["facts"]["max_user_connections"]
    assert (limits["global"], limits["account"], limits["effective"]) == (0, 3, 3)
    assert limits["connections"] == 2
    assert findings(report)["MY105"]["status"] == "fail" and code == 1


# -- TLS -----------------------------------------------------------------------------


def test_preferred_uses_tls_when_offered(maria_tls):
    code, report, _ = probe(maria_tls.url())
    tls = report["facts"]["tls"]
    assert code == 0
    assert tls["client"]["in_use"] and tls["client"]["sslmode"] == "PREFERRED"
    assert tls["server"]["in_use"] and tls["server"]["ssl_enabled"]
    assert tls["server"]["require_secure_transport"] is False
    assert tls["client"]["version"] == tls["server"]["version"]
    f = findings(report)
    assert f["MY301"]["status"] == "pass" and f["MY302"]["status"] == "warn"
    assert f["MY303"]["status"] == "warn"
    assert report["facts"]["max_connections"] == 41


def test_preferred_falls_back_on_one_connection(maria_plain):
    before = maria_plain.status("Connections")
    code, report, _ = probe(maria_plain.url(**{"ssl-mode": "PREFERRED"}))
    after = maria_plain.status("Connections")
    tls = report["facts"]["tls"]
    assert code == 0
    assert tls["client"]["in_use"] is False and tls["server"]["ssl_enabled"] is False
    assert after - before == 2  # the probe's one connection and this socket session
    assert "does not offer TLS" in findings(report)["MY301"]["message"]


def test_disabled_does_not_encrypt(maria_tls):
    code, report, _ = probe(maria_tls.url(**{"ssl-mode": "DISABLED"}))
    tls = report["facts"]["tls"]
    assert code == 0
    assert tls["client"]["in_use"] is False and tls["server"]["in_use"] is False
    assert tls["server"]["ssl_enabled"] is True
    assert "ssl-mode=DISABLED" in findings(report)["MY301"]["message"]


def test_required_encrypts_without_verifying(maria_tls):
    code, report, _ = probe(maria_tls.url(**{"ssl-mode": "REQUIRED"}))
    f = findings(report)
    assert code == 0
    assert f["MY301"]["status"] == "pass" and f["MY302"]["status"] == "warn"
    assert report["facts"]["tls"]["client"]["verified"] is False


def test_required_against_plain_server_exits_3(maria_plain):
    code, report, _ = probe(maria_plain.url(**{"ssl-mode": "REQUIRED"}))
    assert code == 3
    assert report["facts"]["probe"]["error_kind"] == "tls"
    assert findings(report)["MY001"]["status"] == "error"


def test_verify_ca_with_test_ca(maria_tls):
    code, report, _ = probe(
        maria_tls.url(**{"ssl-mode": "VERIFY_CA", "ssl-ca": maria_tls.certs["ca"]})
    )
    assert code == 0
    assert report["facts"]["tls"]["client"]["verified"] is True
    assert "not the host name" in findings(report)["MY302"]["message"]


def test_verify_identity_and_prisma_strict(maria_tls):
    for params in (
        {"ssl-mode": "VERIFY_IDENTITY", "ssl-ca": maria_tls.certs["ca"]},
        {"sslaccept": "strict", "sslcert": maria_tls.certs["ca"]},
    ):
        code, report, _ = probe(maria_tls.url(**params))
        assert code == 0, params
        assert findings(report)["MY302"]["status"] == "pass"
        assert report["facts"]["tls"]["client"]["hostname_verified"] is True


def test_verify_ca_with_wrong_ca_exits_3(maria_tls):
    code, report, _ = probe(
        maria_tls.url(**{"ssl-mode": "VERIFY_CA", "ssl-ca": maria_tls.certs["other_ca"]})
    )
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "tls"


def test_server_requiring_tls(maria_tls):
    maria_tls.sql("SET GLOBAL require_secure_transport = ON")
    try:
        code, report, _ = probe(maria_tls.url(**{"ssl-mode": "REQUIRED"}))
        refused, refused_report, _ = probe(maria_tls.url(**{"ssl-mode": "DISABLED"}))
    finally:
        maria_tls.sql("SET GLOBAL require_secure_transport = OFF")
    assert code == 0 and findings(report)["MY303"]["status"] == "pass"
    # MariaDB says "Access denied" here (MySQL says 3159); the message names both causes.
    assert refused == 3 and refused_report["facts"]["probe"]["error_kind"] in (
        "tls",
        "authentication",
    )
    assert "require_secure_transport" in refused_report["facts"]["probe"]["error"]


# -- bad input, failures and secrecy ---------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"mysql://app:{PASSWORD}@127.0.0.1:99999/app",
        f"mysql://app:{PASSWORD}@127.0.0.1/app?ssl-mode=SOMETIMES",
        f"mariadb://app:{PASSWORD}@[::1/app",
        f"mysql://app:{PASSWORD}@db1,db2/app",
        f"mysql://app:{PASSWORD}@127.0.0.1/app?connect-timeout=soon",
        f"mysql://app:{PASSWORD}@127.0.0.1/app?tls-version=SSLv3",
        f"mysql://app:{PASSWORD}@127.0.0.1/app?charset=klingon",
    ],
)
def test_bad_urls_exit_2_with_one_line(url):
    r = run_advisor("probe", env={"DATABASE_URL": url})
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("advisor: error:")
    assert PASSWORD not in r.stderr


def test_wrong_password_exits_3(maria_plain):
    wrong = "Wr0ng/p@ss:w%rd"
    url = maria_plain.url(password=wrong)
    r = run_advisor("probe", env={"DATABASE_URL": url})
    assert r.returncode == 3
    assert "authentication failed" in r.stdout
    for secret in (wrong, quote(wrong, safe="")):
        assert secret not in r.stdout + r.stderr


def test_missing_database_exits_3(maria_plain):
    code, report, _ = probe(maria_plain.url(db="nope"))
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "missing-database"


def test_refused_port_and_silent_listener(silent_listener):
    from tests.support.servers import free_port

    code, report, _ = probe(f"mysql://app:{PASSWORD}@127.0.0.1:{free_port()}/app")
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "unreachable"
    started = time.monotonic()
    code, report, _ = probe(
        f"mysql://app:{PASSWORD}@127.0.0.1:{silent_listener.port}/app", "--timeout", "2"
    )
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "timeout"
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("fmt", ["text", "json", "markdown", "junit"])
def test_password_never_printed(maria_tls, tmp_path: Path, fmt):
    out = tmp_path / f"report.{fmt}"
    r = run_advisor(
        "probe",
        "--format",
        fmt,
        "--output",
        str(out),
        env={"DATABASE_URL": maria_tls.url(**{"ssl-mode": "REQUIRED"})},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    for text in (r.stdout, r.stderr, out.read_text()):
        assert PASSWORD not in text and quote(PASSWORD, safe="") not in text


def test_report_validates_against_schema(maria_tls, maria_plain):
    import jsonschema

    schema = json.loads(SCHEMA.read_text())
    for url in (maria_tls.url(), maria_plain.url(**{"ssl-mode": "REQUIRED"})):
        _, report, _ = probe(url)
        jsonschema.validate(report, schema)
