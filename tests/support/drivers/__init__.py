"""Real drivers as small client programs, one per stack (the contract is in _common.py),
and `run_pair()`, which runs two instances of one stack against one URL at the same
moment: two serverless instances sharing a pooler.

Each stack has a "default" variant (what the driver does out of the box) and, where the
default needs one, its documented "fix"; where the default is already safe, "default"
is listed in `safe`. node-postgres adds "named": its opt-in named statements.

The programs are Python, Node, Java (PgJDBC), PHP (PDO), Ruby (Active Record) and Go (pgx
v4), each run by the toolchain Debian 12 packages for it (.ci/system-packages installs
them). `prepare_programs()` checks those toolchains and compiles the Java and Go programs
once per process into a temporary folder; a missing one is a MissingToolchain.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
PRISMA_SCHEMA = HERE / "prisma" / "schema.prisma"
SCHEMA_ENGINE_STANDIN = HERE / "prisma" / "schema-engine"

# The table every program reads (50 rows), as superuser SQL in the app database.
TABLE_SQL = (
    "CREATE TABLE IF NOT EXISTS driver_item (id int PRIMARY KEY, name text NOT NULL);"
    "INSERT INTO driver_item SELECT g, 'item ' || g FROM generate_series(1, 50) g "
    "ON CONFLICT DO NOTHING;"
    "GRANT SELECT ON driver_item TO app;"
)


@dataclass(frozen=True)
class Stack:
    name: str
    program: str  # a file in this folder
    variants: tuple[str, ...]
    safe: tuple[str, ...]  # the variants meant to work through any pooler
    driver: str  # as `advisor --driver` names it
    orm: str | None = None  # as `advisor --orm` names it

    @property
    def node(self) -> bool:
        return self.program.endswith(".mjs")

    @property
    def language(self) -> str:
        return LANGUAGES[Path(self.program).suffix]

    def argv(self, variant: str) -> list[str]:
        source = str(HERE / self.program)
        if self.language == "python":
            return [sys.executable, source, variant]
        if self.language in ("java", "go"):
            return [*_built(self.program), variant]
        return [shutil.which(self.language) or self.language, source, variant]


LANGUAGES = {
    ".py": "python",
    ".mjs": "node",
    ".java": "java",
    ".php": "php",
    ".rb": "ruby",
    ".go": "go",
}
DEFAULT_FIX = ("default", "fix")
STACKS = (
    Stack("asyncpg", "asyncpg_client.py", DEFAULT_FIX, ("fix",), "asyncpg"),
    Stack("psycopg", "psycopg_client.py", DEFAULT_FIX, ("fix",), "psycopg"),
    Stack("psycopg2", "psycopg2_client.py", ("default",), ("default",), "psycopg2"),
    Stack(
        "sqlalchemy+asyncpg",
        "sqlalchemy_asyncpg_client.py",
        DEFAULT_FIX,
        ("fix",),
        "asyncpg",
        "sqlalchemy",
    ),
    Stack("django", "django_client.py", DEFAULT_FIX, ("fix",), "psycopg", "django"),
    Stack(
        "node-postgres",
        "node_postgres_client.mjs",
        ("default", "named"),
        ("default",),
        "node-postgres",
    ),
    Stack("postgres.js", "postgres_js_client.mjs", DEFAULT_FIX, ("fix",), "postgres.js"),
    # Prisma 7 with @prisma/adapter-pg: the queries go through node-postgres.
    Stack("prisma", "prisma_client.mjs", ("default",), ("default",), "node-postgres", "prisma"),
    # Debian 12's own packages: libpostgresql-jdbc-java, php-pgsql, ruby-activerecord and
    # ruby-pg, golang-github-jackc-pgx-v4-dev.
    Stack("pgjdbc", "PgjdbcClient.java", DEFAULT_FIX, ("fix",), "pgjdbc"),
    Stack("pdo-pgsql", "pdo_pgsql_client.php", DEFAULT_FIX, ("fix",), "pdo-pgsql"),
    Stack("rails", "rails_client.rb", DEFAULT_FIX, ("fix",), "ruby-pg", "rails"),
    Stack("pgx", "pgx_client.go", DEFAULT_FIX, ("fix",), "pgx"),
)

# Where Debian puts what the Java and Go programs build on.
PGJDBC_JAR = Path("/usr/share/java/postgresql.jar")
GOPATH = Path("/usr/share/gocode")
PGX_PACKAGE = "golang-github-jackc-pgx-v4-dev"
# The JVM starts in about half the time with the quick compiler only and the serial GC
# (a client that runs a few dozen queries needs neither more).
JAVA_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto")


class MissingToolchain(RuntimeError):
    """A stack's language runtime or driver package is not installed (one line, with the
    package that brings it)."""


_BUILT: dict[str, list[str]] = {}  # program -> the command line that runs it


def _built(program: str) -> list[str]:
    if program not in _BUILT:
        raise RuntimeError(f"{program} is not built: call prepare_programs() first")
    return _BUILT[program]


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if not found:
        raise MissingToolchain(f"{name} (apt-get install {package})")
    return found


def _run(argv: list[str], what: str, **kw) -> str:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)
    if r.returncode != 0:
        tail = (r.stdout + r.stderr).strip()[-400:]
        raise MissingToolchain(f"{what} failed: {tail}")
    return r.stdout


def _build_java(out: Path) -> list[str]:
    java = _tool("java", "default-jdk-headless")
    javac = _tool("javac", "default-jdk-headless")
    if not PGJDBC_JAR.exists():
        raise MissingToolchain(f"{PGJDBC_JAR} (apt-get install libpostgresql-jdbc-java)")
    classes = out / "java"
    classes.mkdir()
    source = HERE / "PgjdbcClient.java"
    _run([javac, "-cp", str(PGJDBC_JAR), "-d", str(classes), str(source)], "javac")
    return [java, *JAVA_FLAGS, "-cp", f"{classes}{os.pathsep}{PGJDBC_JAR}", source.stem]


def _pgx_version() -> str:
    """pgx's version, from the Debian package that provides it (4.15.0-4 -> 4.15.0)."""
    r = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", PGX_PACKAGE], capture_output=True, text=True
    )
    version = r.stdout.strip().split(":")[-1].split("-")[0] if r.returncode == 0 else ""
    return version or "4"


