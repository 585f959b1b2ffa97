"""libpq's asynchronous interface, with a deadline on every wait, and the keywords it is
given for a target (the probe's, the admin console's and the burst's connections alike).

psycopg's own connect rounds `connect_timeout` to whole seconds with a 2 s floor (as libpq
does) and its statements wait as long as the server likes; here each step of the
connection and every statement waits only until the command's deadline.
"""

from __future__ import annotations

import math
import select
from typing import TYPE_CHECKING, Any

from ..target import Target, is_ip_address
from . import dns
from .deadline import Deadline

if TYPE_CHECKING:
    import psycopg
    from psycopg.pq.abc import PGconn

APPLICATION_NAME = "advisor"
# libpq never waits less than this for a connection (connect_timeout rounds up to it).
LIBPQ_MIN_CONNECT_S = 2


class Timeout(Exception):
    pass


class QueryError(Exception):
    pass


def wait_ready(fd: int, writing: bool, deadline: Deadline) -> bool:
    """Wait until `fd` is ready; False when the deadline passed first."""
    left = deadline.left()
    if left <= 0:
        return False
    ready = select.select([], [fd], [], left) if writing else select.select([fd], [], [], left)
    return bool(ready[0] or ready[1])


# -- what libpq is given ---------------------------------------------------------


def connect_kwargs(target: Target, timeout: float) -> dict[str, Any]:
    kw = target.libpq_kwargs()
    # The URL's connect_timeout wins when it is stricter than --timeout.
    url_timeout = url_connect_timeout(target)
    seconds = max(LIBPQ_MIN_CONNECT_S, math.ceil(timeout))
    if url_timeout:
        seconds = min(seconds, url_timeout)
    kw["connect_timeout"] = str(seconds)
    kw.setdefault("application_name", APPLICATION_NAME)
    return kw


def url_connect_timeout(target: Target) -> int | None:
    """The URL's connect_timeout in seconds as libpq reads it (whole, at least 2), or None."""
    value = target.libpq_kwargs().get("connect_timeout")
    if value and value.strip().lstrip("-").isdigit() and int(value) > 0:
        return max(LIBPQ_MIN_CONNECT_S, int(value))
    return None


def pinned_kwargs(target: Target, deadline: Deadline | float) -> dict[str, Any]:
    """connect_kwargs with the host name looked up first, within the deadline: libpq's own
    lookup has none. `host` stays, so TLS still checks the certificate against it."""
    deadline = Deadline.of(deadline)
    kw = connect_kwargs(target, deadline.seconds)
    if target.host and needs_lookup(target):
        kw["hostaddr"] = dns.resolve(target.host, target.effective_port, deadline.left())[0]
    return kw


def needs_lookup(target: Target) -> bool:
    """A host name that libpq would resolve itself (not a socket, an IP or a hostaddr)."""
    host = target.host
    if not host:
        return False
    return not target.is_socket and not is_ip_address(host) and "hostaddr" not in target.params


# -- connecting and running statements, each within the deadline --------------------


def connect(kwargs: dict[str, Any], deadline: Deadline) -> psycopg.Connection[Any]:
    """A psycopg Connection (autocommit, non-blocking libpq) opened within `deadline`;
    psycopg.OperationalError when libpq fails, Timeout when time runs out."""
    import psycopg
    from psycopg import pq
    from psycopg.conninfo import make_conninfo

    pgconn = pq.PGconn.connect_start(make_conninfo("", **kwargs).encode())
    try:
        # As libpq's documentation says: behave as if the first poll asked for writing.
        status: int = pq.PollingStatus.WRITING
        while status != pq.PollingStatus.OK:
            if status == pq.PollingStatus.FAILED or pgconn.status == pq.ConnStatus.BAD:
                message = (pgconn.error_message or b"").decode(errors="replace").strip()
                raise psycopg.OperationalError(f"connection failed: {message}")
            if not wait_ready(pgconn.socket, status == pq.PollingStatus.WRITING, deadline):
                raise Timeout("connecting")
            status = pgconn.connect_poll()
    except BaseException:
        pgconn.finish()
        raise
    pgconn.nonblocking = 1
    conn = psycopg.Connection(pgconn)
    conn._autocommit = True  # what libpq is in; psycopg only reads it for its own execute()
    return conn


def results(
    pgconn: PGconn, sql: str, deadline: Deadline | float
) -> list[tuple[list[Any], list[Any]]]:
    """Send `sql` (simple protocol, may hold several statements) and collect every
    result as (column names, rows). Timeout when no complete answer arrives in time,
    QueryError on a server error."""
    from psycopg import OperationalError, pq

    deadline = Deadline.of(deadline)
    pgconn.send_query(sql.encode())  # raises psycopg.OperationalError on a dead connection
    while pgconn.flush():  # non-blocking libpq: the rest of the query still to send
        if not wait_ready(pgconn.socket, True, deadline):
            raise Timeout(sql)
    found: list[tuple[list[Any], list[Any]]] = []
    error: str | None = None
    while True:
        while pgconn.is_busy():
            if not wait_ready(pgconn.socket, False, deadline):
                raise Timeout(sql)
            try:
                pgconn.consume_input()
            except OperationalError as exc:  # e.g. the pooler closed us with its reason
                raise QueryError(str(exc).removeprefix("consuming input failed: ")) from None
        res = pgconn.get_result()
        if res is None:
            break
        if res.status == pq.ExecStatus.TUPLES_OK:
            names = [_text(res.fname(i)) for i in range(res.nfields)]
            rows = [
                [_text(res.get_value(r, c)) for c in range(res.nfields)] for r in range(res.ntuples)
            ]
            found.append((names, rows))
        elif res.status == pq.ExecStatus.FATAL_ERROR:
            error = (res.error_message or b"").decode(errors="replace").strip()
    if error is not None:
        raise QueryError(error)
    return found


def run(pgconn: PGconn, sql: str, deadline: Deadline | float) -> list[list[Any]]:
    """Rows of the last result of `sql`."""
    found = results(pgconn, sql, deadline)
    return found[-1][1] if found else []


def read_only(sql: str, deadline: Deadline, keep_open: bool = False) -> str:
    """`sql` inside a read-only transaction whose statements cannot outlive the deadline
    and whose unqualified names could only mean pg_catalog's (the statements qualify
    every name anyway: outside a transaction block nothing could pin search_path)."""
    ms = max(100, int(deadline.left() * 1000))
    text = (
        f"BEGIN READ ONLY; SET LOCAL statement_timeout = {ms}; "
        f"SET LOCAL search_path = pg_catalog; {sql}"
    )
    return text if keep_open else f"{text}; ROLLBACK"


def _text(value: bytes | None) -> str | None:
    return value.decode(errors="replace") if isinstance(value, bytes) else value
