"""The generated pgbouncer.ini (advisor/configgen.py pgbouncer_ini) run by real PgBouncer
1.18 (the system's) and 1.24 (the Debian 13 root), in front of a TLS PostgreSQL: a client
connects through it over verified TLS with a startup parameter the file lets through, and
prepared statements work where the version keeps them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import psycopg
import pytest

from advisor import calculator, configgen
from tests.support import servers
from tests.support.live import running


class GeneratedPgBouncer(servers.PgBouncer):
    """servers.PgBouncer started with the generator's file as it is; only the paths of
    this machine (port, files) are the generator's own arguments, and the log and pid file
    lines a test needs are added to the [pgbouncer] section."""

    def __init__(self, server: servers.PostgresServer, root: Path | None, version: str):
        super().__init__(server, name=f"pgbouncer-ini-{version}", root=root)
        self.wanted = version

    def start(self) -> GeneratedPgBouncer:
        binary = self._binary()
        self.dir = servers.make_workdir(self.name, "postgres", self.root)
        self.log = self.dir / "pgbouncer.log"
        (self.dir / "userlist.txt").write_text(f'"app" "{servers.PASSWORD}"\n')
        for key in ("cert", "key", "ca"):
            shutil.copy(self.server.certs[key], self.dir / Path(self.server.certs[key]).name)
        self.generated = configgen.pgbouncer_ini(
            stack="psycopg",
            instances=4,
            pool_size=1,
            max_connections=self.server.max_connections,
            reserved=self.server.superuser_reserved,
            in_use=2,
            version=self.wanted,
            server_host="127.0.0.1",
            server_port=self.server.port,
            database="app",
            listen_addr="127.0.0.1",
            listen_port=self.port,
            auth_file=self._inside(self.dir / "userlist.txt"),
            client_tls_key_file=self._inside(self.dir / "server.key"),
            client_tls_cert_file=self._inside(self.dir / "server.crt"),
            client_tls_ca_file=self._inside(self.dir / "ca.crt"),
            server_tls_sslmode="verify-full",
            server_tls_ca_file=self._inside(self.dir / "ca.crt"),
        )
        local = [
            f"logfile = {self._inside(self.log)}",
            f"pidfile = {self._inside(self.dir / 'pgbouncer.pid')}",
            "unix_socket_dir =",
        ]
        text = self.generated["file"].replace(
            "[pgbouncer]\n", "[pgbouncer]\n" + "\n".join(local) + "\n"
        )
        (self.dir / "pgbouncer.ini").write_text(text)
        (self.dir / "server.key").chmod(0o600)
        servers._chown_tree(self.dir, "postgres", self.root)
        self.proc = subprocess.Popen(
            servers.in_root(
                self.root, "postgres", [binary, self._inside(self.dir / "pgbouncer.ini")]
            ),
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "stderr.log", "ab"),
        )
        servers.wait_port(self.port, proc=self.proc)
        return self


def _through(bouncer: GeneratedPgBouncer) -> None:
    conninfo = bouncer.url(
        sslmode="verify-full",
        sslrootcert=str(bouncer.dir / "ca.crt"),
        options="-c search_path=public",  # refused unless ignore_startup_parameters has it
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        assert conn.pgconn.ssl_in_use  # the client side of the file's TLS
        assert conn.execute(
            "select ssl from pg_stat_ssl where pid = pg_backend_pid()"
        ).fetchone() == (
            True,
        )  # and PgBouncer's own connection to the server, verified against the CA
        for n in range(3):  # named statements (from the first run) across transactions
            assert conn.execute("select %s::int", (n,), prepare=True).fetchone() == (n,)


@pytest.mark.parametrize("which", ["1.18", "1.24"])
def test_generated_pgbouncer_ini_runs(which, pg_tls, request):
    root = request.getfixturevalue("trixie_root") if which == "1.24" else None
    with running(lambda: GeneratedPgBouncer(pg_tls, root, which).start()) as bouncer:
        assert bouncer.version().startswith(which)
        settings = bouncer.generated["settings"]
        sizes = calculator.pooler_sizes(pg_tls.max_connections, pg_tls.superuser_reserved, 2, 4, 1)
        assert settings["default_pool_size"] == sizes["default_pool_size"]
        assert (
            f"default_pool_size \u2264 {sizes['default_pool_size']}"
            in calculator.capacity(
                pg_tls.max_connections, pg_tls.superuser_reserved, 2, 4, 1, True
            )["sizes"]
        )
        assert settings["ignore_startup_parameters"] == ["options"]
        assert (settings["max_prepared_statements"] == 200) == (which == "1.24")
        if which == "1.18":
            assert "max_prepared_statements" not in bouncer.generated["file"]
            # Prepared statements are not kept by 1.18: one client alone still works.
        _through(bouncer)
        assert "unsupported startup parameter" not in bouncer.log_text()


def test_without_the_ignore_line_pgbouncer_refuses_the_parameter(pg_tls):
    """The ignore line is what makes the connection above work (so the test can fail)."""
    bouncer = GeneratedPgBouncer(pg_tls, None, "1.18")
    with running(bouncer.start):
        pass
    text = bouncer.generated["file"]
    assert "ignore_startup_parameters = options" in text
    stripped = GeneratedPgBouncer(pg_tls, None, "1.18")
    original = configgen.pgbouncer_ini

    def without(**kw):
        out = original(**kw)
        out["file"] = out["file"].replace("ignore_startup_parameters = options\n", "")
        return out

    configgen.pgbouncer_ini = without  # the same file, less one line
    try:
        with running(stripped.start):
            with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter"):
                _through(stripped)
    finally:
        configgen.pgbouncer_ini = original


def test_bad_input_is_one_line():
    for kw, named in [
        ({"pool_mode": "nope"}, "pool mode 'nope'"),
        ({"instances": 0}, "instances must be"),
        ({"version": "2"}, "PgBouncer version '2'"),
        ({"database": "a b"}, "database 'a b'"),
        ({"max_connections": 3, "reserved": 3}, "no slot is free"),
        ({"stack": "nope"}, "ORM or driver 'nope'"),
    ]:
        with pytest.raises(ValueError) as exc:
            configgen.pgbouncer_ini(**kw)
        assert named in str(exc.value) and "\n" not in str(exc.value)