def _build_go(out: Path) -> list[str]:
    go = _tool("go", "golang-go")
    if not (GOPATH / "src/github.com/jackc/pgx/v4/conn.go").exists():
        raise MissingToolchain(f"pgx v4 in {GOPATH} (apt-get install {PGX_PACKAGE})")
    binary = out / "pgx_client"
    env = dict(os.environ, GO111MODULE="off", GOPATH=str(GOPATH), GOFLAGS="", CGO_ENABLED="0")
    if not env.get("GOCACHE") and not env.get("HOME") and not env.get("XDG_CACHE_HOME"):
        env["GOCACHE"] = str(out / "go-cache")  # go refuses to build without a cache
    ldflags = f"-X main.version={_pgx_version()}"
    source = HERE / "pgx_client.go"
    _run([go, "build", "-ldflags", ldflags, "-o", str(binary), str(source)], "go build", env=env)
    return [str(binary)]


def _check_php() -> None:
    php = _tool("php", "php-cli")
    probe = 'exit(extension_loaded("pdo_pgsql") ? 0 : 1);'
    if subprocess.run([php, "-r", probe], capture_output=True).returncode != 0:
        raise MissingToolchain("PHP's pdo_pgsql extension (apt-get install php-pgsql)")


def _check_ruby() -> None:
    ruby = _tool("ruby", "ruby")
    probe = 'require "active_record"; require "pg"'
    if subprocess.run([ruby, "-e", probe], capture_output=True).returncode != 0:
        raise MissingToolchain(
            "Active Record and pg for Ruby (apt-get install ruby-activerecord ruby-pg)"
        )


def prepare_programs(stacks: tuple[Stack, ...] = STACKS) -> None:
    """Check the toolchain of every stack in `stacks` and build the compiled programs (at
    the same time: the Go build is the slow one) into a folder removed when the process
    ends. Raises MissingToolchain naming what to install."""
    languages = {s.language for s in stacks}
    out = Path(tempfile.mkdtemp(prefix="advisor-drivers-"))
    atexit.register(shutil.rmtree, out, True)
    jobs = {
        "PgjdbcClient.java": (lambda: _build_java(out)) if "java" in languages else None,
        "pgx_client.go": (lambda: _build_go(out)) if "go" in languages else None,
    }
    with ThreadPoolExecutor(2) as pool:
        futures = {p: pool.submit(job) for p, job in jobs.items() if job and p not in _BUILT}
        if "php" in languages:
            _check_php()
        if "ruby" in languages:
            _check_ruby()
        for program, future in futures.items():
            _BUILT[program] = future.result()


def prisma_generate() -> None:
    """Generate the Prisma 7 client offline (into node_modules/.prisma/client). Prisma's
    CLI insists on a schema engine binary, which it would download; `generate` never runs
    it, so a stand-in that only exists is enough."""
    cli = REPO / "node_modules" / ".bin" / "prisma"
    if not cli.exists():
        raise RuntimeError("node_modules/.bin/prisma missing: run `npm ci`")
    env = dict(
        os.environ,
        PRISMA_SCHEMA_ENGINE_BINARY=str(SCHEMA_ENGINE_STANDIN),
        CHECKPOINT_DISABLE="1",
        PRISMA_HIDE_UPDATE_MESSAGE="1",
    )
    r = subprocess.run(
        [str(cli), "generate", "--schema", str(PRISMA_SCHEMA)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode != 0:
        raise RuntimeError(f"prisma generate failed: {(r.stdout + r.stderr).strip()[-500:]}")


def _result(proc: subprocess.Popen, stdout: str, stderr: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    tail = (stderr.strip().splitlines() or [f"exit {proc.returncode}, no output"])[-1]
    return {"ok": False, "error": f"no result line: {tail}", "errors": 1, "harness": True}


def run_pair(
    stack: Stack, variant: str, url: str, queries: int = 12, timeout: float = 60
) -> list[dict]:
    """Two instances of `stack` with `variant` against `url`, started together; their
    workloads begin at the same moment (the barrier), with different pauses (20 and
    30 ms) so that they do not move in lockstep, and each reads its own LIMIT
    (_common.py says why). Returns both result lines."""
    barrier = Path(tempfile.mkdtemp(prefix="advisor-barrier-"))
    procs = []
    try:
        for k in range(2):
            env = dict(
                os.environ,
                DATABASE_URL=url,
                DRIVER_BARRIER=str(barrier),
                DRIVER_INSTANCE=str(k),
                DRIVER_QUERIES=str(queries),
                DRIVER_PAUSE_MS=str(20 + 10 * k),
            )
            procs.append(
                subprocess.Popen(
                    stack.argv(variant),
                    cwd=REPO,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready = len(list(barrier.glob("ready-*")))
            if ready == len(procs) or any(p.poll() is not None for p in procs):
                break
            time.sleep(0.005)
        (barrier / "go").touch()
        results = []
        for proc in procs:
            try:
                out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
                err += f"\ntimed out after {timeout:.0f}s"
            results.append(_result(proc, out, err))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(barrier, ignore_errors=True)
