"""Start a throwaway server or skip: a missing binary skips the live tests, unless
ADVISOR_REQUIRE_SERVERS=1 (as in CI), which turns it into a failure."""

from __future__ import annotations

import contextlib
import os
import threading

import pytest

from tests.support.servers import MissingBinary

REQUIRE = os.environ.get("ADVISOR_REQUIRE_SERVERS") == "1"


def need(exc: Exception | str):
    """Skip, or fail when servers are required."""
    if REQUIRE:
        pytest.fail(f"required server binary missing: {exc}", pytrace=False)
    pytest.skip(f"missing: {exc}")


def start_or_skip(factory):
    """`factory()` starts a server and returns it; a missing binary skips (or fails)."""
    try:
        return factory()
    except MissingBinary as exc:
        need(exc)


@contextlib.contextmanager
def running(factory):
    """The one start/yield/stop of every server fixture: start with `factory()` (or skip),
    yield the server, stop it when the block ends, whatever happened inside."""
    server = start_or_skip(factory)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def running_all(factories: dict):
    """`running` for several servers at once: {name: factory} in, {name: server} out; the
    ones started are stopped side by side when the block ends (each takes a while)."""
    started = {}
    try:
        for name, factory in factories.items():
            started[name] = start_or_skip(factory)
        yield started
    finally:
        stops = [threading.Thread(target=server.stop) for server in started.values()]
        for thread in stops:
            thread.start()
        for thread in stops:
            thread.join()
