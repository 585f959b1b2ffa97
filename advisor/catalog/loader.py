"""Read a catalog TOML file, through a JSON cache.

Python's TOML parser is pure Python: parsing the catalogs costs about 25 ms on every run,
more than the rest of `advisor lint`. The parsed data is cached as JSON (parsed in C) in
the user's cache directory, keyed by the file's size and mtime, so the TOML file stays
the only copy that anyone edits.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from .. import __version__


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pooling-advisor"


def load_toml(path: Path) -> dict:
    stat = path.stat()
    cached = _cache_dir() / f"{path.stem}-{stat.st_size}-{stat.st_mtime_ns}-{__version__}.json"
    if os.environ.get("ADVISOR_NO_CACHE") != "1":
        try:
            return json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass
    import tomllib  # only on a cache miss: the module alone costs a few ms

    with path.open("rb") as fh:
        data = tomllib.load(fh)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cached.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, cached)  # atomic: concurrent runs never read half a file
    except (OSError, TypeError, ValueError):
        pass  # a read-only home or a value JSON cannot hold: parse the TOML every time
    return data
