"""Session-scoped live servers. A missing binary skips the live tests, unless
ADVISOR_REQUIRE_SERVERS=1 (as in CI), which turns it into a failure."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import servers  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REQUIRE = os.environ.get("ADVISOR_REQUIRE_SERVERS") == "1"


def need(exc: Exception):
    """Skip, or fail when servers are required."""
    if REQUIRE:
        pytest.fail(f"required server binary missing: {exc}", pytrace=False)
    pytest.skip(f"missing: {exc}")


def start_or_skip(factory):
    try:
        return factory()
    except servers.MissingBinary as exc:
        need(exc)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_dir(directory):
    """Serve a built site on a free loopback port; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (one sync Playwright per thread)."""
    if not Path(CHROMIUM).exists():
        need(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        need(f"playwright ({exc})")
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="session")
def pg_plain():
    """PostgreSQL without TLS, small non-default max_connections and reserved slots."""
    server = start_or_skip(lambda: servers.PostgresServer(
        "plain", max_connections=23, superuser_reserved=2).start())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pg_tls():
    """PostgreSQL with TLS (certificate from a throwaway CA made by the fixture)."""
    server = start_or_skip(lambda: servers.PostgresServer(
        "tls", max_connections=31, superuser_reserved=4, tls=True).start())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def pgbouncer_txn(pg_plain):
    bouncer = start_or_skip(lambda: servers.PgBouncer(pg_plain, pool_mode="transaction").start())
    yield bouncer
    bouncer.stop()


@pytest.fixture(scope="session")
def forwarder(pg_plain):
    fwd = start_or_skip(lambda: servers.Forwarder(pg_plain.port).start())
    yield fwd
    fwd.stop()


@pytest.fixture(scope="session")
def silent_listener():
    listener = servers.SilentListener()
    yield listener
    listener.stop()


def run_advisor(*args, env: dict | None = None, timeout: float = 60, cwd=None,
                input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run the CLI as a user would: a separate process, real argv, real exit code."""
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("DATABASE_URL", "DIRECT_URL", "PGPASSWORD", "NO_COLOR")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "advisor", *args], capture_output=True, text=True,
                          env=full_env, timeout=timeout, cwd=cwd or ROOT, input=input_text)


@pytest.fixture
def advisor():
    return run_advisor


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failing live test, append the servers' logs to the report."""
    outcome = yield
    rep = outcome.get_result()
    if rep.when != "call" or not rep.failed:
        return
    for name in ("pg_plain", "pg_tls", "pgbouncer_txn"):
        server = item.funcargs.get(name) if hasattr(item, "funcargs") else None
        if server is not None and hasattr(server, "log_text"):
            rep.sections.append((f"{name} log (tail)", server.log_text()[-4000:]))
