"""Real drivers as small client programs, one per stack (the contract is in _common.py),
and `run_pair()`, which runs two instances of one stack against one URL at the same
moment: two serverless instances sharing a pooler.

Each stack has a "default" variant (what the driver does out of the box) and, where the
default needs one, its documented "fix"; where the default is already safe, "default"
is listed in `safe`. node-postgres adds "named": its opt-in named statements.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
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

    def argv(self, variant: str) -> list[str]:
        interpreter = (shutil.which("node") or "node") if self.node else sys.executable
        return [interpreter, str(HERE / self.program), variant]


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
)


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
