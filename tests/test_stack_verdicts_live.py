"""Stack verdicts on live endpoints where every client keeps its own server: a stack whose
named statements break only in a pool that keeps them for it (lib/pq re-prepares, PDO
deallocates) must pass directly and behind a plain TCP forward (no false alarm)."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import run_advisor

pytestmark = pytest.mark.live


@pytest.mark.parametrize("driver", ["lib-pq", "pdo-pgsql", "pgjdbc"])
def test_named_statement_stacks_pass_where_each_client_keeps_its_server(
    pg_plain, forwarder, driver
):
    for url in (pg_plain.url(), pg_plain.url(port=forwarder.port)):
        r = run_advisor("probe", url, "--driver", driver, "--format", "json", "--timeout", "10")
        assert r.returncode in (0, 1), r.stderr
        found = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
        assert found["STK101"]["status"] == "pass", found["STK101"]
        assert found["STK102"]["status"] == "pass", found["STK102"]
