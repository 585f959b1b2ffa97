"""Read a catalog TOML file, through a JSON cache.

Python's TOML parser is pure Python: parsing the catalogs costs about 25 ms on every run,
more than the rest of `advisor lint`. The parsed data is cached as JSON (parsed in C) in
the user's cache directory, keyed by the file's size and mtime, so the TOML file stays
the only copy that anyone edits.

A cache entry is `[crc32, data]`, the CRC taken over the bytes of `data` as written. An
entry that is not exactly that (truncated, edited, another program's file, a FIFO) is
ignored and written again: the cache can make a run faster, never make it fail.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from binascii import crc32
from pathlib import Path
from typing import Any

from .. import __version__

MAX_CACHE_BYTES = 16 * 1024 * 1024


def _cache_dir() -> Path | None:
    env = os.environ.get("XDG_CACHE_HOME")
    if env and os.path.isabs(env):
        base = Path(env)
    else:  # the XDG rule: a relative path is ignored
        try:
            base = Path.home() / ".cache"
        except RuntimeError:  # no home directory: no cache
            return None
    return base / "pooling-advisor"


def _read_cache(path: Path) -> dict[str, Any] | None:
    """The cached data, or None for anything but an intact entry."""
    try:  # O_NONBLOCK: a FIFO in its place must not block the run
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_CACHE_BYTES:
            return None
        raw = os.read(fd, info.st_size + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    head, comma, rest = raw.partition(b",")
    if not (head.startswith(b"[") and comma and rest.endswith(b"]")):
        return None
    body = rest[:-1]
    if head[1:] != str(crc32(body)).encode():
        return None
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _write_cache(path: Path, data: dict[str, Any]) -> None:
    body = json.dumps(data).encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"[%d,%s]" % (crc32(body), body))
            os.replace(tmp, path)  # atomic: concurrent runs never read half a file
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass  # a read-only or full home: parse the TOML every time


def load_toml(path: Path) -> dict[str, Any]:
    stat_ = path.stat()
    folder = _cache_dir()
    cached = (
        # The folder is part of the key: another copy of the package has its own files.
        folder / f"{path.stem}-{crc32(str(path.resolve()).encode()):08x}-{stat_.st_size}-"
        f"{stat_.st_mtime_ns}-{__version__}.json"
        if folder is not None and os.environ.get("ADVISOR_NO_CACHE") != "1"
        else None
    )
    if cached is not None:
        data = _read_cache(cached)
        if data is not None:
            return data
    import tomllib  # only on a cache miss: the module alone costs a few ms

    with path.open("rb") as fh:
        toml: dict[str, Any] = tomllib.load(fh)
    if cached is not None:
        try:
            _write_cache(cached, toml)
        except (TypeError, ValueError):
            pass  # a value JSON cannot hold (a TOML date): parse the TOML every time
    return toml
