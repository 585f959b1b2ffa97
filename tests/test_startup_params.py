"""facts.startup_parameters, live: the raw StartupMessage probe (advisor/facts/startup.py)
against PgBouncer 1.18 with ignore_startup_parameters empty, extra_float_digits,
extra_float_digits + search_path and options, and PgBouncer 1.24 (the Debian 13 root) with
track_extra_parameters naming search_path; direct and through a TCP forward nothing is sent.

Each answer is checked against what a real client that sends the parameter as one of its
own meets: asyncpg with server_settings (refused at login exactly where the probe says
"rejects", let in where the probe saw it taken at startup), and psycopg with options where
the probe logged in with them. Also: at most one client connection beyond pool-mode
detection's two, counted in PgBouncer's log; no password ever sent by the raw probe, so no
failed authentication anywhere; nothing left behind.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from advisor.facts import postgres, session, startup
from advisor.target import parse_target
from tests.support import servers
from tests.support.live import running_all

NAMES = ("extra_float_digits", "search_path", "options", "application_name")
TRACK_SP = {"track_extra_parameters": "IntervalStyle, search_path"}
# name -> (PgBouncer settings, Debian 13 root?, expected per parameter: accepted, or TAKEN:
# accepted None and the pooler seen taking it at startup; None alone: not measured)
TAKEN = "taken"
CASES = {
    "1.18-empty": (
        {"ignore_startup_parameters": ""},
        False,
        {"extra_float_digits": "rejects", "search_path": None, "options": None},
    ),
    "1.18-efd": (
        {"ignore_startup_parameters": "extra_float_digits"},
        False,
        {"extra_float_digits": TAKEN, "search_path": "rejects", "options": None},
    ),
    "1.18-efd-sp": (
        {"ignore_startup_parameters": "extra_float_digits,search_path"},
        False,
        {"extra_float_digits": TAKEN, "search_path": TAKEN, "options": "rejects"},
    ),
    "1.18-options": (
        {"ignore_startup_parameters": "options"},
        False,
        {"extra_float_digits": "rejects", "search_path": None, "options": None},
    ),
    # 1.24 reads options setting by setting: search_path is tracked, extra_float_digits
    # ignored, so options is taken and the second client logs in with it. Yet PgBouncer
    # puts back only a parameter the server has reported (src/varcache.c, apply_var), and
    # PostgreSQL 15 does not report search_path: it is dropped, inside options or not.
    "1.24-track-sp": (
        {**TRACK_SP, "ignore_startup_parameters": "extra_float_digits"},
        True,
        {"extra_float_digits": TAKEN, "search_path": TAKEN, "options": "ignores"},
    ),
    "1.24-track-sp-empty": (
        {**TRACK_SP, "ignore_startup_parameters": ""},
        True,
        {"extra_float_digits": "rejects", "search_path": None, "options": None},
    ),
}


@pytest.fixture(scope="module")
def bouncers(pg_plain, trixie_root):
    def make(settings, root):
        return lambda: servers.PgBouncer(
            pg_plain, pool_mode="transaction", settings=settings, root=root
        ).start()

    factories = {
        name: make(settings, trixie_root if in_root else None)
        for name, (settings, in_root, _expected) in CASES.items()
    }
    with running_all(factories) as started:
        yield started


def gather(url: str, session_features: bool = True) -> dict:
    return postgres.gather(parse_target(url), 10, session_features=session_features)


def run(coro):
    """In a thread of its own: the session's browser keeps an event loop running here."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def asyncpg_show(url: str, name: str, value: str) -> str:
    import asyncpg

    conn = await asyncpg.connect(url, server_settings={name: value})
    try:
        return str(await conn.fetchval(f"SHOW {name}"))
    finally:
        await conn.close()


def bouncer_log(bouncer) -> str:
    return (bouncer.dir / "pgbouncer.log").read_text(errors="replace")


def ports(log: str) -> set[str]:
    """The source ports of the client connections PgBouncer saw (logged in or not)."""
    return set(re.findall(r"C-0x[0-9a-f]+: \S+@127\.0\.0\.1:(\d+) ", log))


def clients(log: str) -> int:
    return len(ports(log))


