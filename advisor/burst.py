"""`advisor burst`: N clients connect at once, run SELECT 1, hold, close.

Simulates a fleet of serverless instances starting together. One asyncio loop holds
the whole burst: psycopg's AsyncConnection for PostgreSQL; for MySQL, PyMySQL's
blocking connect runs in a bounded pool of daemon threads, each bounded by its own
deadline, while the hold is an asyncio sleep.
It only ever connects to the hosts in the URLs it was given.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from . import __version__
from .errors import ProbeFailed, UsageError
from .target import Target

if TYPE_CHECKING:
    from .facts.model import MySQLFacts, PostgresFacts

P = ParamSpec("P")
T = TypeVar("T")

MAX_CLIENTS = 2000
APPLICATION_NAME = "advisor-burst"
MYSQL_THREADS = 64
# libpq falls back on these when a URL leaves something out; a burst must not.
PG_ENV = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGSERVICE", "PGSERVICEFILE")

# error class -> needles in the driver's message (first match wins)
CLASSES = (
    ("too_many_clients", ("too many clients", "too many connections")),
    ("reserved_slots", ("remaining connection slots are reserved",)),
    ("timeout", ("timeout expired", "timed out", "timeout")),
    ("auth", ("authentication failed", "access denied", "no password supplied")),
)


def check_target(target: Target) -> None:
    """Refuse anything that would let libpq pick a host we were not given."""
    if not target.host:
        raise UsageError("burst needs a host in the URL (environment defaults are not used)")
    if "service" in target.params:
        raise UsageError("burst does not read service files: put the host in the URL")


def classify(message: str, timed_out: bool = False) -> str:
    if timed_out:
        return "timeout"
    low = message.lower()
    return next((name for name, needles in CLASSES if any(n in low for n in needles)), "other")


def percentiles(values: list[float]) -> dict[str, Any]:
    """p50/p95/p99 (nearest rank), min and max, in ms; None when nothing succeeded."""
    if not values:
        return dict.fromkeys(("p50", "p95", "p99", "min", "max"))
    s = sorted(values)

    def rank(p: float) -> float:
        return round(s[max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))], 1)

    return {
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "min": round(s[0], 1),
        "max": round(s[-1], 1),
    }


def free_slots(target: Target, timeout: float) -> dict[str, Any]:
    """One probe connection: the slots a non-superuser client can still take."""
    facts: PostgresFacts | MySQLFacts
    if target.engine == "postgresql":
        from .facts import postgres

        facts = postgres.gather(target, timeout=timeout, detect_mode=False)
    else:
        from .facts import mysql

        facts = mysql.gather(target, timeout=timeout)
    # The probe's own session was counted in use; it is closed again now.
    return {
        "max_connections": facts["max_connections"],
        "reserved": facts["reserved_connections"],
        "in_use": facts["connections_in_use"] - 1,
        "free": facts["available_connections"] + 1,
    }


# -- one client --------------------------------------------------------------


async def _pg_client(
    kw: dict[str, Any], hold: float, timeout: float, open_conns: set[Any]
) -> float:
    import psycopg

    started = time.monotonic()
    conn = await asyncio.wait_for(psycopg.AsyncConnection.connect(**kw, autocommit=True), timeout)
    open_conns.add(conn)
    try:
        connect_ms = (time.monotonic() - started) * 1000
        await asyncio.wait_for(conn.execute("SELECT 1"), timeout)
        await asyncio.sleep(hold)
        return connect_ms
    finally:
        open_conns.discard(conn)
        await _close(conn)


def _mysql_connect(
    target: Target,
    kw: dict[str, Any],
    found: list[Any] | None,
    timeout: float,
    stop: threading.Event,
    open_conns: set[Any],
    guards: set[Any],
) -> tuple[Any, float]:
    """Connect and run SELECT 1, each within `timeout`: a SocketGuard shuts the socket down
    when time is up (PyMySQL's read timeout restarts on every byte), and the end of the
    burst shuts down whatever is still waiting."""
    from .facts import mysql
    from .facts.deadline import Deadline, SocketGuard

    guard = SocketGuard(Deadline(timeout))
    guards.add(guard)
    started = time.monotonic()  # measured here: time queued for a thread is not latency
    conn = mysql.new_connection(target, kw, guard)  # the probe's own connection class
    try:
        if stop.is_set():  # the burst ended while this client waited for a thread
            raise asyncio.CancelledError
        conn.login(found)
        connect_ms = (time.monotonic() - started) * 1000
        open_conns.add(conn)  # registered at once: the burst's end closes whatever is left
        if stop.is_set():
            raise asyncio.CancelledError
        guard.disarm()
        guards.discard(guard)
        guard = SocketGuard(Deadline(timeout))  # the query gets its own --timeout
        guards.add(guard)
        conn.watch_with(guard)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    except BaseException as exc:
        open_conns.discard(conn)
        if conn.open:
            conn.close()
        if guard.fired and isinstance(exc, Exception):
            raise TimeoutError("no answer within --timeout") from None
        raise
    finally:
        guard.disarm()
        guards.discard(guard)
    return conn, connect_ms


async def _mysql_client(
    target: Target,
    kw: dict[str, Any],
    found: list[Any] | None,
    hold: float,
    timeout: float,
    open_conns: set[Any],
    pool: Executor,
    stop: threading.Event,
    guards: set[Any],
) -> float:
    # No wait_for here: a thread cannot be cancelled; its guard ends it in time.
    loop = asyncio.get_running_loop()
    conn, connect_ms = await loop.run_in_executor(
        pool, _mysql_connect, target, kw, found, timeout, stop, open_conns, guards
    )
    try:
        await asyncio.sleep(hold)
        return connect_ms
    finally:
        open_conns.discard(conn)
        await _close(conn)


class DaemonThreads(Executor):
    """A bounded thread pool of daemon threads: unlike ThreadPoolExecutor's workers (which
    the interpreter joins at exit) a thread stuck in a driver cannot keep the process alive."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.threads: list[threading.Thread] = []
        # (future, function, args, kwargs) per call; None tells a worker to stop.
        self.work: queue.SimpleQueue[
            tuple[Future[Any], Callable[..., Any], tuple[Any, ...], dict[str, Any]] | None
        ] = queue.SimpleQueue()

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        future: Future[T] = Future()
        self.work.put((future, fn, args, kwargs))
        if len(self.threads) < self.size:
            thread = threading.Thread(target=self._worker, name="advisor-burst", daemon=True)
            thread.start()
            self.threads.append(thread)
        return future

    def _worker(self) -> None:
        while (item := self.work.get()) is not None:
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:  # noqa: B036 - handed to the waiting coroutine
                future.set_exception(exc)

    def shutdown(
        self, wait: bool = True, *, cancel_futures: bool = False, grace: float = 2.0
    ) -> None:
        """Cancel what has not started; wait at most `grace` s for the running threads."""
        while cancel_futures:
            try:
                item = self.work.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[0].cancel()
        for _ in self.threads:
            self.work.put(None)
        if wait:
            until = time.monotonic() + grace
            for thread in self.threads:
                thread.join(max(0.0, until - time.monotonic()))


