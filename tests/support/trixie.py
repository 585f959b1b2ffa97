"""A Debian 13 (trixie) root for the newer PgBouncer (1.24) and PostgreSQL 17.

Debian 12 ships PgBouncer 1.18, which does not track protocol-level prepared statements;
1.21+ does (`max_prepared_statements`). To test both on one machine, `root()` builds, once
per machine, a minimal trixie root with Debian's own packages (`debootstrap
--variant=minbase`, then `apt-get install` inside it: about a minute and 400 MB) and
reuses it afterwards. Programs run in it with `chroot`; it shares the host's network, so a
PgBouncer started inside listens on the host's loopback and fronts the host's servers.

The root lives at a fixed path (ADVISOR_TRIXIE_ROOT overrides it) so that every test run on
the machine reuses it. A lock file keeps two processes from building at once; the root is
built under a temporary name and renamed into place only after its marker file is written,
so a root with a marker is complete. A missing or broken root is rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.support.servers import MissingBinary

SUITE = "trixie"
# What the root holds. Changing this list rebuilds the root (the marker records it).
PACKAGES = ("pgbouncer", "postgresql-17")
DEFAULT_ROOT = Path("/var/cache/pooling-advisor/trixie-root")
MARKER = ".advisor-root.json"
DEFAULT_MIRROR = "http://deb.debian.org/debian"


class TrixieUnavailable(MissingBinary):
    """The root cannot be built here: the live tests that need it skip (or fail when
    ADVISOR_REQUIRE_SERVERS=1, through tests/support/live.py)."""


def root_path() -> Path:
    return Path(os.environ.get("ADVISOR_TRIXIE_ROOT") or DEFAULT_ROOT)


def _spec() -> dict:
    return {"suite": SUITE, "variant": "minbase", "packages": list(PACKAGES)}


def apt_source_files() -> list[Path]:
    return [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]


def mirror(files: list[Path] | None = None) -> str:
    """The Debian mirror this machine's apt uses (same host, so the same network rules
    apply), as `scheme://host/path` for the main archive; deb.debian.org when none is
    configured. Reads deb822 `.sources` files and one-line `sources.list` entries."""
    for path in apt_source_files() if files is None else files:
        if path.suffix not in ("", ".list", ".sources") or not path.is_file():
            continue
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        uris = re.findall(r"^\s*URIs:\s*(.+)$", text, re.M) + re.findall(
            r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.M
        )
        for line in uris:
            for uri in line.split():
                uri = uri.rstrip("/")
                # The main archive, not debian-security, ports or a third-party repository.
                if uri.startswith(("http://", "https://")) and uri.endswith("/debian"):
                    return uri
    return DEFAULT_MIRROR


def _mounts_under(path: Path) -> list[str]:
    """Mount points inside `path` (deepest first): a build interrupted by a kill can leave
    debootstrap's /proc or /sys mounted in it, and those must never be deleted into."""
    prefix = str(path.resolve()) + "/"
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mounts") as fh:
        for line in fh:
            point = line.split()[1].replace("\\040", " ")
            if point.startswith(prefix):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def _remove(path: Path) -> None:
    if not path.exists() and not path.is_symlink():
        return
    for point in _mounts_under(path):
        subprocess.run(["umount", "-l", point], capture_output=True)
    if _mounts_under(path):
        raise TrixieUnavailable(f"{path} still has mounts inside; not removing it")
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], check=True)


def is_complete(path: Path) -> bool:
    """The marker says this root was finished with today's package list, and its
    PgBouncer runs."""
    try:
        if json.loads((path / MARKER).read_text()) != _spec():
            return False
    except (OSError, ValueError):
        return False
    try:
        r = subprocess.run(
            ["chroot", str(path), "/usr/sbin/pgbouncer", "--version"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return r.returncode == 0


def _run(argv: list[str], what: str, timeout: float) -> None:
    # The caller's environment (a proxy setting, say) with a root's PATH and no prompts.
    env = dict(
        os.environ,
        PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        DEBIAN_FRONTEND="noninteractive",
        LC_ALL="C",
    )
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise TrixieUnavailable(f"{what} took over {timeout:.0f}s") from exc
    if r.returncode != 0:
        tail = (r.stdout + r.stderr).strip().splitlines()[-5:]
        raise TrixieUnavailable(f"{what} failed ({r.returncode}): " + " | ".join(tail))


def _build(target: Path) -> None:
    """debootstrap into a temporary sibling, install the packages, write the marker, then
    rename into place."""
    if not shutil.which("debootstrap"):
        raise TrixieUnavailable("debootstrap (apt-get install debootstrap)")
    work = target.with_name(target.name + ".building")
    _remove(work)
    try:
        _run(
            ["debootstrap", "--variant=minbase", SUITE, str(work), mirror()],
            "debootstrap",
            timeout=900,
        )
        # The packages' maintainer scripts must not start their services (tests start
        # their own): policy-rc.d exit 101 means "not allowed" to invoke-rc.d.
        policy = work / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        chroot = ["chroot", str(work)]
        _run([*chroot, "apt-get", "update", "-qq"], "apt-get update in the root", timeout=300)
        _run(
            [*chroot, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *PACKAGES],
            "apt-get install in the root",
            timeout=900,
        )
        _run([*chroot, "apt-get", "clean"], "apt-get clean in the root", timeout=60)
        (work / MARKER).write_text(json.dumps(_spec()) + "\n")
        if not is_complete(work):
            raise TrixieUnavailable("the freshly built root's pgbouncer does not run")
        _remove(target)
        work.rename(target)
    except BaseException:
        with contextlib.suppress(Exception):
            _remove(work)
        raise


_checked: Path | None = None


def root() -> Path:
    """The trixie root, built first if missing or broken. Raises TrixieUnavailable when it
    cannot be had (not root, no debootstrap, no mirror)."""
    global _checked
    target = root_path()
    if _checked == target:
        return target
    if os.geteuid() != 0:
        raise TrixieUnavailable("a Debian 13 root for PgBouncer 1.24 (needs root for chroot)")
    if not is_complete(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.with_name(target.name + ".lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be building it now
            if not is_complete(target):
                _build(target)
    _checked = target
    return target


if __name__ == "__main__":  # python -m tests.support.trixie: build it now
    print(root())
