"""MySQL facts and checks on recorded data: no server needed."""

from __future__ import annotations

import copy
import ssl

import pytest

from advisor import checks
from advisor.catalog import load_checks
from advisor.errors import InvalidTarget
from advisor.facts import mysql as my
from advisor.target import parse_target

PASSWORD = "s3cr3t-Pa55"

# Recorded from a MariaDB 10.11 test server (max_connections 37) through TCP.
ROW = {
    "version": "10.11.19-MariaDB-0+deb12u1",
    "version_comment": "Debian 12",
    "max_connections": 37,
    "max_user_connections_global": 0,
    "max_user_connections_session": 0,
    "wait_timeout": 28800,
    "interactive_timeout": 28800,
    "account": "app@%",
    "connection_id": 31,
    "user_connections": 1,
    "extra_max_connections": 1,
    "extra_port": 0,
    "read_only": 1,
    "require_secure_transport": "OFF",
}
STATUS = {
    "Threads_connected": "1",
    "Max_used_connections": "6",
    "Uptime": "42",
    "Aborted_connects": "1",
    "Connections": "12",
    "Connection_errors_max_connections": "0",
    "Ssl_version": "",
    "Ssl_cipher": "",
}
HANDSHAKE = {
    "version": "5.5.5-10.11.19-MariaDB-0+deb12u1",
    "connection_id": 31,
    "offers_tls": False,
}
CLIENT_PLAIN = {
    "in_use": False,
    "version": None,
    "cipher": None,
    "sslmode": "PREFERRED",
    "sslmode_source": "default",
    "ca": None,
    "verified": False,
    "hostname_verified": False,
}
URL = f"mysql://app:{PASSWORD}@127.0.0.1:3306/app"


def facts(row=None, status=None, handshake=None, client=None, url=URL) -> dict:
    target = parse_target(url)
    out = my.build_facts(
        {**ROW, **(row or {})},
        {**STATUS, **(status or {})},
        {**HANDSHAKE, **(handshake or {})},
        {**CLIENT_PLAIN, **(client or {})},
        target,
        connect_ms=3.2,
        total_ms=9.9,
    )
    return {"engine": "mysql", **out}


def run(f: dict, url: str = URL, **ctx) -> dict:
    context = checks.Context(target=parse_target(url), **ctx)
    return {x.id: x for x in checks.run(f, context, kinds=("probe",))}


# -- facts -------------------------------------------------------------------


def test_build_facts_reuses_postgres_names():
    f = facts()
    assert f["server_version"] == "10.11.19-MariaDB-0+deb12u1"
    assert f["flavor"] == "mariadb"
    assert (
        f["max_connections"],
        f["reserved_connections"],
        f["connections_in_use"],
        f["available_connections"],
    ) == (37, 1, 1, 36)
    assert f["max_used_connections"] == 6 and f["uptime_seconds"] == 42
    assert f["wait_timeout"] == 28800 and f["connection_errors_max_connections"] == 0
    assert f["max_user_connections"] == {
        "global": 0,
        "account": None,
        "effective": 0,
        "account_name": "app@%",
        "connections": 1,
    }
    assert f["tls"]["server"] == {
        "in_use": False,
        "version": None,
        "cipher": None,
        "ssl_enabled": False,
        "require_secure_transport": False,
    }
    assert f["session"]["read_only"] is True
    assert f["pooler"]["detected"] is False
    assert f["probe"]["connections_opened"] == 1


def test_mariadb_extra_port_adds_admin_slots():
    f = facts(row={"extra_port": 3307, "extra_max_connections": 2})
    assert f["reserved_connections"] == 3
    assert f["admin_slots"] == {"super_slot": 1, "extra_port": 3307, "extra_max_connections": 2}


def test_account_limit_comes_from_the_session_value():
    f = facts(row={"max_user_connections_global": 0, "max_user_connections_session": 5})
    assert f["max_user_connections"]["account"] == 5
    assert f["max_user_connections"]["effective"] == 5


