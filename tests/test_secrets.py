"""Secrets never leave the process: every artifact of every run is harvested and searched.

Artifacts: stdout and stderr (with --debug logging), the JSON / Markdown / JUnit files and
streams, a site built with the reports, log records captured in-process, and exception
messages. Passwords arrive by URL, URL query, keyword DSN, PGPASSWORD and .pgpass.
"""

from __future__ import annotations

import json
import logging
from urllib.parse import quote

import psycopg
import pymysql
import pytest

from advisor.cli import main
from advisor.errors import InvalidTarget
from advisor.facts import mysql as my
from advisor.facts import postgres as pg
from advisor.log import SECRETS, log, remember
from advisor.target import parse_target
from tests.support.harvest import build_site, leaks, run_every_format, site_files
from tests.support.servers import SilentListener, free_port

pytestmark = pytest.mark.live

# Distinct raw, percent-encoded and HTML forms; still a valid password for PostgreSQL.
SECRET = "Sp3c!al p@ss/w0rd&<x>"
ROLE = "leaky"


@pytest.fixture(scope="module")
def leaky_role(pg_plain):
    pg_plain.psql(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{SECRET}'")
    yield pg_plain
    pg_plain.psql(f"DROP ROLE {ROLE}")


def pg_url(server, pw=SECRET, **query) -> str:
    q = "&".join(f"{k}={quote(v, safe='')}" for k, v in query.items())
    userinfo = ROLE + (f":{quote(pw, safe='')}" if pw is not None else "")
    return f"postgresql://{userinfo}@127.0.0.1:{server.port}/app" + (f"?{q}" if q else "")


def cases(server, tmp_path) -> dict:
    """name -> (command, argv, env, the secret that must not show, expected exit codes)."""
    pgpass = tmp_path / "pgpass.conf"
    pgpass.write_text(f"127.0.0.1:{server.port}:app:{ROLE}:{SECRET.replace(':', chr(92) + ':')}\n")
    pgpass.chmod(0o600)
    wrong = "Wr0ng&" + SECRET
    dsn = (
        f"host=127.0.0.1 port={server.port} dbname=app user={ROLE} "
        f"password='{SECRET}' application_name=advisor"
    )
    silent = SilentListener()
    return {
        "url-password": ("probe", [pg_url(server)], None, SECRET, {1}),
        "query-password": (
            "probe",
            [],
            {"DATABASE_URL": pg_url(server, None, password=SECRET)},
            SECRET,
            {1},
        ),
        "keyword-dsn": ("probe", [dsn], None, SECRET, {1}),
        "PGPASSWORD": ("probe", [pg_url(server, None)], {"PGPASSWORD": SECRET}, SECRET, {1}),
        "pgpass": ("probe", [pg_url(server, None)], {"PGPASSFILE": str(pgpass)}, SECRET, {1}),
        "wrong-password": ("probe", [pg_url(server, wrong)], None, wrong, {3}),
        "api-key-param": (
            "probe",
            [pg_url(server, SECRET, api_key="ak_" + SECRET)],
            None,
            "ak_" + SECRET,
            {1},
        ),
        "mysql-timeout": (
            "probe",
            [f"mysql://app:{quote(SECRET, safe='')}@127.0.0.1:{silent.port}/app", "--timeout", "1"],
            None,
            SECRET,
            {3},
        ),
        "mysql-closed": (
            "probe",
            [f"mysql://app:{quote(SECRET, safe='')}@localhost:{free_port()}/app"],
            {"MYSQL_PWD": SECRET},
            SECRET,
            {3},
        ),
        "lint": ("lint", [pg_url(server, SECRET, sslpassword="k" + SECRET)], None, SECRET, {0, 1}),
    }


@pytest.fixture(scope="module")
def harvest(leaky_role, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secrets")
    reports = tmp / "reports"
    reports.mkdir()
    found = {}
    for name, (command, argv, env, secret, codes) in cases(leaky_role, tmp).items():
        artifacts = run_every_format(command, argv, tmp / name, env=env)
        report = json.loads(artifacts["json file"])
        (reports / f"{name}.json").write_text(artifacts["json file"])
        found[name] = (artifacts, secret, codes, report)
    site = tmp / "site"
    build_site(site, reports)
    return found, site_files(site)


@pytest.mark.parametrize(
    "name",
    [
        "url-password",
        "query-password",
        "keyword-dsn",
        "PGPASSWORD",
        "pgpass",
        "wrong-password",
        "api-key-param",
        "mysql-timeout",
        "mysql-closed",
        "lint",
    ],
)
def test_no_secret_in_any_artifact(harvest, name):
    found, _ = harvest
    artifacts, secret, codes, report = found[name]
    assert not leaks(artifacts, secret), leaks(artifacts, secret)
    # The harvest is real: the run did what the case says and --debug logged its steps.
    assert report["summary"]["status"] in ("pass", "warn", "fail", "error")
    stderr = artifacts["json run stderr"]
    assert "Traceback" not in stderr
    if name != "lint":
        assert "advisor: DEBUG: connecting to" in stderr, stderr
        failed = {3} == codes
        assert (report["summary"]["status"] == "error") == failed, report["findings"][0]


def test_the_probes_really_logged_in(harvest):
    """PGPASSWORD, .pgpass, keyword DSN and query password all authenticated."""
    found, _ = harvest
    for name in ("url-password", "query-password", "keyword-dsn", "PGPASSWORD", "pgpass"):
        report = found[name][3]
        assert report["facts"]["role"]["name"] == ROLE, (name, report["findings"][0])


def test_no_secret_in_the_built_site(harvest):
    found, files = harvest
    assert any("readiness" in name for name in files)
    readiness = [text for name, text in files.items() if name.startswith("readiness")]
    assert any("leaky" in text for text in readiness)  # the reports are on the pages
    for name, (_, secret, _, _) in found.items():
        assert not leaks(files, secret), (name, leaks(files, secret))


def test_debug_log_records_in_process(leaky_role, caplog, capsys):
    caplog.set_level(logging.DEBUG, logger="advisor")
    code = main(["probe", pg_url(leaky_role), "--format", "json", "--debug"])
    out, err = capsys.readouterr()
    assert code == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("connecting to") for m in messages)
    assert any("read-only transaction" in m for m in messages)
    assert not leaks(
        {"records": "\n".join(messages), "caplog": caplog.text, "out": out, "err": err}, SECRET
    )


def test_log_filter_scrubs_known_secrets_even_if_a_caller_logs_them(caplog):
    remember(parse_target("postgresql://u:Another%20Secret1@h/d"))
    caplog.set_level(logging.DEBUG, logger="advisor")
    log.debug(
        "driver said: password=%s url=%s", "Another Secret1", "postgresql://u:Another%20Secret1@h/d"
    )
    assert "Another" not in caplog.text and "***" in caplog.text
    SECRETS.secrets.discard("Another Secret1")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:Echo%2Fd%40ta-9@db.example.com/app",
        "host=db.example.com user=app password='Echo/d@ta-9'",
        "postgresql://app@db.example.com/app?password=Echo%2Fd%40ta-9",
    ],
)
def test_driver_errors_that_echo_the_connection_string_are_scrubbed(url):
    t = parse_target(url)
    echo = (
        f"connection to server failed: invalid value in '{url}' "
        "(password=Echo/d@ta-9, encoded Echo%2Fd%40ta-9, quoted 'Echo/d@ta-9')"
    )
    for failure in (
        pg._probe_failed(psycopg.OperationalError(echo), t),
        my._probe_failed(pymysql.err.OperationalError(2003, echo), t),
        my._probe_failed(OSError(echo), t),
    ):
        assert "Echo" not in str(failure) and "d@ta" not in str(failure), str(failure)


