"""libpq's multi-host URLs (host1:port1,host2:port2), linted and probed as libpq reads them:
each host reported, the probe's later connections on the host that answered.

libpq tries the hosts in order and takes the first that accepts the login and fits
target_session_attrs (PostgreSQL docs, libpq-connect.html "Specifying Multiple Hosts").
"""

from __future__ import annotations

import json

import pytest

from advisor.target import parse_target
from tests.support.cli import run_advisor
from tests.support.servers import PASSWORD, free_port

pytestmark = pytest.mark.live


def multi(*parts: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return (
        f"postgresql://app:{PASSWORD}@" + ",".join(parts) + "/app" + (f"?{query}" if query else "")
    )


def probe(url: str, *extra: str) -> tuple[int, dict]:
    r = run_advisor("probe", url, "--format", "json", "--timeout", "10", *extra)
    assert PASSWORD not in r.stdout + r.stderr
    return r.returncode, json.loads(r.stdout)


def finding(report: dict, check_id: str) -> dict:
    return next(f for f in report["findings"] if f["id"] == check_id)


def test_first_host_down_the_second_answers(pg_plain):
    dead = free_port()  # nothing listens there
    code, report = probe(
        multi(f"127.0.0.1:{dead}", f"127.0.0.1:{pg_plain.port}", connect_timeout="3")
    )
    assert code in (0, 1), report
    hosts = report["facts"]["hosts"]
    assert [(h["port"], h["result"]) for h in hosts] == [
        (dead, "failed"),
        (pg_plain.port, "answered"),
    ]
    assert "refused" in hosts[0]["error"].lower() or "connect" in hosts[0]["error"].lower()
    assert report["facts"]["max_connections"] > 0  # the facts are the second host's
    f = finding(report, "URL212")
    assert f["status"] == "warn" and f"127.0.0.1:{dead}" in f["message"]
    assert f"got in at 127.0.0.1:{pg_plain.port}" in f["message"]


def test_both_up_the_first_serves_and_the_second_is_not_tried(pg_plain, pg_tls):
    before = pg_tls.log_size()
    code, report = probe(multi(f"127.0.0.1:{pg_plain.port}", f"127.0.0.1:{pg_tls.port}"))
    assert code in (0, 1)
    assert [h["result"] for h in report["facts"]["hosts"]] == ["answered", "not tried"]
    assert finding(report, "URL212")["status"] == "pass"
    assert "connection authorized" not in pg_tls.log_since(before)  # nothing reached host 2


def test_pool_detection_stays_on_the_host_that_answered(pg_plain, pgbouncer_txn):
    """The second detection client must reach the same pooler, not the next host."""
    dead = free_port()
    code, report = probe(multi(f"127.0.0.1:{dead}", f"127.0.0.1:{pgbouncer_txn.port}"))
    assert code in (0, 1), report
    pool = report["facts"]["pooler"]
    assert pool["detected"] and pool["pool_mode"] == "transaction", pool


def test_target_session_attrs_is_checked_per_host(pg_plain, pg_tls):
    """Both hosts are primaries: libpq refuses each for a standby, and so does the probe."""
    url = multi(
        f"127.0.0.1:{pg_plain.port}", f"127.0.0.1:{pg_tls.port}", target_session_attrs="standby"
    )
    r = run_advisor("probe", url, "--timeout", "10")
    assert r.returncode == 3, r.stdout + r.stderr
    assert PASSWORD not in r.stdout + r.stderr


def test_lint_lists_every_host_with_its_catalog_match():
    url = (
        "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-west-1.pooler.supabase.com:6543,"
        "ep-cool-1234.eu-central-1.aws.neon.tech:5432/postgres?sslmode=verify-full"
    )
    r = run_advisor("lint", url, "--format", "json")
    report = json.loads(r.stdout)
    hosts = report["facts"]["url"]["hosts"]
    assert [h["provider_name"] for h in hosts] == ["Supabase", "Neon"]
    message = finding(report, "URL212")["message"]
    assert "2 hosts in this order" in message and "Neon" in message


@pytest.mark.parametrize(
    "text, hosts",
    [
        ("postgresql://u@h1:5433,h2:5434/db", (("h1", 5433), ("h2", 5434))),
        ("postgresql://u@h1,h2:5434/db", (("h1", None), ("h2", 5434))),
        ("postgresql://u@[::1]:5433,h2/db", (("::1", 5433), ("h2", None))),
        ("postgresql://u@/db?host=h1,h2&port=5433", (("h1", 5433), ("h2", 5433))),
        ("host=h1,h2 port=5433,5434 dbname=d", (("h1", 5433), ("h2", 5434))),
    ],
)
def test_hosts_pair_with_ports_as_libpq_pairs_them(text, hosts):
    from psycopg.conninfo import conninfo_to_dict

    t = parse_target(text)
    assert t.hosts == hosts
    ours, theirs = t.libpq_kwargs(), conninfo_to_dict(text)
    assert paired(ours) == paired(theirs)


def paired(kw: dict) -> list[tuple[str, str]]:
    """libpq's pairing: one port applies to every host, else one port per host."""
    names = kw["host"].split(",")
    ports = kw.get("port", "").split(",")
    return list(zip(names, ports * len(names) if len(ports) == 1 else ports, strict=True))


def test_mismatched_port_list_is_a_usage_error():
    r = run_advisor("lint", "host=h1,h2,h3 port=1,2 dbname=d")
    assert r.returncode == 2 and "3 hosts but 2 ports" in r.stderr and r.stderr.count("\n") == 1
