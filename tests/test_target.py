"""URL / DSN parsing and redaction (no network)."""

import pytest

from advisor.errors import InvalidTarget
from advisor.target import parse_target


def test_postgres_url_parts_and_redaction():
    t = parse_target("postgresql://app:s%40cret%2F1@db.example.com:5433/app?sslmode=require")
    assert (t.engine, t.host, t.port, t.database, t.user) == (
        "postgresql",
        "db.example.com",
        5433,
        "app",
        "app",
    )
    assert t.password == "s@cret/1"
    assert t.display == "postgresql://app:***@db.example.com:5433/app?sslmode=require"
    assert "s@cret" not in repr(t)
    kw = t.libpq_kwargs()
    assert kw["password"] == "s@cret/1" and kw["sslmode"] == "require" and kw["port"] == "5433"


def test_postgres_scheme_alias_and_default_port():
    t = parse_target("postgres://u@h/d")
    assert t.engine == "postgresql" and t.port is None and t.effective_port == 5432
    assert t.password is None and t.display == "postgres://u@h/d"


def test_prisma_params_recorded_not_passed_to_libpq():
    t = parse_target(
        "postgresql://u:p@h:6543/d?pgbouncer=true&connection_limit=1&pool_timeout=20"
        "&schema=public&sslaccept=strict&sslmode=require&application_name=x"
    )
    assert t.client_params == {
        "pgbouncer": "true",
        "connection_limit": "1",
        "pool_timeout": "20",
        "schema": "public",
        "sslaccept": "strict",
    }
    kw = t.libpq_kwargs()
    for key in t.client_params:
        assert key not in kw
    assert kw["sslmode"] == "require" and kw["application_name"] == "x"


def test_unknown_params_recorded():
    t = parse_target("postgresql://u@h/d?sslmdoe=require")
    assert t.unknown_params == {"sslmdoe": "require"} and "sslmdoe" not in t.libpq_kwargs()


def test_ipv6_host():
    t = parse_target("postgresql://u:p@[::1]:6432/d")
    assert t.host == "::1" and t.port == 6432
    assert t.display == "postgresql://u:***@[::1]:6432/d"


def test_unix_socket_hosts():
    t = parse_target("postgresql://u@%2Fvar%2Frun%2Fpostgresql/d")
    assert t.host == "/var/run/postgresql" and t.is_socket
    t2 = parse_target("postgresql:///d?host=/tmp/sock&port=5433")
    assert t2.host == "/tmp/sock" and t2.port == 5433 and t2.database == "d"


def test_password_in_query_is_redacted():
    t = parse_target("postgresql://u@h/d?password=hunter2")
    assert t.password == "hunter2"
    assert "hunter2" not in t.display


def test_keyword_dsn():
    t = parse_target(
        "host=db.example.com port=5432 dbname=app user=app password='it s' sslmode=verify-full"
    )
    assert t.form == "keywords"
    assert (t.host, t.port, t.database, t.user) == ("db.example.com", 5432, "app", "app")
    t = parse_target(r"host=h dbname=app password='a b\'c'")
    assert t.password == "a b'c"
    assert "a b" not in t.display and "password=***" in t.display


def test_mysql_urls():
    t = parse_target("mysql://root:pw@127.0.0.1:3307/shop?ssl-mode=required&connection_limit=1")
    assert t.engine == "mysql" and t.port == 3307 and t.params["ssl-mode"] == "REQUIRED"
    assert t.client_params == {"connection_limit": "1"}
    assert parse_target("mariadb://u@h/d").effective_port == 3306


def test_sqlalchemy_driver_suffix():
    t = parse_target("postgresql+psycopg://u:p@h/d")
    assert t.driver == "psycopg" and t.display.startswith("postgresql+psycopg://")


def test_scrub_removes_raw_and_encoded_password():
    t = parse_target("postgresql://u:p%40ss%20word@h/d")
    assert t.scrub("failed for p@ss word and p%40ss%20word") == "failed for *** and ***"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        "garbage",
        "http://example.com",
        "postgresql://u@h:99999/d",
        "postgresql://u@h:port/d",
        "postgresql://u@[::1/d",
        "postgresql://u@h/d?sslmode=sometimes",
        "mysql://u@h/d?ssl-mode=maybe",
        "host=h bogus=1",
        "postgresql://u@h/d?connect_timeout=soon",
        "postgresql://u@ho st/d",
        "host='unterminated",
    ],
)
def test_bad_input_raises_invalid_target_without_echoing_secrets(bad):
    with pytest.raises(InvalidTarget) as info:
        parse_target(bad.replace("u@", "u:topsecret@"))
    assert "topsecret" not in str(info.value)
    assert "\n" not in str(info.value)