def test_each_setting_as_a_real_client_meets_it(bouncers, pg_plain):
    for name, (_settings, _root, expected) in CASES.items():
        bouncer = bouncers[name]
        offset = pg_plain.log_size()
        before = len(bouncer_log(bouncer))
        without = gather(bouncer.url(), session_features=False)
        time.sleep(0.3)  # PgBouncer logs a client's close a moment after it
        first = ports(bouncer_log(bouncer)[before:])
        facts = gather(bouncer.url())
        time.sleep(0.3)
        found = facts["startup_parameters"]
        assert set(found) == set(NAMES), name
        got = {
            k: TAKEN
            if "taken at startup" in v["evidence"] and v["accepted"] is None
            else v["accepted"]
            for k, v in found.items()
            if k != "application_name"
        }
        assert got == expected, (name, found)
        assert found["application_name"]["accepted"] == "honours", (name, found)
        assert all(v["how"] == "measured" and v["evidence"] for v in found.values()), name

        # The budget: one client connection more than the same probe without session
        # features (the raw probe; detection's second client carries the rest).
        log = bouncer_log(bouncer)[before:]
        opened = facts["probe"]["connections_opened"]
        assert opened == without["probe"]["connections_opened"] + 1, (name, facts["probe"])
        assert len(ports(log) - first) == len(first) + 1, (name, first, log)
        assert "password authentication failed" not in log, name
        assert "SASL authentication failed" not in log, name
        assert "password authentication failed" not in pg_plain.log_since(offset), name

        # What a real client sending them as parameters of their own meets.
        for param, value in (("extra_float_digits", "3"), ("search_path", "public")):
            if expected[param] == "rejects":
                with pytest.raises(Exception, match=f"unsupported startup parameter: {param}"):
                    run(asyncpg_show(bouncer.url(), param, value))
                assert "unsupported startup parameter" in found[param]["evidence"], name
            elif expected[param] == TAKEN:  # asyncpg gets in
                run(asyncpg_show(bouncer.url(), param, value))
            else:  # not measured: the evidence says the pooler stopped before it
                assert "not measured" in found[param]["evidence"], (name, found[param])
        options = "-c search_path=pg_catalog,public -c extra_float_digits=2"
        if expected["options"] == "rejects":
            with pytest.raises(psycopg.OperationalError, match="unsupported startup parameter"):
                psycopg.connect(bouncer.url(), options=options).close()
        elif expected["options"] in ("honours", "ignores"):
            with psycopg.connect(bouncer.url(), options=options) as conn:
                shown = conn.execute("SHOW search_path").fetchone()
            applied = shown == ("pg_catalog, public",)
            assert applied == (expected["options"] == "honours"), (name, shown)


def test_1_24_tracks_search_path_but_drops_it(bouncers):
    """The probe reports search_path taken at startup, not "honours" (that shows only in
    a session); asyncpg, sending it as a parameter of its own, gets the server's default,
    as the probe's second client did inside options."""
    url = bouncers["1.24-track-sp"].url()
    assert run(asyncpg_show(url, "search_path", "pg_catalog")) == '"$user", public'
    found = gather(url)["startup_parameters"]["search_path"]
    assert found["accepted"] is None
    assert "inside options the session showed '\"$user\", public'" in found["evidence"]


def test_not_sent_where_no_pooler_answers(pg_plain, forwarder):
    for port in (pg_plain.port, forwarder.port):
        url = f"postgresql://app:{servers.PASSWORD}@127.0.0.1:{port}/app"
        offset = pg_plain.log_size()
        facts = gather(url)
        assert {v["accepted"] for v in facts["startup_parameters"].values()} == {"honours"}
        assert facts["probe"]["connections_opened"] == 1
        log = pg_plain.log_since(offset)  # (PgBouncer's own server logins may show too)
        assert len(re.findall(r"connection authorized: .*application_name=advisor\n", log)) == 1


def test_off_without_session_features(bouncers):
    bouncer = bouncers["1.18-empty"]
    before = len(bouncer_log(bouncer))
    facts = gather(bouncer.url(), session_features=False)
    assert "startup_parameters" not in facts
    log = bouncer_log(bouncer)[before:]
    assert "unsupported startup parameter" not in log  # no raw probe was sent
    assert "advisor-startup" not in log


def test_nothing_left_behind(bouncers, pg_plain):
    for name in ("1.18-empty", "1.24-track-sp"):
        gather(bouncers[name].url())
    admin = bouncers["1.18-empty"]
    with psycopg.connect(admin.admin_url(), autocommit=True) as conn:
        conn.prepare_threshold = None
        clients = conn.execute("SHOW CLIENTS").fetchall()
    assert len(clients) == 1  # the admin console's own
    busy = pg_plain.psql(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' "
        "AND state IS DISTINCT FROM 'idle' AND backend_type = 'client backend'"
    )
    assert int(busy) == 0


def test_tls_as_the_login_used(pg_tls):
    """Through TLS the raw probe does what the login did: here PostgreSQL itself (no
    pooler, so the probe would not run; called directly) answers the StartupMessage sent
    inside TLS with an authentication request, and gets no password."""
    offset = pg_tls.log_size()
    tls = startup.TLS(in_use=True, sslmode="require")
    outcome = startup.probe(
        ("127.0.0.1", pg_tls.port),
        "127.0.0.1",
        "app",
        "app",
        list(session.SEPARATE),
        tls,
        5.0,
    )
    assert outcome.ran and outcome.accepted == [k for k, _ in session.SEPARATE], outcome
    assert "authentication request" in outcome.reply
    log = pg_tls.log_since(offset)
    assert "authentication failed" not in log
    # The server saw the TLS connection and no authenticated login.
    assert "connection authorized" not in log and "connection authenticated" not in log