def test_pgpassword_and_pgpass_values_are_known_to_scrub(tmp_path, monkeypatch):
    passfile = tmp_path / "pgpass"
    passfile.write_text(
        "# comment\nother:5432:*:*:NotThisOne\n"
        "db.example.com:*:app:app:From\\:PgPass9\n*:*:*:*:Wildcard77\n"
    )
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.setenv("PGPASSWORD", "FromEnv42")
    t = parse_target("postgresql://app@db.example.com/app")
    assert {"From:PgPass9", "Wildcard77", "FromEnv42"} <= set(t.secrets)
    assert "NotThisOne" not in t.secrets
    assert t.scrub("FromEnv42 From:PgPass9 From%3APgPass9") == "*** *** ***"
    monkeypatch.setenv("MYSQL_PWD", "MyEnv77")
    assert "MyEnv77" in parse_target("mysql://u@h/d").secrets


def test_secret_looking_query_values_are_masked_everywhere():
    t = parse_target(
        "postgresql://u@h/d?api_key=AK1234&client_secret=CS1234&token=TK1234"
        "&sslpassword=SP1234&apikey=AP1234&PWD=PW1234&sslmode=require"
    )
    for value in ("AK1234", "CS1234", "TK1234", "SP1234", "AP1234", "PW1234"):
        assert value not in t.display
    assert "sslmode=require" in t.display
    dsn = parse_target("host=h sslpassword=SP1234 password=PW1234")
    assert "SP1234" not in dsn.display and "PW1234" not in dsn.display


@pytest.mark.parametrize(
    "bad",
    [
        "postgresql://user:Misplaced9/db",
        "Misplaced9://user@host/db",
        "postgresql://user:Misplaced9@host:Misplaced9/db",
        "postgresql://user:%ffMisplaced9@h/d",
    ],
)
def test_invalid_url_messages_do_not_echo_a_password(bad):
    with pytest.raises(InvalidTarget) as info:
        parse_target(bad)
    assert "Misplaced9" not in str(info.value)
