"""Host name lookup with a deadline.

getaddrinfo() cannot be interrupted and a broken resolver can hang for many seconds,
so it runs in a daemon thread that the probe stops waiting for when time is up.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from ..errors import ProbeFailed


def resolve(host: str, port: int, seconds: float) -> list[str]:
    """Addresses of `host` (order kept, duplicates dropped); ProbeFailed on failure or timeout."""
    box: dict[str, Any] = {}

    def lookup() -> None:
        try:
            box["found"] = socket.getaddrinfo(
                host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
            )
        except (OSError, UnicodeError) as exc:
            box["error"] = exc

    worker = threading.Thread(target=lookup, name="advisor-dns", daemon=True)
    worker.start()
    worker.join(max(0.0, seconds))
    if worker.is_alive():
        raise ProbeFailed(
            f"timed out after {seconds:.1f} s resolving the host name {host}", kind="timeout"
        )
    if "error" in box:
        reason = getattr(box["error"], "strerror", None) or type(box["error"]).__name__
        raise ProbeFailed(f"could not resolve the host name {host}: {reason}", kind="dns")
    return list(dict.fromkeys(info[4][0] for info in box["found"]))
