"""Secrets the advisor never read itself are scrubbed too: libpq finds passwords in
PGPASSWORD, in a password file matched through PGHOST/PGPORT/PGUSER/PGDATABASE or
~/.pgpass, and in pg_service.conf (service= in the URL or PGSERVICE; PGSERVICEFILE,
~/.pg_service.conf, PGSYSCONFDIR), and sends them to whoever asks.

A hostile server (tests/support/fakepg.py) asks for the password in clear text
(AuthenticationCleartextPassword) and sends it back as its version, as a
ParameterStatus, in a notice and in the facts row; another fails the login with an error
that quotes it. For each source the fake must really have received the password (so
the case is real), and no artifact of any run may hold it: stdout and stderr of every
format with --debug, the --output files, a --targets fleet and a burst.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from tests.support.cli import run_advisor
from tests.support.fakepg import FakePostgres
from tests.support.harvest import leaks, run_every_format
from tests.support.live import running_all

pytestmark = pytest.mark.live


@pytest.fixture(scope="module")
def fakes():
    with running_all(
        {
            mode: (lambda mode=mode: FakePostgres(mode))
            for mode in ("cleartext-echo", "cleartext-fail")
        }
    ) as started:
        yield started


def secret(name: str) -> str:
    # Distinct raw, percent-encoded and HTML forms; fine in a password file and a service file.
    return f"Src-{name}-p@ss/w0rd&<x>"


def cases(port: int, tmp) -> dict:
    """name -> (argv, env, the password libpq will send)."""
    out = {}

    def case(name, url, env=None, home_files=None):
        home = tmp / name / "home"
        home.mkdir(parents=True)
        for file_name, text in (home_files or {}).items():
            (home / file_name).write_text(text)
            (home / file_name).chmod(0o600)
        out[name] = ([url], {"HOME": str(home), **(env or {})}, secret(name))
        return home

    def service(name):
        return (
            f"# a comment\n[other]\nhost=192.0.2.1\n\n[advsvc]\nhost=127.0.0.1\n"
            f"port={port}\nuser=app\ndbname=app\npassword={secret(name)}\n"
        )

    case("url", f"postgresql://app:{quote(secret('url'), safe='')}@127.0.0.1:{port}/app")
    case(
        "PGPASSWORD", f"postgresql://app@127.0.0.1:{port}/app", {"PGPASSWORD": secret("PGPASSWORD")}
    )
    passfile = tmp / "pgpass"
    passfile.write_text(
        f"127.0.0.1:5432:app:app:NotThisOne\n127.0.0.1:{port}:app:app:{secret('pgpass-PGPORT')}\n"
    )
    passfile.chmod(0o600)
    case(
        "pgpass-PGPORT",
        "postgresql://app@127.0.0.1/app",
        {"PGPORT": str(port), "PGPASSFILE": str(passfile)},
    )
    case(
        "pgpass-home-defaults",
        "postgresql:///",
        {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "app", "PGDATABASE": "app"},
        {".pgpass": f"*:{port}:app:app:{secret('pgpass-home-defaults')}\n"},
    )
    servicefile = tmp / "services.conf"
    servicefile.write_text(service("service-url"))
    case("service-url", "postgresql:///?service=advsvc", {"PGSERVICEFILE": str(servicefile)})
    case(
        "PGSERVICE-home",
        "postgresql:///",
        {"PGSERVICE": "advsvc"},
        {".pg_service.conf": service("PGSERVICE-home")},
    )
    sysconf = tmp / "sysconf"
    sysconf.mkdir()
    (sysconf / "pg_service.conf").write_text(service("PGSYSCONFDIR"))
    case("PGSYSCONFDIR", "postgresql:///?service=advsvc", {"PGSYSCONFDIR": str(sysconf)})
    return out


EVERY_FORMAT = ("url", "PGPASSWORD", "pgpass-PGPORT", "service-url")


def harvest(fake, tmp, every_format=()) -> dict:
    """name -> (artifacts, the secret); every format for `every_format`, else the text and
    JSON runs only (all with --debug)."""

    def one(item):
        name, (argv, env, pw) = item
        if name in every_format:
            return name, run_every_format("probe", argv, tmp / name / "out", env=env), pw
        text = run_advisor("probe", *argv, "--debug", env=env)
        js = run_advisor("probe", *argv, "--format", "json", "--debug", env=env)
        return (
            name,
            {
                "text stdout": text.stdout,
                "text stderr": text.stderr,
                "json stdout": js.stdout,
                "json stderr": js.stderr,
            },
            pw,
        )

    with ThreadPoolExecutor(4) as pool:
        runs = pool.map(one, cases(fake.port, tmp).items())
        return {name: (found, pw) for name, found, pw in runs}


@pytest.fixture(scope="module")
def echoed(fakes, tmp_path_factory):
    return fakes["cleartext-echo"], harvest(
        fakes["cleartext-echo"], tmp_path_factory.mktemp("echo"), EVERY_FORMAT
    )


@pytest.fixture(scope="module")
def refused(fakes, tmp_path_factory):
    return fakes["cleartext-fail"], harvest(
        fakes["cleartext-fail"], tmp_path_factory.mktemp("fail")
    )


NAMES = [
    "url",
    "PGPASSWORD",
    "pgpass-PGPORT",
    "pgpass-home-defaults",
    "service-url",
    "PGSERVICE-home",
    "PGSYSCONFDIR",
]


@pytest.mark.parametrize("name", NAMES)
def test_a_server_echoing_the_cleartext_password_gets_nothing_printed(echoed, name):
    fake, found = echoed
    artifacts, pw = found[name]
    assert pw in fake.passwords, f"libpq did not send the {name} password: the case is not real"
    assert not leaks(artifacts, pw), leaks(artifacts, pw)
    report = json.loads(artifacts.get("json file") or artifacts["json stdout"])
    assert report["summary"]["status"] != "error", report["findings"][0]
    assert report["facts"]["server_version"] == "***"  # it was the password
    debug = artifacts.get("json run stderr", artifacts["json stderr"])
    assert "advisor: DEBUG: connecting to" in debug


def test_an_error_quoting_the_cleartext_password_gets_nothing_printed(refused):
    fake, found = refused
    for name in NAMES:
        artifacts, pw = found[name]
        assert pw in fake.passwords, f"libpq did not send the {name} password: not a real case"
        assert not leaks(artifacts, pw), (name, leaks(artifacts, pw))
        report = json.loads(artifacts["json stdout"])
        assert report["facts"]["probe"]["error_kind"] == "authentication", name
        assert "password authentication failed" in artifacts["json stderr"]  # the --debug line


def test_fleet_and_burst_outputs_are_scrubbed(fakes, tmp_path):
    echo, fail = fakes["cleartext-echo"], fakes["cleartext-fail"]
    passfile = tmp_path / "pgpass"
    pw = secret("fleet")
    passfile.write_text(f"127.0.0.1:*:app:app:{pw}\n")
    passfile.chmod(0o600)
    (tmp_path / "targets.toml").write_text(
        f'[[target]]\nname = "echo"\nurl = "postgresql://app@127.0.0.1:{echo.port}/app"\n'
        f'[[target]]\nname = "fail"\nurl = "postgresql://app@127.0.0.1:{fail.port}/app"\n'
    )
    env = {"PGPASSFILE": str(passfile), "HOME": str(tmp_path)}
    fleet = run_advisor(
        "probe",
        "--targets",
        str(tmp_path / "targets.toml"),
        "--format",
        "markdown",
        "--output",
        str(tmp_path / "reports"),
        "--debug",
        env=env,
    )
    files = {p.name: p.read_text() for p in (tmp_path / "reports").iterdir()}
    assert set(files) == {"echo.md", "fail.md"}
    burst = run_advisor(
        "burst",
        f"postgresql://app:{quote(pw, safe='')}@127.0.0.1:{fail.port}/app",
        "--clients",
        "2",
        "--format",
        "json",
        env=env,
    )
    assert pw in echo.passwords and fail.passwords.count(pw) >= 2
    artifacts = {
        "fleet stdout": fleet.stdout,
        "fleet stderr": fleet.stderr,
        "burst stdout": burst.stdout,
        "burst stderr": burst.stderr,
        **files,
    }
    assert not leaks(artifacts, pw), leaks(artifacts, pw)
    assert fleet.returncode == 3 and burst.returncode == 3, (fleet.stderr, burst.stderr)
