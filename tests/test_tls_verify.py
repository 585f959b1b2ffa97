"""TLS verification with a throwaway CA: verify-full passes with the right CA and host name,
fails clearly (exit 3, the reason named) with the wrong CA or host name; `require` passes
and the report says the certificate is not verified.

The server certificate names `localhost` and 127.0.0.1 only (tests.support.servers.make_certs).
"""

from __future__ import annotations

import json

import pytest

from tests.support.cli import run_advisor
from tests.support.servers import PASSWORD

pytestmark = pytest.mark.live


def probe(url: str, env: dict | None = None):
    r = run_advisor("probe", url, "--format", "json", env=env)
    assert "Traceback" not in r.stderr, r.stderr
    report = json.loads(r.stdout)
    return r.returncode, report, {f["id"]: f for f in report["findings"]}


def url(server, host="localhost", **query) -> str:
    q = "&".join(f"{k}={v}" for k, v in query.items())
    return f"postgresql://app:{PASSWORD}@{host}:{server.port}/app?{q}"


def test_verify_full_with_the_right_ca_and_host(pg_tls):
    code, report, found = probe(url(pg_tls, sslmode="verify-full", sslrootcert=pg_tls.certs["ca"]))
    client = report["facts"]["tls"]["client"]
    assert code != 3 and client["in_use"] and client["verified"] and client["hostname_verified"]
    assert found["PG302"]["status"] == "pass"


@pytest.mark.parametrize("mode", ["verify-full", "verify-ca"])
def test_wrong_ca_fails_and_says_unknown_ca(pg_tls, mode):
    code, report, found = probe(url(pg_tls, sslmode=mode, sslrootcert=pg_tls.certs["other_ca"]))
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "tls"
    assert "unknown CA" in found["PG001"]["message"], found["PG001"]
    assert "certificate verify failed" in found["PG001"]["message"]


def test_hostname_not_in_certificate_fails_and_says_mismatch(pg_tls):
    # hostaddr dials the server while libpq checks the certificate against `host`.
    code, report, found = probe(
        url(
            pg_tls,
            host="not-in-cert.example",
            sslmode="verify-full",
            sslrootcert=pg_tls.certs["ca"],
            hostaddr="127.0.0.1",
        )
    )
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "tls"
    message = found["PG001"]["message"]
    assert "hostname mismatch" in message and "not-in-cert.example" in message


def test_hostname_checked_after_our_own_dns_lookup(pg_tls, tmp_path):
    """The probe resolves names itself (bounded) and passes hostaddr; libpq must still
    verify the certificate against the name: a resolver mapping a foreign name to the
    server's address must not make verify-full pass."""
    (tmp_path / "sitecustomize.py").write_text(
        "import socket\n_real = socket.getaddrinfo\n"
        "def getaddrinfo(host, *a, **k):\n"
        "    return _real('127.0.0.1' if host == 'imposter.test' else host, *a, **k)\n"
        "socket.getaddrinfo = getaddrinfo\n"
    )
    env = {"PYTHONPATH": str(tmp_path)}
    code, _, found = probe(
        url(pg_tls, host="imposter.test", sslmode="verify-full", sslrootcert=pg_tls.certs["ca"]),
        env=env,
    )
    assert code == 3 and "hostname mismatch" in found["PG001"]["message"]
    # verify-ca checks the chain only: the same dial passes, and the report says so.
    code, _, found = probe(
        url(pg_tls, host="imposter.test", sslmode="verify-ca", sslrootcert=pg_tls.certs["ca"]),
        env=env,
    )
    assert code != 3 and found["PG302"]["status"] == "warn"
    assert "not the host name" in found["PG302"]["message"]


def test_keyword_dsn_hostname_mismatch(pg_tls):
    dsn = (
        f"host=not-in-cert.example hostaddr=127.0.0.1 port={pg_tls.port} dbname=app user=app "
        f"password={PASSWORD} sslmode=verify-full sslrootcert={pg_tls.certs['ca']}"
    )
    code, _, found = probe(dsn)
    assert code == 3 and "hostname mismatch" in found["PG001"]["message"]


def test_missing_ca_file_names_sslrootcert(pg_tls, tmp_path):
    code, report, found = probe(
        url(pg_tls, sslmode="verify-full", sslrootcert=str(tmp_path / "nope.crt"))
    )
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "tls"
    assert "sslrootcert" in found["PG001"]["message"]


def test_require_passes_but_warns_not_verified(pg_tls):
    code, report, found = probe(url(pg_tls, sslmode="require"))
    client = report["facts"]["tls"]["client"]
    assert code != 3 and client["in_use"] and not client["verified"]
    assert found["PG302"]["status"] == "warn" and "not verified" in found["PG302"]["message"]
    text = run_advisor("probe", url(pg_tls, sslmode="require")).stdout
    assert "not verified" in text


def test_verify_full_against_a_server_without_tls(pg_plain):
    code, report, found = probe(url(pg_plain, sslmode="verify-full", sslrootcert="/dev/null"))
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "tls"
