"""One deadline per command, and a guard that enforces it on a blocking socket.

`--timeout` is a promise about the whole command, so it is turned into one point in time
when the command starts and every wait (name lookup, connect, each statement, the second
URL, the admin console) gets only what is left of it.

Drivers that block in `recv()` (PyMySQL) cannot be given a deadline: their socket timeout
restarts on every read, so a server sending one byte per second keeps them waiting for
ever. A `SocketGuard` shuts the socket down when the deadline passes; the blocked read then
returns end-of-file at once (for a TLS socket too, whose reads sit on the same file
descriptor), and the driver raises its "lost connection" error, which the caller reports
as a timeout because the guard says it fired.
"""

from __future__ import annotations

import heapq
import itertools
import socket
import threading
import time


class Deadline:
    """A point in time; `seconds` is the budget it was made from (for messages)."""

    def __init__(self, seconds: float, at: float | None = None) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds if at is None else at

    @classmethod
    def of(cls, value: Deadline | float) -> Deadline:
        return value if isinstance(value, Deadline) else cls(float(value))

    def left(self) -> float:
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def within(self, seconds: float | None) -> Deadline:
        """The earlier of this deadline and `seconds` from now (a stricter per-step bound)."""
        if seconds is None:
            return self
        return Deadline(self.seconds, min(self.at, time.monotonic() + seconds))

    def __repr__(self) -> str:
        return f"Deadline({self.seconds:g} s, {self.left():.2f} s left)"


class SocketGuard:
    """Shut a socket down when `deadline` passes, unless disarmed first."""

    def __init__(self, deadline: Deadline) -> None:
        self.deadline = deadline
        self.fired = False
        self._lock = threading.Lock()
        self._dup: socket.socket | None = None

    def arm(self, sock: socket.socket) -> None:
        """Watch `sock` (a plain or TLS socket). A duplicate of its descriptor is kept, so
        the shutdown always reaches this connection even after the driver closed its own
        descriptor and the number was reused."""
        with self._lock:
            if self._dup is not None:
                self._dup.close()
            self._dup = socket.fromfd(sock.fileno(), sock.family, sock.type)
        if self.deadline.expired():
            self.fire()
        else:
            _WATCHDOG.add(self)

    def fire(self) -> None:
        with self._lock:
            dup, self._dup = self._dup, None
            if dup is None:
                return
            self.fired = True
        try:
            dup.shutdown(socket.SHUT_RDWR)
        except OSError:  # already closed by the peer
            pass
        finally:
            dup.close()

    @property
    def armed(self) -> bool:
        return self._dup is not None

    def disarm(self) -> None:
        with self._lock:
            dup, self._dup = self._dup, None
        if dup is not None:
            dup.close()
            _WATCHDOG.forget()


class _Watchdog:
    """One daemon thread for every guard of the process (a burst has thousands)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, SocketGuard]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None
        self._disarmed = 0

    def add(self, guard: SocketGuard) -> None:
        with self._cond:
            heapq.heappush(self._heap, (guard.deadline.at, next(self._order), guard))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="advisor-deadline", daemon=True
                )
                self._thread.start()
            self._cond.notify()

    def forget(self) -> None:
        """A guard was disarmed; its entry would stay in the heap until its deadline (with
        it, the guard and its deadline): a caller that probes for hours would keep every
        one. Once such entries may be half of the heap, drop them all: each entry is
        copied once per disarm on average (amortised O(1)), and a lone probe leaves none."""
        with self._cond:
            self._disarmed += 1
            if 2 * self._disarmed > len(self._heap):
                self._heap = [entry for entry in self._heap if entry[2].armed]
                heapq.heapify(self._heap)
                self._disarmed = 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                at, _, guard = self._heap[0]
                wait = at - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            guard.fire()  # a no-op for a guard disarmed in time


_WATCHDOG = _Watchdog()