# -- the burst ---------------------------------------------------------------


async def _leg(target: Target, clients: int, hold_ms: int, timeout: float) -> dict[str, Any]:
    """All clients against one target; every connection is closed on any exit."""
    hold, stop = hold_ms / 1000, threading.Event()
    open_conns: set[Any] = set()
    guards: set[Any] = set()
    pool = DaemonThreads(MYSQL_THREADS) if target.engine == "mysql" else None
    go = asyncio.Event()
    if pool is None:
        from .facts.libpq import pinned_kwargs

        # Looked up once, with a deadline: every client then dials the same address.
        kw = pinned_kwargs(target, timeout)
        kw["application_name"] = APPLICATION_NAME
    else:
        from .facts import mysql
        from .facts.deadline import Deadline

        kw = mysql.connect_kwargs(target, timeout)
        kw["program_name"] = APPLICATION_NAME
        # Looked up once, with a deadline, as for PostgreSQL (None: a Unix socket).
        found = mysql.addresses(kw["host"], kw["port"], Deadline(timeout)) if "host" in kw else None

    async def one() -> float:
        await go.wait()
        if pool is None:
            return await _pg_client(kw, hold, timeout, open_conns)
        return await _mysql_client(target, kw, found, hold, timeout, open_conns, pool, stop, guards)

    tasks = [asyncio.ensure_future(one()) for _ in range(clients)]
    started = time.monotonic()
    go.set()
    try:
        # Overall bound: a connect, a query and the hold, with room for the close.
        await asyncio.wait(tasks, timeout=2 * timeout + hold + 1)
    finally:
        stop.set()
        for guard in list(guards):  # MySQL clients still waiting: end them now
            guard.fire()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
        for conn in list(open_conns):
            await _close(conn)
    wall_ms = (time.monotonic() - started) * 1000
    return _summarise(target, tasks, clients, wall_ms)


async def _close(conn: Any) -> None:  # a psycopg AsyncConnection or a PyMySQL one
    try:
        result = conn.close()
        if asyncio.iscoroutine(result):
            await result
    except Exception:  # already closed, or the server went away: nothing left to free
        pass


