"""A throwaway MariaDB server from the system binaries, like PostgresServer.

mariadb-install-db into a temporary data directory, then mariadbd as the `mysql` OS user
on a free loopback port with its own socket and pid file, small buffers and no binlog.
Root logs in over the socket (unix_socket authentication); the `app` account uses
PASSWORD over TCP.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
import time
from pathlib import Path

from tests.support.servers import (
    PASSWORD,
    ROOT,
    MissingBinary,
    _as_user,
    _chown_tree,
    free_port,
    make_certs,
    make_workdir,
    stop_process,
    wait_port,
)

OS_USER = "mysql"


def _binary(name: str) -> str:
    for path in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
        if path and Path(path).exists():
            return path
    raise MissingBinary(f"{name} (apt-get install mariadb-server)")


class MariaDBServer:
    """mariadbd on 127.0.0.1:<free port>; `app` user and database; TLS optional."""

    def __init__(
        self, name: str, max_connections: int = 151, tls: bool = False, settings: dict | None = None
    ):
        self.name, self.tls, self.max_connections = name, tls, max_connections
        self.settings = settings or {}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.certs: dict = {}
        self.dir: Path | None = None
        # The account root's socket sessions log in as (unix_socket maps the OS user).
        self.admin_user = OS_USER if ROOT else getpass.getuser()

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> MariaDBServer:
        mariadbd, install_db = _binary("mariadbd"), _binary("mariadb-install-db")
        self.client = _binary("mariadb")
        try:
            return self._start(mariadbd, install_db)
        except BaseException:
            self.stop()  # no half-started server or data directory left behind
            raise

    def _start(self, mariadbd: str, install_db: str) -> MariaDBServer:
        self.dir = make_workdir(f"mariadb-{self.name}", OS_USER)
        self.data, self.socket = self.dir / "data", self.dir / "mysqld.sock"
        self.log = self.dir / "error.log"
        if self.tls:
            self.certs = make_certs(self.dir)
        _chown_tree(self.dir, OS_USER)
        # The same small-footprint options for bootstrap and server: 2 cores, shared machine.
        small = [
            "--no-defaults",
            f"--datadir={self.data}",
            "--innodb-buffer-pool-size=8M",
            "--innodb-log-file-size=8M",
            "--key-buffer-size=1M",
            "--performance-schema=OFF",
            "--skip-log-bin",
            "--innodb-flush-log-at-trx-commit=0",
            "--skip-name-resolve",
        ]
        install = [
            install_db,
            *small,
            f"--user={self.admin_user}",
            "--skip-test-db",
            "--auth-root-authentication-method=socket",
        ]
        r = subprocess.run(_as_user(OS_USER, install), capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{r.stdout}\n{r.stderr}")
        options = [
            *small,
            f"--port={self.port}",
            "--bind-address=127.0.0.1",
            f"--socket={self.socket}",
            f"--pid-file={self.dir / 'mysqld.pid'}",
            f"--log-error={self.log}",
            f"--max-connections={self.max_connections}",
            "--aria-pagecache-buffer-size=1M",
            "--table-open-cache=200",
            "--thread-cache-size=0",
        ]
        if self.tls:
            options += [
                f"--ssl-cert={self.certs['cert']}",
                f"--ssl-key={self.certs['key']}",
                f"--ssl-ca={self.certs['ca']}",
            ]
        options += [f"--{k.replace('_', '-')}={v}" for k, v in self.settings.items()]
        self.proc = subprocess.Popen(
            _as_user(OS_USER, [mariadbd, *options]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_port(self.port, timeout=60, proc=self.proc)
            self._wait_socket()
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n{self.log_text()[-3000:]}") from None
        self.sql(
            f"CREATE USER 'app'@'%' IDENTIFIED BY '{PASSWORD}';"
            "CREATE DATABASE app; GRANT ALL ON app.* TO 'app'@'%';"
        )
        return self

    def _wait_socket(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.socket.exists() and self._client("SELECT 1").returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"mariadb {self.name}: socket {self.socket} not ready")

    def stop(self) -> None:
        stop_process(self.proc, self.dir, wait=20)

    # -- helpers ---------------------------------------------------------------
    def _client(self, sql: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            _as_user(
                OS_USER,
                [
                    self.client,
                    "--no-defaults",
                    f"--socket={self.socket}",
                    "-u",
                    self.admin_user,
                    "--batch",
                    "--skip-column-names",
                    "-e",
                    sql,
                ],
            ),
            capture_output=True,
            text=True,
        )

    def sql(self, sql: str) -> str:
        """Run SQL as the admin account over the Unix socket. Each call is one connection
        (it counts in `Connections`, never in TCP-only figures)."""
        r = self._client(sql)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb client failed: {r.stderr.strip()}")
        return r.stdout.strip()

    def status(self, name: str) -> int:
        """A global status counter, read over one socket session (which Connections counts)."""
        row = self.sql(f"SHOW GLOBAL STATUS LIKE '{name}'")
        return int(row.split("\t")[1])

    def url(
        self,
        user: str = "app",
        password: str = PASSWORD,
        db: str = "app",
        scheme: str = "mysql",
        port: int | None = None,
        **params,
    ) -> str:
        from urllib.parse import quote, urlencode

        query = ("?" + urlencode(params)) if params else ""
        return (
            f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:"
            f"{port or self.port}/{db}{query}"
        )

    def connect(self, **kw):
        """A PyMySQL connection as `app` over TCP (for tests that hold slots)."""
        import pymysql

        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="app",
            password=PASSWORD,
            database="app",
            ssl_disabled=True,
            connect_timeout=5,
            **kw,
        )

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except (OSError, AttributeError):
            return ""
