"""Throwaway database servers from the system binaries, on free loopback ports.

Used by the test suite (session-scoped fixtures), `make demo` and `bench/`. As root the
servers run as the `postgres` / `mysql` OS users, since PostgreSQL refuses root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PASSWORD = "s3cr3t-Pa55"  # the test role's password: tests assert it never leaks
ROOT = os.geteuid() == 0


class MissingBinary(RuntimeError):
    pass


def pg_bindir() -> Path:
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    for d in reversed(dirs):
        if Path(d, "postgres").exists():
            return Path(d)
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    raise MissingBinary("PostgreSQL server binaries (apt-get install postgresql)")


def which(name: str, hint: str) -> str:
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if not path:
        raise MissingBinary(f"{name} ({hint})")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port} after {timeout}s")


def _owner(user: str, root: Path | None = None) -> tuple[int, int]:
    """`user`'s ids: the host's, or those in the chroot `root`'s own /etc/passwd (its
    programs look themselves up there: initdb refuses an id it cannot name)."""
    if not ROOT:
        return os.getuid(), os.getgid()
    if root is None:
        pw = pwd.getpwnam(user)
        return pw.pw_uid, pw.pw_gid
    for line in (root / "etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if len(fields) > 3 and fields[0] == user:
            return int(fields[2]), int(fields[3])
    raise MissingBinary(f"user {user} in {root} (tests/support/trixie.py creates it)")


def _as_user(user: str, argv: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if ROOT else argv


def _chown_tree(path: Path, user: str, root: Path | None = None) -> None:
    uid, gid = _owner(user, root)
    for p in [path, *path.rglob("*")]:
        os.chown(p, uid, gid)


def stop_process(
    proc: subprocess.Popen | None, directory: Path | None = None, wait: float = 10
) -> None:
    """SIGTERM (a clean shutdown for every server here), SIGKILL if it lingers; remove its files."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def read_text(*paths: Path) -> str:
    """Logs for failure reports: whatever of these files exists."""
    out = ""
    for path in paths:
        try:
            out += path.read_text(errors="replace")
        except OSError:
            pass
    return out


def make_workdir(prefix: str, user: str, root: Path | None = None) -> Path:
    """A fresh folder owned by `user`: under /tmp, or under the chroot `root`'s /tmp."""
    base = None if root is None else root / "tmp"
    path = Path(tempfile.mkdtemp(prefix=f"advisor-{prefix}-", dir=base))
    path.chmod(0o755)
    _chown_tree(path, user, root)
    return path


def make_certs(directory: Path, hostname: str = "localhost") -> dict:
    """A test CA and a server certificate for `hostname` and 127.0.0.1 (openssl CLI)."""
    d = directory
    run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)  # noqa: E731
    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=advisor test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    )
    (d / "san.ext").write_text(f"subjectAltName=DNS:{hostname},IP:127.0.0.1\n")
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        f"/CN={hostname}",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    )
    # A second CA that signed nothing here: "wrong CA" tests use it.
    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=other CA",
        "-keyout",
        "other-ca.key",
        "-out",
        "other-ca.crt",
    )
    (d / "server.key").chmod(0o600)
    return {
        "ca": str(d / "ca.crt"),
        "cert": str(d / "server.crt"),
        "key": str(d / "server.key"),
        "other_ca": str(d / "other-ca.crt"),
    }