@pytest.mark.parametrize(
    "version, flavor, numbers",
    [
        ("5.5.5-10.11.19-MariaDB-0+deb12u1", "mariadb", (10, 11, 19)),
        ("11.4.2-MariaDB", "mariadb", (11, 4, 2)),
        ("8.0.36", "mysql", (8, 0, 36)),
        ("8.0.30-Vitess", "mysql", (8, 0, 30)),
        ("garbage", "mysql", (0, 0, 0)),
    ],
)
def test_parse_version(version, flavor, numbers):
    assert my.parse_version(version)[:2] == (flavor, numbers)


def test_facts_sql_only_asks_for_variables_the_server_has():
    old_maria = my.facts_sql("5.5.5-10.4.30-MariaDB", 5)
    assert "require_secure_transport" not in old_maria and "tx_read_only" in old_maria
    assert old_maria.startswith("SET STATEMENT max_statement_time=5.0 FOR SELECT")
    mysql8 = my.facts_sql("8.0.36", 5)
    assert "transaction_read_only" in mysql8 and "require_secure_transport" in mysql8
    assert "MAX_EXECUTION_TIME(5000)" in mysql8 and "extra_port" not in mysql8
    assert "@@SESSION.tx_read_only" in my.facts_sql("5.6.51", 5)


# -- URL -> driver options -----------------------------------------------------


def kwargs(url: str, timeout: float = 10.0) -> dict:
    return my.connect_kwargs(parse_target(url), timeout)


def test_connect_kwargs_tcp_and_timeouts():
    kw = kwargs(URL + "?connect-timeout=3", timeout=10)
    assert (kw["host"], kw["port"], kw["user"], kw["database"]) == ("127.0.0.1", 3306, "app", "app")
    assert kw["connect_timeout"] == 3 and kw["read_timeout"] == 10 and kw["defer_connect"]
    assert kwargs(URL + "?connect_timeout=0", timeout=4)["connect_timeout"] == 4  # 0 = no limit
    assert kw["password"] == PASSWORD.encode()


def test_connect_kwargs_socket_and_utf8_password():
    kw = kwargs("mariadb://app:p%C3%A4ss@%2Frun%2Fmysqld%2Fmysqld.sock/app")
    assert kw["unix_socket"] == "/run/mysqld/mysqld.sock" and "host" not in kw
    assert kw["password"] == "päss".encode()
    assert kw["ssl_disabled"] is True  # PREFERRED does not encrypt a local socket


@pytest.mark.parametrize(
    "query, mode, verify, hostname",
    [
        ("", "PREFERRED", ssl.CERT_NONE, False),
        ("?ssl-mode=required", "REQUIRED", ssl.CERT_NONE, False),
        ("?ssl-mode=VERIFY_CA", "VERIFY_CA", ssl.CERT_REQUIRED, False),
        ("?ssl-mode=VERIFY_IDENTITY", "VERIFY_IDENTITY", ssl.CERT_REQUIRED, True),
        ("?sslaccept=strict", "VERIFY_IDENTITY", ssl.CERT_REQUIRED, True),
        ("?sslaccept=accept_invalid_certs", "PREFERRED", ssl.CERT_NONE, False),
    ],
)
def test_ssl_modes(query, mode, verify, hostname):
    target = parse_target(URL + query)
    assert my.tls_settings(target)["sslmode"] == mode
    ctx = my.connect_kwargs(target, 5)["ssl"]
    assert ctx.verify_mode == verify and ctx.check_hostname is hostname


def test_ssl_disabled_and_prisma_ca():
    assert kwargs(URL + "?ssl-mode=DISABLED")["ssl_disabled"] is True
    target = parse_target(URL + "?sslcert=/etc/ca.pem")
    assert my.tls_settings(target)["ca"] == "/etc/ca.pem"


