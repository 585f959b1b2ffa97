"""STK104 on live MySQL endpoints: MariaDB directly, and the ProxySQL and MaxScale stand-ins
(tests/support/fakemysql.py, which answer as those proxies do), plus the warning a stack
gets when it uses by default what the proxy keeps only by unpooling the client."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from advisor.catalog.stacks import named
from advisor.checks import Context, stack_mysql
from tests.support import servers_mysql
from tests.support.cli import run_advisor
from tests.support.live import running

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def maria():
    with running(lambda: servers_mysql.MariaDBServer("stk104", max_connections=30).start()) as s:
        yield s


def verdict(url: str, driver: str) -> dict:
    r = run_advisor("probe", url, "--driver", driver, "--format", "json", "--timeout", "10")
    assert r.returncode in (0, 1), r.stderr
    return next(f for f in json.loads(r.stdout)["findings"] if f["id"] == "STK104")


@pytest.mark.parametrize("driver", ["mysql2", "pymysql", "mysqlclient"])
def test_direct_mariadb_keeps_every_stacks_state(maria, driver):
    f = verdict(maria.url(), driver)
    assert f["status"] == "pass" and "talks to MySQL directly" in f["message"]


@pytest.mark.parametrize(
    "mode, driver, needle",
    [
        ("proxysql", "pymysql", "is tracked without losing pooling"),  # SET NAMES, autocommit
        ("proxysql", "mysql2", "works through ProxySQL"),
        ("maxscale", "pymysql", "not known to the advisor"),
    ],
)
def test_proxies_seen_by_the_probe(mode, driver, needle):
    from tests.support.fakemysql import FakeMySQL

    fake = FakeMySQL(mode)
    try:
        f = verdict(fake.url("pw"), driver)
    finally:
        fake.stop()
    assert f["status"] == "pass" and needle in f["message"], f


def test_a_stack_using_user_variables_by_default_is_warned_behind_proxysql(monkeypatch):
    """No catalog stack does so today; a copy of PyMySQL that did must get the warning."""
    base = named(None, "pymysql", None)
    heavy = replace(
        base,
        features={
            **base.features,
            "user_variables": {
                "usage": "default",
                "detail": "SET @tenant",
                "fix": "pass it as a parameter",
            },
        },
    )
    facts = {
        "engine": "mysql",
        "max_connections": 10,
        "pooler": {"detected": True, "kind": "proxysql", "pool_mode": None, "evidence": []},
        "url": {"endpoint": {"role": None, "pooler": None}},
    }
    monkeypatch.setattr(stack_mysql, "stack_of", lambda ctx: heavy)
    r = stack_mysql.mysql_session_state(facts, Context(driver="pymysql"))  # type: ignore[arg-type]
    assert r is not None and r.status == "warn"
    assert "user variables" in r.message and "pooling is lost" in r.message
    assert "pass it as a parameter" in r.message
