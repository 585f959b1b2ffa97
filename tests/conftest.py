"""Session-scoped live servers, the browser and the measured start-up, shared by every test
module. The helpers behind them live in tests/support/."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.cli import ROOT, run_advisor
from tests.support.live import need, running
from tests.support.site import build_site
from tests.support.web import CHROMIUM, CHROMIUM_ARGS, serve_dir


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
def tools_site(tmp_path_factory):
    """The built site (no reports) served on loopback: the browser tools' pages."""
    site = tmp_path_factory.mktemp("tools-site")
    build_site(site, tmp_path_factory.mktemp("tools-reports"))
    with serve_dir(site) as url:
        yield {"dir": site, "base": url}


@pytest.fixture(scope="session")
def trixie_root():
    """The Debian 13 root with PgBouncer 1.24 and PostgreSQL 17 (tests/support/trixie.py;
    built once per machine, about a minute)."""
    from tests.support import trixie

    try:
        return trixie.root()
    except trixie.TrixieUnavailable as exc:
        need(exc)


@pytest.fixture(scope="session")
def pg_plain():
    """PostgreSQL without TLS, small non-default max_connections and reserved slots."""
    with running(
        lambda: servers.PostgresServer("plain", max_connections=23, superuser_reserved=2).start()
    ) as server:
        yield server


@pytest.fixture(scope="session")
def pg_tls():
    """PostgreSQL with TLS (certificate from a throwaway CA made by the fixture)."""
    with running(
        lambda: servers.PostgresServer(
            "tls", max_connections=31, superuser_reserved=4, tls=True
        ).start()
    ) as server:
        yield server


@pytest.fixture(scope="session")
def pgbouncer_txn(pg_plain):
    with running(lambda: servers.PgBouncer(pg_plain, pool_mode="transaction").start()) as bouncer:
        yield bouncer


@pytest.fixture(scope="session")
def forwarder(pg_plain):
    with running(lambda: servers.Forwarder(pg_plain.port).start()) as fwd:
        yield fwd


@pytest.fixture(scope="session")
def silent_listener():
    with running(servers.SilentListener) as listener:
        yield listener


@pytest.fixture(scope="module")
def startup() -> float:
    """Interpreter start-up plus the imports a probe needs, measured (best of three): the
    slack the time-bound tests allow on top of --timeout + 1 s."""
    best = 99.0
    for _ in range(3):
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "advisor", "--version"], capture_output=True, cwd=ROOT
        )
        subprocess.run(
            [sys.executable, "-c", "import psycopg, pymysql, advisor.commands"],
            capture_output=True,
            cwd=ROOT,
        )
        best = min(best, time.monotonic() - started)
    return best


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