def _summarise(
    target: Target, tasks: list[asyncio.Task[float]], clients: int, wall_ms: float
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: dict[str, dict[str, Any]] = {}
    for t in tasks:
        exc = None if t.cancelled() else t.exception()
        if t.cancelled() or isinstance(exc, (asyncio.TimeoutError, asyncio.CancelledError)):
            name, words = "timeout", "no answer within --timeout"
        elif exc is not None:
            words = _words(exc, target)
            name = classify(words)
        else:
            latencies.append(t.result())
            continue
        entry = errors.setdefault(name, {"count": 0, "messages": {}})
        entry["count"] += 1
        entry["messages"][words] = entry["messages"].get(words, 0) + 1
    return {
        "target": target.display,
        "engine": target.engine,
        "clients": clients,
        "succeeded": len(latencies),
        "failed": clients - len(latencies),
        "errors": errors,
        "connect_ms": percentiles(latencies),
        "wall_ms": round(wall_ms, 1),
    }


def _words(exc: BaseException, target: Target) -> str:
    """The server's (or driver's) own words, first line, without secrets."""
    args: tuple[Any, ...] = getattr(exc, "args", ())
    if len(args) >= 2 and isinstance(args[0], int):  # PyMySQL: (code, message)
        text = f"{args[0]} {args[1]}"
    else:
        text = str(exc) or type(exc).__name__
    text = target.scrub(text)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = next((ln for ln in lines if "FATAL" in ln), lines[0] if lines else type(exc).__name__)
    if "FATAL:" in first:
        first = "FATAL: " + first.split("FATAL:", 1)[1].strip()
    return first.removeprefix("connection failed: ")[:200]


def files_needed(engine: str, clients: int) -> int:
    """Open files the burst needs: a socket per client; for MySQL, a duplicate held by the
    deadline guard of each client still connecting (one per thread); the process's own."""
    return clients + (MYSQL_THREADS if engine == "mysql" else 0) + 64


def _raise_fd_limit(need: int) -> int | None:
    """Raise the soft open-files limit to `need`, within the hard limit (which needs no
    privilege); return the soft limit in force, None when there is no limit to read."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return None
    if soft < need:
        want = need if hard == resource.RLIM_INFINITY else min(hard, need)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
        except (ValueError, OSError):
            pass
    return soft


def run(
    target: Target,
    clients: int,
    hold_ms: int,
    timeout: float,
    pooler: Target | None = None,
    yes: bool = False,
    confirm: Callable[[str], bool] | None = None,
) -> dict[str, Any]:
    """Guard rails, the free-slot read, then the legs one after the other."""
    if not 1 <= clients <= MAX_CLIENTS:
        raise UsageError(f"--clients must be between 1 and {MAX_CLIENTS}")
    for t in filter(None, (target, pooler)):
        check_target(t)
    if pooler is not None and pooler.engine != target.engine:
        raise UsageError("the pooler URL must use the same engine as the URL")
    for name in PG_ENV:
        os.environ.pop(name, None)  # this process only: libpq must not add a host
    need = files_needed(target.engine, clients)
    files = _raise_fd_limit(need)
    if files is not None and files < need:
        # Otherwise the clients past the limit fail with the driver's "connection is bad".
        raise UsageError(
            f"{clients} clients need about {need} open files and this process "
            f"may open {files} (its hard limit, ulimit -Hn): raise the limit "
            "or use fewer clients"
        )
    try:
        slots = free_slots(target, timeout)
    except ProbeFailed as exc:
        raise ProbeFailed(
            f"could not read the free connection slots: {exc}", kind=exc.kind
        ) from None
    if clients > slots["free"] and not yes:
        question = (
            f"{clients} clients exceed the {slots['free']} free connection slots of "
            f"{target.display}: the burst will make other clients fail while it runs"
        )
        if confirm is None or not confirm(question):
            raise UsageError(question + "; pass --yes to run it anyway")
    legs = [("direct", target)] + ([("via pooler", pooler)] if pooler is not None else [])
    results = []
    for i, (name, t) in enumerate(legs):
        if i:
            time.sleep(1.0)  # let the direct leg's backends exit before the pooler needs slots
        results.append({"name": name, **asyncio.run(_leg(t, clients, hold_ms, timeout))})
    return {
        "kind": "burst",
        "tool": {"name": "advisor", "version": __version__},
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "clients": clients,
        "hold_ms": hold_ms,
        "timeout_s": timeout,
        "server_slots": slots,
        "legs": results,
    }


def tty_confirm(question: str) -> bool:
    """Ask on the terminal; only when both ends are a TTY."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    sys.stderr.write(question + ".\nRun it anyway? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
