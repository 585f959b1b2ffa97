"""What measuring session features adds to `advisor probe`: time, connections, statements.

`advisor probe` measures which session features work through the endpoint unless given
`--no-session-features` (advisor/facts/session.py: one pipeline on the probe's own
connection). Here the same probe runs both ways, as users run it (a separate process), in
interleaved rounds against PostgreSQL directly, PgBouncer 1.18 in transaction mode and,
when the Debian 13 root of tests/support/trixie.py can be had, PgBouncer 1.24 with
max_prepared_statements = 200 (it keeps protocol prepared statements, so the measurement
finds the other answer). Every endpoint is warmed by one run of each kind first, so that
PgBouncer's pool is open before the first measured round.

Per run: the whole command's wall time, the probe's own clock (facts.probe.total_ms), the
client connections it opened (facts.probe.connections_opened), and from the logs the clients
PgBouncer saw, the connections PostgreSQL received (log_connections) and the statements it
ran (log_statement = all, for the app role only: one line per simple-protocol query and per
extended-protocol Execute; Parse, Bind and Close are not logged).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support import servers, trixie

PW = servers.PASSWORD
OFF = "--no-session-features"
ARMS = ("with", "without")  # the default probe, and the same with OFF
COUNTS = ("client_connections", "pooler_logins", "server_connections", "statements")
NEWER_SETTINGS = {"max_prepared_statements": 200}


def _env() -> dict:
    # The probe also reads DATABASE_URL and DIRECT_URL: a stray one would add connections.
    return {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DIRECT_URL", "PGPASSWORD")
    }


def tcp_connections(text: str) -> int:
    return len(re.findall(r"connection received: host=127\.0\.0\.1", text))


# One line per statement the server ran: "... [pid] app LOG:  statement: ..." for a simple
# query (however many statements its text holds), "... LOG:  execute NAME: ..." for an
# extended-protocol Execute. Continuation lines of a long statement start with a tab.
STATEMENT = re.compile(
    r"^\d{4}-\d\d-\d\d [\d:.]+ \S+ \[\d+\] .*?LOG:  (?:statement|execute [^:\n]*): ", re.M
)


def statements(text: str) -> int:
    return len(STATEMENT.findall(text))


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _since(path: Path, offset: int) -> str:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read().decode(errors="replace")


def probe_once(advisor: list[str], endpoint: dict, features: bool) -> dict:
    """One `advisor probe URL --format json` (with OFF when not `features`), measured."""
    pg, bouncer = endpoint["pg"], endpoint["bouncer"]
    argv = [*advisor, "probe", endpoint["url"], "--format", "json", *([] if features else [OFF])]
    pg_offset = pg.log_size()
    pb_offset = _size(bouncer.log) if bouncer else 0
    t0 = time.perf_counter()
    r = subprocess.run(
        argv, capture_output=True, text=True, env=_env(), timeout=120, cwd=tempfile.gettempdir()
    )
    wall = (time.perf_counter() - t0) * 1000
    if r.returncode not in (0, 1):
        raise RuntimeError(
            f"advisor probe ({endpoint['label']}) exited {r.returncode}: "
            f"{(r.stdout + r.stderr).replace(PW, '***')[-2000:]}"
        )
    facts = json.loads(r.stdout)["facts"]
    if ("session_features" in facts) != features:
        raise RuntimeError(
            f"advisor probe ({endpoint['label']}){'' if features else ' ' + OFF}: "
            f"facts.session_features {'missing' if features else 'present'}"
        )
    # The backends write their log lines before they answer, PgBouncer its login line
    # before the login completes: both are in the files once the command has exited.
    pg_log = pg.log_since(pg_offset)
    out = {
        "wall_ms": wall,
        "probe_ms": facts["probe"]["total_ms"],
        "client_connections": facts["probe"]["connections_opened"],
        "server_connections": tcp_connections(pg_log),
        "statements": statements(pg_log),
        "features": {k: v["works"] for k, v in facts.get("session_features", {}).items()},
    }
    if bouncer:
        # Every client connection PgBouncer saw, logged in or not (the raw startup probe
        # never logs "login attempt"), by source port; less the pooler-naming login to
        # PgBouncer's own console database, which the report does not count either (no
        # server connection stands behind it).
        log_text = _since(bouncer.log, pb_offset)
        ports = set(re.findall(r"C-0x[0-9a-f]+: \S+@127\.0\.0\.1:(\d+) ", log_text))
        console = set(re.findall(r"C-0x[0-9a-f]+: pgbouncer/\S+@127\.0\.0\.1:(\d+) ", log_text))
        out["pooler_logins"] = len(ports - console)
    return out


def _stats(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "runs": len(values),
    }


def _counts(values: list[int]) -> dict:
    # median_low: a count that some run really had.
    return {"median": statistics.median_low(values), "min": min(values), "max": max(values)}


def summarize(runs: dict) -> dict:
    """runs: {"with": [probe_once...], "without": [...]}, in round order."""
    out: dict = {}
    for arm in ARMS:
        rows = runs[arm]
        out[arm] = {
            "wall_ms": _stats([r["wall_ms"] for r in rows]),
            "probe_ms": _stats([r["probe_ms"] for r in rows]),
            **{k: _counts([r[k] for r in rows]) for k in COUNTS if k in rows[0]},
        }
    w, wo = out["with"], out["without"]
    out["added"] = {
        k: round(w[k]["median"] - wo[k]["median"], 1)
        for k in ("wall_ms", "probe_ms", *COUNTS)
        if k in w
    }
    out["ratio"] = round(w["wall_ms"]["median"] / wo["wall_ms"]["median"], 2)
    ratios = [
        a["wall_ms"] / b["wall_ms"] for a, b in zip(runs["with"], runs["without"], strict=True)
    ]
    out["rounds"] = {
        "rounds": len(ratios),
        "median_ratio": round(statistics.median(ratios), 2),
        "min_ratio": round(min(ratios), 2),
        "max_ratio": round(max(ratios), 2),
        "slower_rounds": sum(1 for x in ratios if x > 1),
    }
    out["measured"] = runs["with"][0]["features"]
    return out


def _newer_root(log) -> tuple[Path | None, str | None]:
    """The Debian 13 root (built on first use, about a minute), or why there is none."""
    try:
        return trixie.root(), None
    except trixie.TrixieUnavailable as exc:
        log(f"session features: no PgBouncer 1.24 ({exc})")
        return None, str(exc)


def bench_session(advisor: list[str], rounds: int, log=print, newer: bool = True) -> dict:
    """`advisor` is the command to time (argv prefix); `newer`: also PgBouncer 1.24 from
    the Debian 13 root when it can be had."""
    started = time.monotonic()
    stop = []
    try:
        pg = servers.PostgresServer("bench-session", max_connections=100).start()
        stop.append(pg)
        # Only the app role's sessions log their statements, and only from now on: the
        # bench's own psql runs as postgres, and the role's password was set before.
        pg.psql("ALTER ROLE app SET log_statement = 'all'")
        version = pg.psql("SHOW server_version").split()[0]
        endpoints = {
            "postgresql": {
                "label": f"PostgreSQL {version}, direct",
                "setup": "max_connections 100",
                "pg": pg,
                "bouncer": None,
                "url": pg.url(),
            }
        }
        bouncers = [("pgbouncer_1_18", None, {})]
        skipped = {}
        if newer:
            root, why = _newer_root(log)
            if root is None:
                skipped["pgbouncer_1_24"] = why
            else:
                bouncers.append(("pgbouncer_1_24", root, NEWER_SETTINGS))
        for name, root, settings in bouncers:
            bouncer = servers.PgBouncer(
                pg, pool_mode="transaction", settings=settings, name=f"{name}-session", root=root
            ).start()
            stop.append(bouncer)
            endpoints[name] = {
                "label": f"PgBouncer {bouncer.version()}, transaction mode",
                "setup": f"default_pool_size {bouncer.default_pool_size}"
                + "".join(f", {k} {v}" for k, v in settings.items()),
                "pg": pg,
                "bouncer": bouncer,
                "url": bouncer.url(),
            }
        for endpoint in endpoints.values():  # warm-up, not counted
            for features in (True, False):
                probe_once(advisor, endpoint, features)
        runs = {name: {arm: [] for arm in ARMS} for name in endpoints}
        for i in range(rounds):
            for name, endpoint in endpoints.items():
                # Which kind goes first alternates, so neither always follows the other.
                for features in (True, False) if i % 2 == 0 else (False, True):
                    arm = "with" if features else "without"
                    runs[name][arm].append(probe_once(advisor, endpoint, features))
            log(
                f"session features round {i + 1}: "
                + ", ".join(
                    f"{name} {runs[name]['with'][-1]['wall_ms']:.0f}/"
                    f"{runs[name]['without'][-1]['wall_ms']:.0f} ms"
                    for name in endpoints
                )
            )
        return {
            "method": "advisor probe URL --format json, with and without "
            f"{OFF}, in turn ({rounds} rounds, after one warm-up run of each per endpoint)",
            "commands": {
                "with": "advisor probe URL --format json",
                "without": f"advisor probe URL --format json {OFF}",
            },
            "rounds": rounds,
            "endpoints": {
                name: {
                    "label": endpoint["label"],
                    "setup": endpoint["setup"],
                    **summarize(runs[name]),
                }
                for name, endpoint in endpoints.items()
            },
            "skipped": skipped,
            "seconds": round(time.monotonic() - started, 1),
        }
    finally:
        for server in reversed(stop):
            server.stop()
