"""The URL parser reads a URL exactly as libpq does, or refuses it; no password ever shows.

libpq's own parser is the oracle: psycopg's `conninfo_to_dict` is PQconninfoParse
(conninfo_uri_parse_options in src/interfaces/libpq/fe-connect.c). Whatever the advisor
accepts, libpq reads with the same host, port, database, user and password. What libpq
reads differently from what was written (a password with an unencoded '/', '@' or '&'
lands in the host, the database or a parameter) the advisor refuses with one line that
quotes nothing. Passwords are drawn from a hostile alphabet (`?/#@:&=%` and digits)
around a marker, so that a leak of any middle part of a password is caught too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.conninfo import conninfo_to_dict

from advisor.cli import main
from advisor.errors import InvalidTarget
from advisor.target import parse_target, secret_forms

MARK = "Qz9Mark"
ROOT_DIR = Path(__file__).resolve().parents[1]
FIELDS = ("host", "port", "dbname", "user", "password")


def libpq(url: str) -> dict | None:
    """What libpq reads from `url`, or None when it refuses it."""
    try:
        return conninfo_to_dict(url)
    except (psycopg.Error, UnicodeDecodeError):
        return None


def ours(t) -> dict:
    kw = t.libpq_kwargs()
    return {k: kw.get(k) for k in FIELDS}


def shown(text: str, secret: str) -> bool:
    return any(form in text for form in secret_forms(secret)) or MARK in text


# -- the shapes from the issue -----------------------------------------------------

# name -> (url, True when libpq reads it as written: the advisor must parse it the same
# way; False when libpq misreads or refuses it: the advisor must refuse it)
SHAPES = {
    "password starts with ?": ("postgresql://u:?ab" + MARK + "@host/db", True),
    "password starts with /": ("postgresql://u:/ab" + MARK + "@host/db", False),
    "digits then ?": ("postgresql://u:123?ab" + MARK + "@host/db", True),
    "digits then /": ("postgresql://u:123/ab" + MARK + "@host/db", False),
    "unencoded @ in the password": ("postgresql://u:ab@" + MARK + "@host/db", False),
    "& inside ?password=": ("postgresql://u@host/db?password=ab&" + MARK, False),
    "& and = inside ?password=": ("postgresql://u@host/db?password=ab&" + MARK + "=x", False),
    "scheme typo, one slash": ("postgresql+psycopg:/u:ab" + MARK + "@host/db", False),
    "scheme typo with :// later": (
        "postgresql+psycopg:/u:ab" + MARK + "@host/db?sslrootcert=file://x",
        False,
    ),
    "password starts with /, no host": ("postgresql://u:/ab" + MARK, False),
    "# in the password": ("postgresql://u:ab#" + MARK + "@host/db", True),
    "bad percent in the password": ("postgresql://u:ab%" + MARK + "@host/db", False),
    # Prisma's parameters stay recorded (libpq would refuse them: compared without them).
    "? in the password, Prisma parameters": (
        "postgresql://u:?ab" + MARK + "@host:6543/db?pgbouncer=true&connection_limit=1",
        True,
    ),
    # Azure-style user names: libpq takes a known parameter's value as written.
    "@ in ?user=": ("postgresql://host:5432/db?user=me@corp&password=ab" + MARK, True),
}


def without_client_params(url: str, t) -> str:
    for key, value in t.client_params.items():
        url = url.replace(f"{key}={value}", "")
    return re.sub(r"&+", "&", url).replace("?&", "?").rstrip("&?")


def test_issue_shapes_parse_as_libpq_or_are_refused_without_an_echo():
    wrong = []
    for name, (url, same) in SHAPES.items():
        try:
            t = parse_target(url)
        except InvalidTarget as exc:
            if same or MARK in str(exc) or "\n" in str(exc):
                wrong.append(f"{name}: refused with {exc}")
            continue
        lib = libpq(without_client_params(url, t))
        if not same:
            wrong.append(f"{name}: libpq reads {lib}: must be refused")
        elif lib is None or ours(t) != {k: lib.get(k) for k in FIELDS}:
            wrong.append(f"{name}: parsed {ours(t)}, libpq reads {lib}")
        elif MARK not in t.password or MARK in t.display:
            wrong.append(f"{name}: password {t.password!r}, display {t.display}")
    assert not wrong, "\n".join(wrong)
    t = parse_target(SHAPES["? in the password, Prisma parameters"][0])
    assert t.client_params == {"pgbouncer": "true", "connection_limit": "1"}
    assert "pgbouncer" not in t.libpq_kwargs() and t.port == 6543
    assert parse_target(SHAPES["@ in ?user="][0]).user == "me@corp"


def test_issue_shapes_print_no_password_in_any_format(capsys, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    leaked = []
    for name, (url, _) in SHAPES.items():
        for fmt in ("text", "json", "markdown", "junit"):
            code = main(["lint", url, "--format", fmt, "--verbose"])
            out, err = capsys.readouterr()
            if code not in (0, 1, 2) or MARK in out or MARK in err:
                leaked.append(f"{name} ({fmt}): exit {code}: {(out + err)[:300]}")
            elif code == 2 and (out or len(err.strip().splitlines()) != 1):
                leaked.append(f"{name} ({fmt}): not one line: {err!r}")
    assert not leaked, "\n".join(leaked)


# -- the property over hostile passwords -------------------------------------------

HOSTILE = st.text(st.sampled_from("?/#@:&=%0123456789"), max_size=8)
PASSWORD = st.tuples(HOSTILE, HOSTILE).map(lambda ab: ab[0] + MARK + ab[1])
PLACES = {
    "userinfo": lambda pw: f"postgresql://u:{pw}@host:5432/db",
    "query": lambda pw: f"postgresql://u@host:5432/db?password={pw}",
    "userinfo-encoded": lambda pw: f"postgresql://u:{quote(pw, safe='')}@host:5432/db",
    "query-encoded": lambda pw: f"postgresql://u@host:5432/db?password={quote(pw, safe='')}",
}
INTENDED = {"host": "host", "port": "5432", "dbname": "db", "user": "u"}


@settings(
    max_examples=3000,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(PASSWORD, st.sampled_from(sorted(PLACES)))
def test_hostile_passwords_parse_as_libpq_or_are_refused(password, place):
    url = PLACES[place](password)
    lib = libpq(url)
    try:
        t = parse_target(url)
    except InvalidTarget as exc:
        assert not shown(str(exc), password), str(exc)
        # Refused only where libpq itself misreads the URL (or cannot decode it).
        assert lib is None or any(lib.get(k) != v for k, v in INTENDED.items()), (url, lib)
        assert not place.endswith("encoded")
        return
    assert lib is not None, f"libpq refuses {url!r}, the advisor accepted it"
    assert ours(t) == {k: lib.get(k) for k in FIELDS}
    assert {k: lib.get(k) for k in INTENDED} == INTENDED
    assert not shown(t.display, password) and t.password in t.secrets
    if place.endswith("encoded"):
        assert t.password == password


# -- libpq's own URI regression inputs ------------------------------------------------

REGRESS = [
    line
    for line in (ROOT_DIR / "tests" / "data" / "libpq-regress-uris.txt").read_text().splitlines()
    if line and not line.startswith("#")
]


@pytest.mark.parametrize("uri", REGRESS)
def test_libpq_regression_uri(uri, capsys, monkeypatch):
    """Every URI of libpq's test/regress.in: what libpq reads, the advisor reads (host,
    hostaddr, port, database, user); what libpq refuses gets exit 2 (one line) or a finding
    that names the offending part. Never a traceback, never a network attempt (lint)."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    theirs = libpq(uri)
    code = main(["lint", uri, "--format", "json"])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), err
    if theirs is not None:
        assert code != 2, f"libpq reads {theirs}, the advisor refused: {err}"
        kw = parse_target(uri).libpq_kwargs()
        for key in ("host", "hostaddr", "port", "dbname", "user"):
            assert kw.get(key) == theirs.get(key), (key, kw, theirs)
        return
    if code == 2:
        assert not out and len(err.strip().splitlines()) == 1, err
        return
    # Accepted, though libpq refuses it: only a parameter libpq does not know (it reads
    # ?uzer= as an error; Prisma & co take their own), and a finding must name it.
    unknown = parse_target(uri).unknown_params
    assert unknown, f"libpq refuses {uri!r}, the advisor took it without a word"
    findings = {f["id"]: f for f in json.loads(out)["findings"]}
    assert all(name in findings["URL302"]["message"] for name in unknown)


def test_invalid_percent_encoding_is_exit_2_not_a_literal():
    for uri in ("postgres://host?dbname=%XXfoo", "postgresql://%zz", "postgresql://u:%G1@h/db"):
        with pytest.raises(InvalidTarget):
            parse_target(uri)
