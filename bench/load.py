"""Under load: `advisor burst` next to `pgbench -C`, and 2,000 clients held by one process.

Connection rate: the same number of new connections, each running SELECT 1, made by
`advisor burst --hold-ms 0` (all at once, one asyncio loop) and by `pgbench -C` (a new
connection per transaction, one thread per client), in interleaved rounds on the same
server. Both tools time themselves from their first connection to their last
disconnection; pgbench's figure is its own "tps (including reconnection times)".

Held clients: `advisor burst --clients 2000 --via-pooler`, directly on a server with
max_connections = 100 and through PgBouncer (max_client_conn 2,100), with a hold long
enough for every pooled client to be connected at once. The advisor process is watched
from outside (/proc: open files, its open-files limit, resident memory; wait4: peak RSS)
and PgBouncer's SHOW POOLS counts its logged-in clients.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from bench.soak import psql_rows
from tests.support import servers

PW = servers.PASSWORD
RATE_CLIENTS = 500  # connections per round, for each tool
PGBENCH_CLIENTS = (4, 16)  # pgbench -c N -j N: its fastest settings here (1 to 32 tried)
HELD_CLIENTS = 2000
HELD_HOLD_MS = 15000  # longer than the slowest pooled connect: all held at once
HELD_TIMEOUT = 30
HELD_POOL_SIZE = 20
SOFT_NOFILE = 1024  # the usual default soft limit: the advisor must raise its own


def pgbench_binary() -> str:
    path = servers.pg_bindir() / "pgbench"
    if path.exists():
        return str(path)
    return servers.which("pgbench", "apt-get install postgresql (it ships pgbench)")


# -- one command, watched from outside ---------------------------------------------


def watched(
    argv: list[str], soft_nofile: int | None = None, env: dict | None = None, during=None
) -> dict:
    """Run `argv`; sample its open files, open-files limit and resident memory every 20 ms;
    peak RSS and CPU time from wait4. `during()` runs in the sampler too (PgBouncer's
    SHOW POOLS), every 250 ms."""

    def limit():
        if soft_nofile is not None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft_nofile, hard), hard))

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=limit,
        env={**os.environ, **(env or {})},
        cwd=tempfile.gettempdir(),
    )
    peak = {"open_files": 0, "nofile_soft": None, "rss_kb": 0}
    stop = threading.Event()

    def sample():
        last_extra = 0.0
        while not stop.is_set():
            try:
                peak["open_files"] = max(
                    peak["open_files"], len(os.listdir(f"/proc/{proc.pid}/fd"))
                )
                with open(f"/proc/{proc.pid}/limits") as fh:
                    soft = next(ln for ln in fh if ln.startswith("Max open files")).split()[3]
                peak["nofile_soft"] = max(peak["nofile_soft"] or 0, int(soft))
                with open(f"/proc/{proc.pid}/status") as fh:
                    rss = next(ln for ln in fh if ln.startswith("VmRSS")).split()[1]
                peak["rss_kb"] = max(peak["rss_kb"], int(rss))
            except (OSError, StopIteration, ValueError):
                pass
            if during is not None and time.monotonic() - last_extra > 0.25:
                last_extra = time.monotonic()
                during()
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    errors: list[str] = []
    reader = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    reader.start()
    out = proc.stdout.read()
    reader.join()
    # wait4, not Popen.wait: the rusage of this one child (peak RSS, CPU time).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    proc.stdout.close()
    proc.stderr.close()
    return {
        "returncode": proc.returncode,
        "stdout": out,
        "stderr": errors[0].replace(PW, "***"),
        "wall_s": wall,
        "maxrss_kb": usage.ru_maxrss,
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        **peak,
    }


def advisor_burst(
    advisor: list[str],
    url: str,
    clients: int,
    hold_ms: int,
    timeout: float,
    pooler: str | None = None,
    **kw,
) -> dict:
    argv = advisor + [
        "burst",
        url,
        "--clients",
        str(clients),
        "--hold-ms",
        str(hold_ms),
        "--timeout",
        str(timeout),
        "--yes",
        "--format",
        "json",
    ]
    if pooler:
        argv += ["--via-pooler", pooler]
    r = watched(argv, **kw)
    if r["returncode"] not in (0, 1):
        raise RuntimeError(f"advisor burst exited {r['returncode']}: {r['stderr'][-2000:]}")
    return {**r, "result": json.loads(r["stdout"])}


def wait_idle(pg, most: int = 0, seconds: float = 10.0) -> None:
    """Until the server has at most `most` client backends left besides this check's (a
    pooler's server connections stay; backends exit asynchronously after their clients)."""
    deadline = time.monotonic() + seconds
    while (
        time.monotonic() < deadline
        and int(
            pg.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' "
                "AND pid <> pg_backend_pid()"
            )
        )
        > most
    ):
        time.sleep(0.05)