def test_first_reply_read_off_the_wire():
    """The reply parser on messages as PgBouncer and PostgreSQL word them."""
    sent = ["extra_float_digits", "search_path", "options"]
    error = b"SFATAL\0C08P01\0Munsupported startup parameter: search_path\0\0"
    out = startup.first_reply(b"E", error, startup.Outcome(sent=list(sent)))
    assert (out.rejected, out.accepted) == ("search_path", ["extra_float_digits"])
    assert out.state("options") == "unknown"
    ok = startup.first_reply(b"R", b"\0\0\0\x0aSCRAM-SHA-256\0\0", startup.Outcome(sent=sent))
    assert ok.accepted == sent and ok.rejected is None
    other = b"SFATAL\0MSSL required\0\0"
    out = startup.first_reply(b"E", other, startup.Outcome(sent=list(sent)))
    assert out.rejected is None and out.accepted == [] and "SSL required" in out.reply


def stk103(url: str, **ctx):
    from advisor.checks import Context
    from advisor.probe import probe

    report = probe(parse_target(url), Context(**ctx))
    return next(f for f in report.findings if f.id == "STK103")


def test_stk103_verdict_follows_what_a_real_client_meets(bouncers, pg_plain):
    """STK103 on the live facts: a parameter the stack sends that the pooler refuses is a
    fail with the stack's error and fix (the same refusal asyncpg met above), a stack that
    sends none of them passes, a parameter not measured is no warning, and direct to
    PostgreSQL everything passes."""
    refuses_sp = bouncers["1.18-efd"].url()
    found = stk103(refuses_sp, driver="pgjdbc", driver_options={"currentSchema": "app"})
    assert found.status == "fail", found.message
    assert "FATAL: unsupported startup parameter: search_path" in found.message
    assert "42.7.5" in found.message  # the stack's fix line
    found = stk103(refuses_sp, driver="asyncpg", driver_options={"search_path": "app"})
    assert found.status == "fail" and "unsupported startup parameter" in found.message
    # asyncpg by default sends none of them; pgjdbc's currentSchema is named as conditional.
    found = stk103(refuses_sp, driver="asyncpg")
    assert found.status == "pass", found.message
    found = stk103(refuses_sp, driver="pgjdbc")
    assert found.status == "pass" and "search_path would be refused" in found.message
    # search_path not measured there (the pooler stopped at extra_float_digits): no alarm.
    found = stk103(
        bouncers["1.18-empty"].url(), driver="asyncpg", driver_options={"search_path": "a"}
    )
    assert found.status == "pass", found.message
    # 1.24 takes options and drops its search_path: a stack sending options is warned.
    found = stk103(
        bouncers["1.24-track-sp"].url(),
        driver="psycopg",
        driver_options={"options": "-c search_path=app"},
    )
    assert found.status == "warn" and "drops it" in found.message, found.message
    direct = pg_plain.url()
    assert stk103(direct, driver="pgjdbc", driver_options={"currentSchema": "app"}).status == "pass"


def test_through_a_tls_pooler_with_the_logins_checks(pg_plain, pg_tls):
    """PgBouncer requiring TLS (client_tls_sslmode = require): the raw probe goes inside
    TLS with verify-full against the same CA as the login, and gets the same answers as in
    plain text; every client PgBouncer saw used TLS."""
    certs = pg_tls.certs  # readable by the postgres user PgBouncer runs as
    settings = {
        "client_tls_sslmode": "require",
        "client_tls_cert_file": certs["cert"],
        "client_tls_key_file": certs["key"],
        "ignore_startup_parameters": "extra_float_digits",
    }
    with running_all({"b": lambda: servers.PgBouncer(pg_plain, settings=settings).start()}) as s:
        bouncer = s["b"]
        url = bouncer.url() + f"?sslmode=verify-full&sslrootcert={certs['ca']}"
        before = len(bouncer_log(bouncer))
        facts = gather(url)
        found = facts["startup_parameters"]
        assert found["search_path"]["accepted"] == "rejects", found
        assert "taken at startup" in found["extra_float_digits"]["evidence"], found
        log = bouncer_log(bouncer)[before:]
        assert "SSL required" not in log and "authentication failed" not in log, log
        # A CA the login would not trust: the raw probe refuses the certificate too.
        tls = startup.TLS(in_use=True, sslmode="verify-full", rootcert=certs["other_ca"])
        outcome = startup.probe(
            ("127.0.0.1", bouncer.port), "127.0.0.1", "app", "app", list(session.SEPARATE), tls, 5
        )
        assert outcome.accepted == [] and outcome.rejected is None, outcome
        assert "TLS" in outcome.reply and "failed" in outcome.reply, outcome.reply
