"""TLS failures say what is wrong: libpq only says "certificate verify failed".

A live PostgreSQL serves a certificate from the right (throwaway) CA that expired in
2020; a small TLS listener that speaks PostgreSQL's SSLRequest serves one that is not
valid before 2099. The report says "expired" / "not yet valid", never "unknown CA",
and the second look at the certificate never logs in.

The same server's pg_hba.conf refuses `app` over TLS and asks for its password in plain
text: with the default sslmode=prefer libpq tries TLS, fails, tries again in plain text;
the error says so, with what each attempt got.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from urllib.parse import quote

import pytest

from tests.support import servers
from tests.support.cli import run_advisor
from tests.support.live import running
from tests.support.servers import PASSWORD

pytestmark = pytest.mark.live

SSL_REQUEST = b"\x00\x00\x00\x08\x04\xd2\x16\x2f"  # length 8, code 80877103


SERIALS = {"expired": "10", "future": "11"}


def sign(d, name: str, start: str, end: str) -> tuple[str, str]:
    """A server certificate for localhost/127.0.0.1 from the CA in `d`, valid start..end
    (openssl ca, which takes explicit dates)."""

    def run(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    (d / "ca.cnf").write_text(
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\n"
        "serial = serial\ndefault_md = sha256\npolicy = p\n"
        "[p]\ncommonName = supplied\n"
    )
    (d / "index.txt").write_text("")
    (d / "serial").write_text(SERIALS[name] + "\n")
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.csr",
    )
    run(
        "ca",
        "-config",
        "ca.cnf",
        "-batch",
        "-notext",
        "-cert",
        "ca.crt",
        "-keyfile",
        "ca.key",
        "-startdate",
        start,
        "-enddate",
        end,
        "-extfile",
        "san.ext",
        "-in",
        f"{name}.csr",
        "-out",
        f"{name}.crt",
    )
    (d / f"{name}.key").chmod(0o600)
    return str(d / f"{name}.crt"), str(d / f"{name}.key")


@pytest.fixture(scope="module")
def certs():
    d = servers.make_workdir("tlsdiag-certs", "postgres")
    servers.make_certs(d)  # ca.crt, and san.ext naming localhost and 127.0.0.1
    found = {
        "ca": str(d / "ca.crt"),
        "other_ca": str(d / "other-ca.crt"),
        "expired": sign(d, "expired", "20200101000000Z", "20200201000000Z"),
        "future": sign(d, "future", "20990101000000Z", "20991231000000Z"),
    }
    servers._chown_tree(d, "postgres")  # the server reads its key as the postgres user
    yield found
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_expired(certs):
    cert, key = certs["expired"]
    with running(
        lambda: servers.PostgresServer(
            "tlsdiag", tls=True, settings={"ssl_cert_file": f"'{cert}'", "ssl_key_file": f"'{key}'"}
        ).start()
    ) as server:
        # app may not log in over TLS; in plain text it needs its password.
        (server.data / "pg_hba.conf").write_text(
            "local all all trust\n"
            "hostssl all app 127.0.0.1/32 reject\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        server.psql("SELECT pg_catalog.pg_reload_conf()")
        time.sleep(0.3)  # the postmaster rereads pg_hba.conf on SIGHUP
        yield server


class TLSListener:
    """Answers 'S' to the SSLRequest and completes a TLS handshake with `cert`, then
    records whatever the client sends (a login would start with a startup packet)."""

    def __init__(self, cert: str, key: str):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted, self.received = 0, b""
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                if conn.recv(8) == SSL_REQUEST:
                    conn.sendall(b"S")
                    conn.settimeout(5)
                    with self.context.wrap_socket(conn, server_side=True) as tls:
                        self.received += tls.recv(1024)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def stop(self):
        self.sock.close()


def probe(url: str, *extra):
    r = run_advisor("probe", url, "--format", "json", *extra)
    assert "Traceback" not in r.stderr, r.stderr
    report = json.loads(r.stdout)
    return r.returncode, report, report["findings"][0]["message"]


def url(port: int, password: str = PASSWORD, **query) -> str:
    q = "&".join(f"{k}={quote(v, safe='/')}" for k, v in query.items())
    return f"postgresql://app:{quote(password, safe='')}@localhost:{port}/app" + (
        f"?{q}" if q else ""
    )


@pytest.mark.parametrize("mode", ["verify-full", "verify-ca"])
def test_an_expired_certificate_from_the_right_ca_says_expired(pg_expired, certs, mode):
    offset = pg_expired.log_size()
    code, report, message = probe(url(pg_expired.port, sslmode=mode, sslrootcert=certs["ca"]))
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "tls"
    assert "expired" in message and "unknown CA" not in message, message
    assert "certificate verify failed" in message  # libpq's own words stay
    # libpq's attempt and the second look: two connections, neither logged in.
    log = pg_expired.log_since(offset)
    assert log.count("connection received") == 2, log
    assert "connection authorized" not in log and "authentication" not in log, log
    # The same look still tells a foreign CA.
    code, _, message = probe(url(pg_expired.port, sslmode=mode, sslrootcert=certs["other_ca"]))
    assert code == 3 and "unknown CA" in message and "expired" not in message, message


def test_a_certificate_not_valid_yet_says_so_and_nothing_logs_in(certs):
    with running(lambda: TLSListener(*certs["future"])) as listener:
        code, report, message = probe(
            url(listener.port, sslmode="verify-full", sslrootcert=certs["ca"])
        )
        assert code == 3 and report["facts"]["probe"]["error_kind"] == "tls"
        assert "not yet valid" in message and "unknown CA" not in message, message
        assert listener.accepted == 2 and listener.received == b""  # a handshake, no login


def test_prefer_says_it_tried_tls_then_plain_text(pg_expired):
    # Right password: TLS is refused by pg_hba.conf, the plain-text retry logs in.
    code, report, _ = probe(url(pg_expired.port))
    assert code != 3 and report["facts"]["tls"]["client"]["in_use"] is False
    # Wrong password: both attempts fail; the error names both, and never the password.
    wrong = "Wr0ng-" + PASSWORD
    r = run_advisor("probe", url(pg_expired.port, password=wrong))
    assert r.returncode == 3 and wrong not in r.stdout + r.stderr
    code, report, message = probe(url(pg_expired.port, password=wrong))
    assert code == 3 and report["facts"]["probe"]["error_kind"] == "authentication"
    assert "tried TLS first, then plain text" in message, message
    tls_part, plain_part = message.split("in plain text,", 1)
    assert "pg_hba.conf rejects connection" in tls_part and "SSL encryption" in tls_part
    assert "authentication failed for user app" in plain_part
    assert "tried TLS first" in r.stdout  # the text report too