class PostgresServer:
    """initdb + postgres on a free port; `app` role with a password; log_connections on.

    `root` runs the PostgreSQL of another Debian release from a chroot (e.g.
    `trixie.root()`, PostgreSQL 17); it listens on the host's loopback all the same, and
    the attributes (`dir`, `data`, `socket_dir`, `log`) are host paths."""

    def __init__(
        self,
        name: str,
        max_connections: int = 20,
        superuser_reserved: int = 3,
        tls: bool = False,
        settings: dict | None = None,
        root: Path | None = None,
    ):
        self.name, self.tls = name, tls
        self.root = Path(root) if root is not None else None
        self.max_connections, self.superuser_reserved = max_connections, superuser_reserved
        self.settings = settings or {}
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.certs: dict = {}

    def _bindir(self) -> Path:
        """The server binaries, as the programs see them (inside the root, if any)."""
        if self.root is None:
            return pg_bindir()
        found = sorted(
            self.root.glob("usr/lib/postgresql/*/bin/postgres"),
            key=lambda p: int(p.parts[-3]),
        )
        if not found:
            raise MissingBinary(f"PostgreSQL in {self.root} (tests/support/trixie.py builds it)")
        return Path("/") / found[-1].parent.relative_to(self.root)

    def _inside(self, path: Path) -> str:
        return str(path if self.root is None else Path("/") / path.relative_to(self.root))

    def _as_postgres(self, argv: list[str]) -> list[str]:
        return (
            _as_user("postgres", argv)
            if self.root is None
            else in_root(self.root, "postgres", argv)
        )

    # -- lifecycle -----------------------------------------------------------
    def start(self) -> PostgresServer:
        bindir = self._bindir()
        self.dir = make_workdir(f"pg-{self.name}", "postgres", self.root)
        self.data, self.socket_dir = self.dir / "data", self.dir / "sock"
        self.socket_dir.mkdir()
        self.log = self.dir / "server.log"
        self.log.touch()
        _chown_tree(self.dir, "postgres", self.root)
        pwfile = self.dir / "pw"
        pwfile.write_text("postgres-" + PASSWORD + "\n")
        _chown_tree(self.dir, "postgres", self.root)
        subprocess.run(
            self._as_postgres(
                [
                    str(bindir / "initdb"),
                    "-D",
                    self._inside(self.data),
                    "-U",
                    "postgres",
                    "--pwfile",
                    self._inside(pwfile),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "unix_socket_directories": f"'{self._inside(self.socket_dir)}'",
            "max_connections": self.max_connections,
            "superuser_reserved_connections": self.superuser_reserved,
            "log_connections": "on",
            "log_disconnections": "on",
            "fsync": "off",
            "shared_buffers": "16MB",
            "log_line_prefix": "'%m [%p] %a '",
        }
        if self.tls:
            self.certs = make_certs(self.dir)
            _chown_tree(self.dir, "postgres", self.root)
            conf.update(
                {
                    "ssl": "on",
                    "ssl_cert_file": f"'{self._inside(Path(self.certs['cert']))}'",
                    "ssl_key_file": f"'{self._inside(Path(self.certs['key']))}'",
                }
            )
        conf.update(self.settings)
        with open(self.data / "postgresql.conf", "a") as fh:
            fh.write("\n# advisor test settings\n")
            fh.writelines(f"{k} = {v}\n" for k, v in conf.items())
        self.proc = subprocess.Popen(
            self._as_postgres([str(bindir / "postgres"), "-D", self._inside(self.data)]),
            stdout=open(self.log, "ab"),
            stderr=subprocess.STDOUT,
        )
        wait_port(self.port, proc=self.proc)
        self._wait_ready()
        self.psql(f"CREATE ROLE app LOGIN PASSWORD '{PASSWORD}'")
        self.psql("CREATE DATABASE app OWNER app")
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            r = subprocess.run(
                self._as_postgres(
                    [
                        str(self._bindir() / "pg_isready"),
                        "-h",
                        self._inside(self.socket_dir),
                        "-p",
                        str(self.port),
                    ]
                ),
                capture_output=True,
            )
            if r.returncode == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"postgres {self.name} not ready:\n{self.log_text()}")

    def stop(self) -> None:
        stop_process(self.proc, self.dir)

    # -- helpers ---------------------------------------------------------------
    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run SQL as the superuser over the Unix socket (not counted as TCP connections)."""
        r = subprocess.run(
            self._as_postgres(
                [
                    str(self._bindir() / "psql"),
                    "-h",
                    self._inside(self.socket_dir),
                    "-p",
                    str(self.port),
                    "-U",
                    "postgres",
                    "-d",
                    db,
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-XAtq",
                    "-c",
                    sql,
                ]
            ),
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            raise RuntimeError(f"psql failed: {r.stderr}")
        return r.stdout.strip()

    def url(
        self,
        user: str = "app",
        password: str = PASSWORD,
        db: str = "app",
        port: int | None = None,
        **params,
    ) -> str:
        from urllib.parse import quote, urlencode

        query = ("?" + urlencode(params)) if params else ""
        return (
            f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@127.0.0.1:"
            f"{port or self.port}/{db}{query}"
        )

    def log_text(self) -> str:
        return read_text(self.log)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        with open(self.log, "rb") as fh:
            fh.seek(offset)
            return fh.read().decode(errors="replace")

    def advisor_sessions(self) -> int:
        return int(
            self.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'advisor'")
        )


def in_root(root: Path | None, user: str, argv: list[str]) -> list[str]:
    """`argv` run as `user`, inside the chroot `root` (tests/support/trixie.py) when given.
    In a root the user's ids are the root's own (its programs look themselves up in its
    /etc/passwd), and the files they read must be chowned to those (`_chown_tree(...,
    root)`)."""
    if root is not None and not ROOT:
        raise MissingBinary(f"programs in {root} (running them with chroot needs root)")
    if not ROOT:
        return argv
    uid, gid = _owner(user, root)
    if root is None:
        # setpriv execs the program itself: a SIGTERM from stop() reaches it directly,
        # where runuser would forward it and then sleep 2 s before exiting.
        return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--init-groups", *argv]
    return ["chroot", f"--userspec={uid}:{gid}", "--groups=", str(root), *argv]


class PgBouncer:
    """PgBouncer in front of a PostgreSQL server, with an admin console user.

    `root` runs the PgBouncer of another Debian release from a chroot (e.g.
    `trixie.root()`, PgBouncer 1.24) instead of the system's; it shares the host's loopback,
    so it fronts the same servers. `settings` are written to the [pgbouncer] section as
    they are (e.g. max_prepared_statements, server_round_robin, min_pool_size)."""

    def __init__(
        self,
        server: PostgresServer,
        pool_mode: str = "transaction",
        default_pool_size: int = 5,
        settings: dict | None = None,
        name: str | None = None,
        root: Path | None = None,
    ):
        self.server, self.pool_mode = server, pool_mode
        self.default_pool_size, self.settings = default_pool_size, settings or {}
        self.name = name or f"pgbouncer-{pool_mode}"
        self.root = Path(root) if root is not None else None
        self.port = free_port()
        self.proc = None

    def _binary(self) -> str:
        if self.root is None:
            return which("pgbouncer", "apt-get install pgbouncer")
        if not (self.root / "usr/sbin/pgbouncer").exists():
            raise MissingBinary(f"pgbouncer in {self.root} (tests/support/trixie.py builds it)")
        return "/usr/sbin/pgbouncer"

    def _inside(self, path: Path) -> str:
        """A host path as PgBouncer sees it (relative to the chroot, if any)."""
        return str(path if self.root is None else Path("/") / path.relative_to(self.root))

    def version(self) -> str:
        """The version this PgBouncer binary reports, e.g. "1.24.1"."""
        r = subprocess.run(
            in_root(self.root, "postgres", [self._binary(), "--version"]),
            capture_output=True,
            text=True,
        )
        words = (r.stdout or r.stderr).split()
        return words[1] if len(words) > 1 and words[0] == "PgBouncer" else ""

    def start(self) -> PgBouncer:
        binary = self._binary()
        self.dir = make_workdir(self.name, "postgres", self.root)
        self.log = self.dir / "pgbouncer.log"
        (self.dir / "userlist.txt").write_text(f'"app" "{PASSWORD}"\n"pgb_admin" "{PASSWORD}"\n')
        settings = {
            "listen_addr": "127.0.0.1",
            "listen_port": self.port,
            "unix_socket_dir": "",
            "auth_type": "scram-sha-256",
            "auth_file": self._inside(self.dir / "userlist.txt"),
            "pool_mode": self.pool_mode,
            "default_pool_size": self.default_pool_size,
            "max_client_conn": 100,
            "admin_users": "pgb_admin",
            "logfile": self._inside(self.log),
            "pidfile": self._inside(self.dir / "pgbouncer.pid"),
            "server_lifetime": 3600,
            "ignore_startup_parameters": "extra_float_digits",
        }
        settings.update(self.settings)
        lines = ["[databases]", f"* = host=127.0.0.1 port={self.server.port}", "", "[pgbouncer]"]
        lines += [f"{k} = {v}" for k, v in settings.items()]
        (self.dir / "pgbouncer.ini").write_text("\n".join(lines) + "\n")
        _chown_tree(self.dir, "postgres", self.root)
        self.proc = subprocess.Popen(
            in_root(self.root, "postgres", [binary, self._inside(self.dir / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "stderr.log", "ab"),
        )
        wait_port(self.port, proc=self.proc)
        return self

    def url(self, **kw) -> str:
        return self.server.url(port=self.port, **kw)

    def admin_url(self) -> str:
        return self.server.url(user="pgb_admin", db="pgbouncer", port=self.port)

    def log_text(self) -> str:
        return read_text(self.dir / "pgbouncer.log", self.dir / "stderr.log")

    def stop(self) -> None:
        stop_process(self.proc, self.dir)


class Forwarder:
    """A plain TCP port forward (socat), like Docker's: changes the port, is not a pooler."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.proc = None

    def start(self) -> Forwarder:
        socat = which("socat", "apt-get install socat")
        self.proc = subprocess.Popen(
            [
                socat,
                f"TCP-LISTEN:{self.port},bind=127.0.0.1,fork,reuseaddr",
                f"TCP:127.0.0.1:{self.target_port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc, wait=5)


class DelayProxy:
    """A TCP forward with a fixed delay each way (tests/support/delayproxy.py): a server
    far away."""

    def __init__(self, target_port: int, one_way_ms: float):
        self.target_port, self.one_way_ms = target_port, one_way_ms
        self.port = free_port()
        self.proc = None

    def start(self) -> DelayProxy:
        import sys

        script = Path(__file__).with_name("delayproxy.py")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(self.port),
                str(self.target_port),
                str(self.one_way_ms),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        stop_process(self.proc, wait=5)


class SilentListener:
    """Accepts TCP connections and never answers: the 'listener that never answers' case."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]

    def stop(self) -> None:
        self.sock.close()


class Pgpool:
    """pgpool-II in front of one PostgreSQL server (raw mode: no replication checks)."""

    def __init__(self, server: PostgresServer, num_init_children: int = 4):
        self.server, self.children = server, num_init_children
        self.port, self.pcp_port = free_port(), free_port()
        self.proc = None

    def start(self) -> Pgpool:
        binary = which("pgpool", "apt-get install pgpool2")
        self.dir = make_workdir("pgpool", "postgres")
        settings = {
            "backend_clustering_mode": "'raw'",
            "listen_addresses": "'127.0.0.1'",
            "port": self.port,
            "pcp_listen_addresses": "''",
            "pcp_port": self.pcp_port,
            "socket_dir": f"'{self.dir}'",
            "pcp_socket_dir": f"'{self.dir}'",
            "wd_ipc_socket_dir": f"'{self.dir}'",
            "pid_file_name": f"'{self.dir}/pgpool.pid'",
            "logdir": f"'{self.dir}'",
            "backend_hostname0": "'127.0.0.1'",
            "backend_port0": self.server.port,
            "backend_weight0": 1,
            "backend_flag0": "'ALLOW_TO_FAILOVER'",
            "enable_pool_hba": "on",
            "pool_passwd": f"'{self.dir}/pool_passwd'",
            "num_init_children": self.children,
            "max_pool": 2,
            "sr_check_period": 0,
            "health_check_period": 0,
            "load_balance_mode": "off",
            "log_connections": "on",
        }
        (self.dir / "pgpool.conf").write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        (self.dir / "pool_hba.conf").write_text(
            "local all all trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        )
        (self.dir / "pool_passwd").write_text(f"app:TEXT{PASSWORD}\n")
        (self.dir / "pcp.conf").write_text("")
        (self.dir / "pool_passwd").chmod(0o600)
        _chown_tree(self.dir, "postgres")
        self.log = self.dir / "pgpool.log"
        self.proc = subprocess.Popen(
            _as_user(
                "postgres",
                [
                    binary,
                    "-n",
                    "-f",
                    str(self.dir / "pgpool.conf"),
                    "-F",
                    str(self.dir / "pcp.conf"),
                    "-a",
                    str(self.dir / "pool_hba.conf"),
                ],
            ),
            stdout=open(self.log, "ab"),
            stderr=subprocess.STDOUT,
        )
        wait_port(self.port, proc=self.proc)
        return self

    def url(self, **kw) -> str:
        return self.server.url(port=self.port, **kw)

    def log_text(self) -> str:
        return read_text(self.log)

    def stop(self) -> None:
        stop_process(self.proc, self.dir)
