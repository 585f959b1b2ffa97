"""The Debian 13 root (tests/support/trixie.py) and the servers run from it: which mirror it
is built from, that a half-built or outdated root is not reused, that removing one never
deletes through a mount left inside it, and that PgBouncer 1.24 and PostgreSQL 17 from it
serve the host's loopback with the settings asked for."""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest

from tests.support import servers, trixie
from tests.support.live import need, running


def test_mirror_is_the_main_archive_apt_uses(tmp_path):
    deb822 = tmp_path / "debian.sources"
    deb822.write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\n# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
        "URIs: http://mirror.example/debian/\nSuites: bookworm\n"
    )
    one_line = tmp_path / "sources.list"
    one_line.write_text(
        "deb https://packages.example.com/apt stable main\n"
        "deb [signed-by=/usr/share/keyrings/k.gpg arch=amd64] https://other.example/debian bookworm main\n"
    )
    ignored = tmp_path / "old.list.disabled"
    ignored.write_text("deb http://ignored.example/debian bookworm main\n")
    assert trixie.mirror([deb822]) == "http://mirror.example/debian"
    assert trixie.mirror([ignored, one_line]) == "https://other.example/debian"
    assert trixie.mirror([ignored, tmp_path / "missing.sources"]) == trixie.DEFAULT_MIRROR


def test_a_root_without_a_current_marker_is_not_complete(tmp_path):
    """A root is reused only with a marker written after its packages were installed,
    for today's package list, and with a PgBouncer that runs."""
    assert not trixie.is_complete(tmp_path)
    (tmp_path / trixie.MARKER).write_text(json.dumps({"suite": "trixie", "packages": []}))
    assert not trixie.is_complete(tmp_path)
    (tmp_path / trixie.MARKER).write_text(json.dumps(trixie._spec()))
    assert not trixie.is_complete(tmp_path)  # the marker is right, but no pgbouncer in it


def test_removing_a_root_never_deletes_through_a_mount(tmp_path):
    """An interrupted debootstrap can leave /proc or a bind mount inside the root; removing
    the root unmounts it first and leaves what it showed untouched."""
    if not servers.ROOT:
        need("root, to bind-mount (the Debian 13 root itself needs it too)")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("host data")
    stale = tmp_path / "stale-root"
    (stale / "proc").mkdir(parents=True)
    (stale / "etc").mkdir()
    (stale / "etc" / "passwd").write_text("")
    r = subprocess.run(["mount", "--bind", str(outside), str(stale / "proc")], capture_output=True)
    if r.returncode != 0:
        need(f"bind mounts: {r.stderr.decode().strip()}")
    trixie._remove(stale)
    assert not stale.exists()
    assert (outside / "keep.txt").read_text() == "host data"


def admin_console(bouncer: servers.PgBouncer) -> psycopg.Connection:
    """PgBouncer's admin console speaks the simple query protocol only (1.18 refuses the
    extended one): psycopg's client-side binding cursor uses it."""
    return psycopg.connect(
        bouncer.admin_url(), autocommit=True, cursor_factory=psycopg.ClientCursor
    )


def prepared_statements_survive(bouncer: servers.PgBouncer) -> list[str]:
    """One psycopg client through `bouncer` (2 server connections in round robin, so its
    transactions alternate between them), past psycopg's prepare threshold of 5: the
    errors it got."""
    errors = []
    with psycopg.connect(bouncer.url(), autocommit=True) as conn:
        # Both server connections open before the loop, whatever min_pool_size's timer did:
        # a second client holds one in a transaction while this client takes the other.
        with psycopg.connect(bouncer.url()) as holder:
            holder.execute("SELECT 1")  # psycopg opened a transaction: the server is held
            conn.execute("SELECT 1")
            holder.rollback()
        with admin_console(bouncer) as admin:
            assert len(admin.execute("SHOW SERVERS").fetchall()) >= 2
        for i in range(10):
            try:
                assert conn.execute("SELECT %s::int + 1", (i,)).fetchone() == (i + 1,)
            except psycopg.Error as exc:
                errors.append(str(exc).splitlines()[0])
    return errors


ROUND_ROBIN_2 = {"server_round_robin": 1, "min_pool_size": 2}


@pytest.mark.live
def test_pgbouncer_124_from_the_root_fronts_the_hosts_server(pg_plain, trixie_root):
    settings = {**ROUND_ROBIN_2, "max_prepared_statements": 200}
    bouncer = servers.PgBouncer(pg_plain, default_pool_size=2, settings=settings, root=trixie_root)
    assert bouncer.version().startswith("1.24.")
    with running(bouncer.start):
        with admin_console(bouncer) as admin:
            assert admin.execute("SHOW VERSION").fetchone()[0].startswith("PgBouncer 1.24.")
            config = {row[0]: row[1] for row in admin.execute("SHOW CONFIG")}
        assert config["max_prepared_statements"] == "200"
        assert config["server_round_robin"] == "1"
        assert config["default_pool_size"] == "2"
        # 1.24 keeps protocol-level prepared statements across server connections.
        assert prepared_statements_survive(bouncer) == []
    # Its files lived inside the root and are gone with it.
    assert bouncer.dir.is_relative_to(trixie_root / "tmp")
    assert not bouncer.dir.exists()


@pytest.mark.live
def test_the_systems_pgbouncer_118_loses_them(pg_plain):
    """The same client through the host's PgBouncer 1.18: the statement goes missing."""
    bouncer = servers.PgBouncer(pg_plain, default_pool_size=2, settings=ROUND_ROBIN_2)
    assert bouncer.version().startswith("1.18.")
    with running(bouncer.start):
        errors = prepared_statements_survive(bouncer)
    assert errors and all('prepared statement "_pg3_0" does not exist' in e for e in errors)


@pytest.mark.live
def test_postgresql_17_from_the_root(trixie_root):
    with running(lambda: servers.PostgresServer("pg17", root=trixie_root).start()) as server:
        assert server.psql("SHOW server_version").startswith("17.")
        with psycopg.connect(server.url()) as conn:
            assert conn.info.server_version // 10000 == 17
            assert conn.execute("SELECT current_user").fetchone() == ("app",)