# -- connection rate: burst vs pgbench -C -------------------------------------------------


def pgbench_once(pg, script: Path, clients: int, transactions: int) -> dict:
    argv = [
        pgbench_binary(),
        "-n",
        "-C",
        "-f",
        str(script),
        "-c",
        str(clients),
        "-j",
        str(clients),
        "-t",
        str(transactions),
        "-h",
        "127.0.0.1",
        "-p",
        str(pg.port),
        "-U",
        "app",
        "app",
    ]
    t0 = time.perf_counter()
    r = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PGPASSWORD": PW})
    wall = time.perf_counter() - t0
    tps = re.search(r"tps = ([\d.]+) \(including reconnection times\)", r.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", r.stdout)
    if r.returncode != 0 or not tps:
        raise RuntimeError(f"pgbench exited {r.returncode}: {(r.stdout + r.stderr)[-1500:]}")
    done = clients * transactions
    return {
        "rate": float(tps.group(1)),
        "process_rate": done / wall,
        "connections": done,
        "failed": int(failed.group(1)) if failed else 0,
    }


def burst_once(advisor: list[str], pg) -> dict:
    r = advisor_burst(advisor, pg.url(), RATE_CLIENTS, 0, 30)
    leg = r["result"]["legs"][0]
    return {
        "rate": leg["succeeded"] / (leg["wall_ms"] / 1000),
        "process_rate": leg["succeeded"] / r["wall_s"],
        "connections": leg["succeeded"],
        "failed": leg["failed"],
    }


def _summary(values: list[float]) -> dict:
    return {
        "median": round(statistics.median(values), 1),
        "min": round(min(values), 1),
        "max": round(max(values), 1),
        "runs": len(values),
    }


def bench_rate(advisor: list[str], rounds: int, log=print) -> dict:
    pg = servers.PostgresServer(
        "bench-rate", max_connections=RATE_CLIENTS + 20, superuser_reserved=3
    ).start()
    try:
        script = Path(pg.dir) / "select1.sql"
        script.write_text("SELECT 1;\n")
        names = [f"pgbench_c{c}" for c in PGBENCH_CLIENTS] + ["advisor_burst"]
        samples = {n: [] for n in names}
        for i in range(rounds):
            for c in PGBENCH_CLIENTS:
                wait_idle(pg)
                samples[f"pgbench_c{c}"].append(pgbench_once(pg, script, c, RATE_CLIENTS // c))
            wait_idle(pg)
            samples["advisor_burst"].append(burst_once(advisor, pg))
            log(
                f"rate round {i + 1}: "
                + ", ".join(f"{n} {samples[n][-1]['rate']:.0f}/s" for n in names)
            )
        out = {
            n: {
                **_summary([s["rate"] for s in samples[n]]),
                "process": _summary([s["process_rate"] for s in samples[n]]),
                "connections": samples[n][0]["connections"],
                "failed": sum(s["failed"] for s in samples[n]),
                "samples": [round(s["rate"], 1) for s in samples[n]],
            }
            for n in names
        }
        best = max((f"pgbench_c{c}" for c in PGBENCH_CLIENTS), key=lambda n: out[n]["median"])
        # Round by round: the burst against that round's fastest pgbench.
        per_round = [
            samples["advisor_burst"][i]["rate"]
            / max(samples[f"pgbench_c{c}"][i]["rate"] for c in PGBENCH_CLIENTS)
            for i in range(rounds)
        ]
        out.update(
            best_pgbench=best,
            ratio=round(out["advisor_burst"]["median"] / out[best]["median"], 2),
            process_ratio=round(
                out["advisor_burst"]["process"]["median"] / out[best]["process"]["median"], 2
            ),
            rounds={
                "rounds": rounds,
                "median_ratio": round(statistics.median(per_round), 2),
                "min_ratio": round(min(per_round), 2),
                "max_ratio": round(max(per_round), 2),
            },
            commands={
                "advisor_burst": f"advisor burst URL --clients {RATE_CLIENTS} --hold-ms 0 "
                "--timeout 30 --yes --format json",
                "pgbench": f"pgbench -n -C -f select1.sql -c N -j N -t {RATE_CLIENTS}/N "
                "-h 127.0.0.1 -p PORT -U app app (N = "
                + ", ".join(map(str, PGBENCH_CLIENTS))
                + ")",
            },
            setup=f"PostgreSQL max_connections={RATE_CLIENTS + 20}, scram-sha-256 over TCP "
            "on loopback; SELECT 1 is the whole transaction",
        )
        return out
    finally:
        pg.stop()


# -- 2,000 clients held by one process --------------------------------------------------


@contextmanager
def open_files_for_pgbouncer(files: int):
    """PgBouncer with a soft open-files limit of `files`. tests/support/servers.py starts it
    through runuser, whose PAM session resets the limits to the system's defaults (a soft 1,024 on
    this machine) whatever this process has; a small wrapper raises its own soft limit
    (within the hard one, which needs no privilege) and execs pgbouncer."""
    real = servers.which("pgbouncer", "apt-get install pgbouncer")
    folder = Path(tempfile.mkdtemp(prefix="advisor-pgbouncer-nofile-"))
    folder.chmod(0o755)
    wrapper = folder / "pgbouncer"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"hard=$(ulimit -Hn); want={files}\n"
        '[ "$hard" != unlimited ] && [ "$hard" -lt "$want" ] && want=$hard\n'
        f'ulimit -Sn "$want"\nexec {real} "$@"\n'
    )
    wrapper.chmod(0o755)
    original = servers.which
    servers.which = lambda name, hint: str(wrapper) if name == "pgbouncer" else original(name, hint)
    try:
        yield
    finally:
        servers.which = original
        shutil.rmtree(folder, ignore_errors=True)


def _pgbouncer_fd_line(bouncer) -> str:
    m = re.search(
        r"kernel file descriptor limit: \d+ \(hard: \d+\); max_client_conn: \d+, "
        r"max expected fd use: \d+",
        bouncer.log_text(),
    )
    return m.group(0) if m else "unknown"


def bench_held(advisor: list[str], log=print) -> dict:
    pg = servers.PostgresServer("bench-held", max_connections=100, superuser_reserved=3).start()
    with open_files_for_pgbouncer(4 * HELD_CLIENTS):
        bouncer = servers.PgBouncer(
            pg,
            pool_mode="transaction",
            default_pool_size=HELD_POOL_SIZE,
            settings={"max_client_conn": HELD_CLIENTS + 100},
            name="pgbouncer-held",
        ).start()
    try:
        logged_in = {"peak": 0}

        def pools():
            try:
                rows = psql_rows(bouncer.port, "pgb_admin", "pgbouncer", "SHOW POOLS")
            except (RuntimeError, subprocess.SubprocessError):
                return
            n = sum(
                int(r["cl_active"]) + int(r["cl_waiting"]) for r in rows if r["database"] == "app"
            )
            logged_in["peak"] = max(logged_in["peak"], n)

        log("held: baseline, 1 client on each leg")
        base = advisor_burst(
            advisor, pg.url(), 1, 0, HELD_TIMEOUT, bouncer.url(), soft_nofile=SOFT_NOFILE
        )
        wait_idle(pg, most=len(psql_rows(bouncer.port, "pgb_admin", "pgbouncer", "SHOW SERVERS")))
        log(f"held: {HELD_CLIENTS} clients, direct and through PgBouncer")
        run = advisor_burst(
            advisor,
            pg.url(),
            HELD_CLIENTS,
            HELD_HOLD_MS,
            HELD_TIMEOUT,
            bouncer.url(),
            soft_nofile=SOFT_NOFILE,
            during=pools,
        )
        legs = run["result"]["legs"]
        pooled = legs[1]
        spread = (
            pooled["connect_ms"]["max"] - pooled["connect_ms"]["min"]
            if pooled["succeeded"]
            else None
        )
        log(f"held: pgbench holding {HELD_CLIENTS} clients through the same PgBouncer")
        floor = pgbench_held(bouncer)
        peak_kb = max(run["maxrss_kb"], run["rss_kb"])
        base_kb = max(base["maxrss_kb"], base["rss_kb"])
        return {
            "command": f"advisor burst DIRECT_URL --clients {HELD_CLIENTS} --hold-ms {HELD_HOLD_MS} "
            f"--timeout {HELD_TIMEOUT} --yes --via-pooler PGBOUNCER_URL --format json",
            "setup": f"PostgreSQL max_connections=100, superuser_reserved_connections=3; "
            f"PgBouncer transaction mode, default_pool_size={HELD_POOL_SIZE}, "
            f"max_client_conn={HELD_CLIENTS + 100}",
            "clients": HELD_CLIENTS,
            "hold_ms": HELD_HOLD_MS,
            "legs": [
                {
                    k: leg[k]
                    for k in (
                        "name",
                        "clients",
                        "succeeded",
                        "failed",
                        "errors",
                        "connect_ms",
                        "wall_ms",
                    )
                }
                for leg in legs
            ],
            "pooled_connect_spread_ms": round(spread, 1) if spread is not None else None,
            "all_pooled_held_at_once": spread is not None and spread < HELD_HOLD_MS,
            "pgbouncer_peak_logged_in_clients": logged_in["peak"],
            "pgbouncer_fd_limit": _pgbouncer_fd_line(bouncer),
            "process": {
                "wall_s": round(run["wall_s"], 1),
                "cpu_s": run["cpu_s"],
                "peak_rss_kb": peak_kb,
                "baseline_peak_rss_kb": base_kb,
                "memory_per_client_kb": round((peak_kb - base_kb) / HELD_CLIENTS, 1),
                "peak_open_files": run["open_files"],
                "baseline_open_files": base["open_files"],
                "nofile_soft_at_start": SOFT_NOFILE,
                "nofile_soft_seen": run["nofile_soft"],
                "nofile_hard": resource.getrlimit(resource.RLIMIT_NOFILE)[1],
            },
            "pgbench": floor,
        }
    finally:
        bouncer.stop()
        pg.stop()


def pgbench_held(bouncer) -> dict:
    """The C client's floor: pgbench holding as many clients through the same PgBouncer
    (each runs SELECT 1 and sleeps as long as the advisor's hold), peak RSS minus that of
    one client. pgbench does not raise its own open-files limit: at 1,024 it refuses to
    start, so it gets 4,096."""
    script = Path(bouncer.dir) / "hold.sql"
    script.write_text(f"SELECT 1;\n\\sleep {HELD_HOLD_MS} ms\n")
    os.chmod(script, 0o644)

    def run(clients: int, soft: int) -> dict:
        argv = [
            pgbench_binary(),
            "-n",
            "-c",
            str(clients),
            "-j",
            "2" if clients > 1 else "1",
            "-t",
            "1",
            "-f",
            str(script),
            "-h",
            "127.0.0.1",
            "-p",
            str(bouncer.port),
            "-U",
            "app",
            "app",
        ]
        return watched(argv, soft_nofile=soft, env={"PGPASSWORD": PW})

    refused = run(HELD_CLIENTS, SOFT_NOFILE)
    held = run(HELD_CLIENTS, 4096)
    script.write_text("SELECT 1;\n")  # the baseline needs no hold
    base = run(1, 4096)
    done = re.search(r"number of transactions actually processed: (\d+)/", held["stdout"])
    failed = re.search(r"number of failed transactions: (\d+)", held["stdout"])
    peak, floor = max(held["maxrss_kb"], held["rss_kb"]), max(base["maxrss_kb"], base["rss_kb"])
    return {
        "command": f"pgbench -n -c {HELD_CLIENTS} -j 2 -t 1 -f hold.sql (SELECT 1; "
        f"\\sleep {HELD_HOLD_MS} ms) via PgBouncer",
        "at_soft_1024": {
            "returncode": refused["returncode"],
            "message": (refused["stderr"].strip().splitlines() or [""])[0][:200],
        },
        "returncode": held["returncode"],
        "succeeded": int(done.group(1)) if done else 0,
        "failed": int(failed.group(1)) if failed else None,
        "peak_rss_kb": peak,
        "baseline_peak_rss_kb": floor,
        "memory_per_client_kb": round((peak - floor) / HELD_CLIENTS, 1),
        "peak_open_files": held["open_files"],
        "wall_s": round(held["wall_s"], 1),
    }


def bench_load(advisor: list[str], rounds: int, log=print) -> dict:
    log(f"connection rate: advisor burst vs pgbench -C, {rounds} rounds")
    rate = bench_rate(advisor, rounds, log)
    log(f"{HELD_CLIENTS} clients held by one advisor process")
    return {"rate": rate, "held": bench_held(advisor, log)}
