"""What every Python driver program here shares.

Each program is one "serverless instance" of one stack: it connects to DATABASE_URL (from
the environment, so the password is not on a command line), then, when DRIVER_BARRIER
names a folder, creates `ready-<pid>` in it and waits for a file `go` there (so that the
caller can start two instances' workloads at the same moment), then makes DRIVER_QUERIES
(default 12) "requests", each one short transaction of the same parameterised query, with
DRIVER_PAUSE_MS (default 20) between them, the way the stack does it by default or with
its documented fix (argv[1]: the variant).

The two instances of a pair differ in one detail, as two instances of one application
serving different requests do: instance DRIVER_INSTANCE=k reads `LIMIT 3+k` rows. Each
checks the rows it got, so a statement name that resolves to the other instance's
statement on a shared server connection is an error ("wrong result"), not a silent
success. It prints one JSON line:

    {"ok": bool, "error": "<first error, one line>", "errors": int, "queries": int,
     "seen": ["<up to 3 distinct errors>"], "driver": "...", "version": "...",
     "variant": "..."}

A request that fails is counted and the next one goes on; a failure to connect or set up
is `ok: false` with that error. The exit status is 0 whenever the line was printed.
The table is `driver_item (id int primary key, name text)`, made by the caller.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from urllib.parse import unquote, urlsplit

QUERIES = int(os.environ.get("DRIVER_QUERIES") or 12)
PAUSE = float(os.environ.get("DRIVER_PAUSE_MS") or 20) / 1000
LIMIT = 3 + int(os.environ.get("DRIVER_INSTANCE") or 0)
# The same query in every program, so each driver sees the same text on every request.
SQL_NUMBERED = f"SELECT id, name FROM driver_item WHERE id > $1 ORDER BY id LIMIT {LIMIT}"
SQL_PYFORMAT = SQL_NUMBERED.replace("$1", "%s")


class WrongResult(Exception):
    pass


def check(ids: list[int], i: int) -> None:
    """The ids request `i` must get: the LIMIT ids after i."""
    ids, expected = list(ids), list(range(i + 1, i + 1 + LIMIT))
    if len(ids) != LIMIT:  # another statement ran under this one's name
        raise WrongResult(f"wrong result: {len(ids)} rows from a query with LIMIT {LIMIT}")
    if ids != expected:
        raise WrongResult(f"wrong result: ids {ids}, expected {expected}")


def url() -> str:
    return os.environ["DATABASE_URL"]


def variant() -> str:
    return sys.argv[1] if len(sys.argv) > 1 else "default"


def wait_start() -> None:
    barrier = os.environ.get("DRIVER_BARRIER")
    if not barrier:
        return
    open(os.path.join(barrier, f"ready-{os.getpid()}"), "w").close()
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(barrier, "go")) and time.monotonic() < deadline:
        time.sleep(0.005)


def one_line(exc: BaseException) -> str:
    """The error's first line, with the URL's password (if any) blanked."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    password = unquote(urlsplit(os.environ.get("DATABASE_URL", "")).password or "")
    return text.replace(password, "***") if password else text


class Outcome:
    def __init__(self, driver: str, version: str):
        self.driver, self.version = driver, version
        self.errors, self.error, self.done = 0, "", 0
        self.seen: list[str] = []

    def failed(self, exc: BaseException) -> None:
        self.errors += 1
        text = one_line(exc)
        self.error = self.error or text
        if text not in self.seen and len(self.seen) < 3:
            self.seen.append(text)

    def emit(self, setup_error: BaseException | None = None) -> None:
        if setup_error is not None:
            self.failed(setup_error)
        line = {
            "ok": self.errors == 0 and setup_error is None,
            "error": self.error,
            "errors": self.errors,
            "queries": self.done,
            "seen": self.seen,
            "driver": self.driver,
            "version": self.version,
            "variant": variant(),
        }
        print(json.dumps(line), flush=True)


def run(driver: str, version: str, setup, request, teardown=lambda state: None) -> None:
    """setup() -> state; request(state, i) per request; teardown(state) at the end."""
    out = Outcome(driver, version)
    try:
        state = setup()
    except Exception as exc:  # any failure to connect is the outcome
        out.emit(exc)
        return
    wait_start()
    for i in range(QUERIES):
        try:
            request(state, i)
        except Exception as exc:
            out.failed(exc)
        out.done += 1
        time.sleep(PAUSE)
    try:
        teardown(state)
    except Exception:  # a failed close is not the stack's failure
        pass
    out.emit()


def run_async(driver: str, version: str, setup, request, teardown=None) -> None:
    """`run` for asyncio stacks: the three callables are coroutines."""

    async def main() -> None:
        out = Outcome(driver, version)
        try:
            state = await setup()
        except Exception as exc:
            out.emit(exc)
            return
        wait_start()  # nothing else runs on the loop yet: blocking here is harmless
        for i in range(QUERIES):
            try:
                await request(state, i)
            except Exception as exc:
                out.failed(exc)
            out.done += 1
            await asyncio.sleep(PAUSE)
        if teardown is not None:
            try:
                await teardown(state)
            except Exception:
                pass
        out.emit()

    asyncio.run(main())