@pytest.mark.parametrize(
    "query", ["?connect-timeout=soon", "?charset=klingon", "?tls-version=TLSv1.0"]
)
def test_bad_driver_options_are_invalid_targets(query):
    with pytest.raises(InvalidTarget) as exc:
        kwargs(URL + query)
    assert PASSWORD not in str(exc.value)


# -- proxies -------------------------------------------------------------------


def test_connection_id_mismatch_is_a_proxy():
    f = facts(handshake={"connection_id": 7})
    assert f["pooler"]["detected"] and f["pooler"]["kind"] == "proxy"


def test_vitess_on_planetscale_host():
    url = f"mysql://u:{PASSWORD}@aws.connect.psdb.cloud/db"
    f = facts(row={"version": "8.0.31-Vitess"}, handshake={"version": "8.0.31-Vitess"}, url=url)
    assert f["pooler"]["kind"] == "vitess"
    assert any("vitess-mysql" in e for e in f["pooler"]["evidence"])


def test_rds_proxy_host_needs_server_behaviour():
    url = f"mysql://u:{PASSWORD}@app.proxy-abc123.eu-west-1.rds.amazonaws.com:3306/db"
    quiet = facts(url=url, row={"version": "8.0.36"}, handshake={"version": "8.0.36"})
    assert not quiet["pooler"]["detected"]
    proxied = facts(
        url=url, row={"version": "8.0.36"}, handshake={"version": "8.0.36", "connection_id": 999}
    )
    assert proxied["pooler"]["kind"] == "rds-proxy"
    assert proxied["pooler"]["pool_mode"] == "transaction"


def test_proxysql_version_comment():
    f = facts(row={"version_comment": "(ProxySQL)"})
    assert f["pooler"]["kind"] == "proxysql"


# -- errors --------------------------------------------------------------------


class FakeError(Exception):
    pass


@pytest.mark.parametrize(
    "args, kind",
    [
        (
            (1045, f"Access denied for user 'app'@'10.0.0.1' (using password: YES) {PASSWORD}"),
            "authentication",
        ),
        ((1049, "Unknown database 'nope'"), "missing-database"),
        ((1040, "Too many connections"), "no-free-slot"),
        ((3159, "Connections using insecure transport are prohibited"), "tls"),
        (
            (2003, "Can't connect to MySQL server on 'x' ([Errno -2] Name or service not known)"),
            "dns",
        ),
        (
            (2003, "Can't connect to MySQL server on 'x' ([SSL: CERTIFICATE_VERIFY_FAILED] ...)"),
            "tls",
        ),
        ((2003, "Can't connect to MySQL server on 'x' (timed out)"), "timeout"),
        (
            (2003, "Can't connect to MySQL server on 'x' ([Errno 111] Connection refused)"),
            "unreachable",
        ),
    ],
)
def test_driver_errors_map_to_kinds(args, kind):
    failure = my._probe_failed(FakeError(*args), parse_target(URL))
    assert failure.kind == kind
    assert PASSWORD not in str(failure) and "\n" not in str(failure)


# -- checks --------------------------------------------------------------------


def test_catalog_and_registry_agree():
    checks.load_all()
    ids = {i for i, e in load_checks().items() if e["file"] == "mysql.toml"}
    assert ids == {"MY001", "MY101", "MY102", "MY103", "MY104", "MY105", "MY301", "MY302", "MY303"}
    for check_id in ids:
        assert check_id in checks.REGISTRY
        assert load_checks()[check_id]["engine"] == "mysql"


def test_quiet_server_passes_capacity():
    r = run(facts())
    assert r["MY001"].status == "pass" and "1 client connection opened" in r["MY001"].message
    assert r["MY101"].status == "pass" and "36 of 37" in r["MY101"].message
    assert r["MY102"].status == "pass" and r["MY103"].status == "pass"
    assert r["MY105"].status == "pass"


