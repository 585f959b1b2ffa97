"""The bench's session-feature scenario (bench/session.py) runs and gives every figure.

Two short rounds of the real CLI against its own PostgreSQL, PgBouncer 1.18 and PgBouncer
1.24 (the Debian 13 root), with and without --no-session-features. What is asserted are
the figures' shape and how the independent counts agree (the report's own connection
count against the server's and PgBouncer's logs), never a time: the bench reports times,
it does not test them.
"""

from __future__ import annotations

import json
import sys

import pytest

from bench import pages, run, session
from tests.support import servers

pytestmark = pytest.mark.live
ROUNDS = 2


@pytest.fixture(scope="module")
def measured(trixie_root):
    # trixie_root: the Debian 13 root, or skip (fail when servers are required).
    return session.bench_session(
        [sys.executable, "-m", "advisor"], ROUNDS, log=lambda _: None, newer=True
    )


def test_every_endpoint_has_every_figure(measured):
    eps = measured["endpoints"]
    assert list(eps) == ["postgresql", "pgbouncer_1_18", "pgbouncer_1_24"]
    assert measured["skipped"] == {} and measured["rounds"] == ROUNDS
    for name, e in eps.items():
        for arm in session.ARMS:
            for figure in ("wall_ms", "probe_ms"):
                s = e[arm][figure]
                assert s["runs"] == ROUNDS and 0 < s["min"] <= s["median"] <= s["max"], (name, arm)
            for count in ("client_connections", "server_connections", "statements"):
                c = e[arm][count]
                assert 0 <= c["min"] <= c["median"] <= c["max"], (name, arm, count)
        assert e["rounds"]["rounds"] == ROUNDS
        assert e["ratio"] == round(
            e["with"]["wall_ms"]["median"] / e["without"]["wall_ms"]["median"], 2
        )
        for figure, added in e["added"].items():
            assert added == round(e["with"][figure]["median"] - e["without"][figure]["median"], 1)
    assert servers.PASSWORD not in json.dumps(measured)


def test_the_counts_agree_with_the_logs(measured):
    eps = measured["endpoints"]
    for arm in session.ARMS:
        direct = eps["postgresql"][arm]
        # Direct, each connection the report counts is one PostgreSQL logged.
        assert direct["client_connections"] == direct["server_connections"], arm
        assert direct["client_connections"]["min"] >= 1
        for name in ("pgbouncer_1_18", "pgbouncer_1_24"):
            pooled = eps[name][arm]
            assert pooled["client_connections"] == pooled["pooler_logins"], (name, arm)
    for name, e in eps.items():
        # The measurement's statements reach the server, and only with it on.
        assert e["with"]["statements"]["min"] > e["without"]["statements"]["max"] >= 1, name


def test_both_answers_of_the_measurement_are_seen(measured):
    """PgBouncer 1.24 with max_prepared_statements keeps protocol prepared statements, 1.18
    does not: the scenario times both paths of the measurement."""
    kept = {
        name: e["measured"]["protocol_prepared_statements"]
        for name, e in measured["endpoints"].items()
    }
    assert kept == {"postgresql": True, "pgbouncer_1_18": False, "pgbouncer_1_24": True}


def test_the_performance_page_shows_the_section(measured):
    results = json.loads(run.RESULTS.read_text())
    results["session_features"] = {"date": results["date"], **measured}
    page = pages.performance_page(results)
    assert "## What measuring session features adds" in page
    for e in measured["endpoints"].values():
        line = next(ln for ln in page.splitlines() if ln.startswith(f"| {e['label']} "))
        assert f"**{pages.ms(e['with']['wall_ms']['median'])}**" in line
        assert f"{e['ratio']:.2f}×" in line
        w, wo = e["with"]["statements"], e["without"]["statements"]
        assert f"| {w['median']} / {wo['median']} |" in line


def test_the_bench_runs_it_as_a_part():
    assert "session" in run.PARTS
    assert run.arguments(["--only", "session"]).only == ("session",)
