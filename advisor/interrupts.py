"""Ctrl-C: one line and exit 130 before and after a command, KeyboardInterrupt during it.

Before the command starts nothing is open, and a KeyboardInterrupt raised inside a module
that is half imported would print a traceback; while the command runs, the probe needs the
KeyboardInterrupt to cancel its query and close its connection.
"""

from __future__ import annotations

import os
from types import FrameType

_guarded = False  # run() set the start-up handler; main() hands Ctrl-C to the command


def exit_interrupted(signum: int | None = None, frame: FrameType | None = None) -> None:
    try:
        os.write(2, b"advisor: interrupted\n")
    except OSError:  # no stderr: the exit code says it
        pass
    os._exit(130)  # nothing to clean up yet (or any more): no connection is open


def guard() -> None:
    """Ctrl-C before (and after) the command: one line, exit 130."""
    global _guarded
    import signal

    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not ignored (nohup, &)
        signal.signal(signal.SIGINT, exit_interrupted)
        _guarded = True


def to_command(on: bool) -> None:
    """on: Ctrl-C raises KeyboardInterrupt (the command cleans up); off: the one-line exit."""
    if _guarded:
        import signal

        signal.signal(signal.SIGINT, signal.default_int_handler if on else exit_interrupted)