def test_peak_near_limit_fails_even_when_quiet_now():
    r = run(facts(status={"Max_used_connections": "35"}))
    assert r["MY101"].status == "pass"
    assert r["MY102"].status == "fail" and "peak 35 of 37" in r["MY102"].message
    assert run(facts(status={"Max_used_connections": "30"}))["MY102"].status == "warn"


def test_headroom_thresholds():
    assert run(facts(status={"Threads_connected": "33"}))["MY101"].status == "fail"  # 4 free
    assert run(facts(status={"Threads_connected": "31"}))["MY101"].status == "warn"  # 6 of 37
    ctx = {"thresholds": {"MY101.warn_below_percent": 10}}
    assert run(facts(status={"Threads_connected": "31"}), **ctx)["MY101"].status == "pass"


def test_connection_errors():
    assert run(facts(status={"Connection_errors_max_connections": "3"}))["MY103"].status == "fail"
    many_aborted = {"Aborted_connects": "40", "Connections": "200"}
    assert run(facts(status=many_aborted))["MY103"].status == "warn"
    refused_early = {"Aborted_connects": "2", "Max_used_connections": "38"}
    r = run(facts(status=refused_early))
    assert r["MY103"].status == "warn" and "Too many connections" in r["MY103"].message


def test_wait_timeout_default_warns_for_serverless():
    r = run(facts())
    assert r["MY104"].status == "warn" and "28800 s" in r["MY104"].message
    assert run(facts(row={"wait_timeout": 300}))["MY104"].status == "pass"
    assert run(facts(), serverless=False)["MY104"].status == "skip"


def test_per_account_limit():
    tight = facts(row={"max_user_connections_session": 3, "user_connections": 2})
    r = run(tight)["MY105"]
    assert r.status == "fail" and "limited to 3" in r.message and "account's" in r.message
    roomy = facts(
        row={
            "max_user_connections_global": 100,
            "max_user_connections_session": 100,
            "user_connections": 5,
        }
    )
    assert run(roomy)["MY105"].status == "pass"


def test_tls_verdicts():
    remote = f"mysql://app:{PASSWORD}@db.example.com/app"
    plain = facts(url=remote)
    r = run(plain, url=remote)
    assert r["MY301"].status == "fail" and "MY302" not in r
    assert r["MY303"].status == "warn" and "does not offer" in r["MY303"].message
    assert run(facts())["MY301"].status == "warn"  # loopback
    tls = {"in_use": True, "version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
    on = {"Ssl_version": "TLSv1.3", "Ssl_cipher": "TLS_AES_256_GCM_SHA384"}
    offered = {"offers_tls": True}
    required = facts(client={**tls, "sslmode": "REQUIRED"}, status=on, handshake=offered)
    r = run(required)
    assert (
        r["MY301"].status == "pass" and r["MY302"].status == "warn" and r["MY303"].status == "warn"
    )
    ca = facts(
        client={**tls, "sslmode": "VERIFY_CA", "verified": True}, status=on, handshake=offered
    )
    assert "not the host name" in run(ca)["MY302"].message
    full = facts(
        client={**tls, "sslmode": "VERIFY_IDENTITY", "verified": True, "hostname_verified": True},
        status=on,
        handshake=offered,
        row={"require_secure_transport": "ON"},
    )
    r = run(full)
    assert r["MY302"].status == "pass" and r["MY303"].status == "pass"


def test_unreachable_is_one_error_finding():
    f = {
        "engine": "mysql",
        "probe": {
            "error": "authentication failed for user app",
            "error_kind": "authentication",
            "connections_opened": 0,
        },
    }
    r = run(f)
    assert [x.status for x in r.values()] == ["error"]
    assert r["MY001"].message == "authentication failed for user app"


def test_checks_do_not_mutate_facts():
    f = facts()
    before = copy.deepcopy(f)
    run(f)
    assert f == before
