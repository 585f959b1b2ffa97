"""`make bench`: measure the advisor next to the tools people already use, in one run.

Run as `python -m bench.run` from the checkout's root (it imports `bench` and
`tests.support` as packages). Starts its own throwaway servers (tests/support/servers.py,
tests/support/servers_mysql.py), times every command several times (median, min, max),
counts server connections from the logs, puts `advisor burst` next to `pgbench -C` and
holds 2,000 clients (bench/load.py), soaks every server kind with 1,000 probes
(bench/soak.py), times the probe with and without its session-feature measurement
(bench/session.py), and writes bench/results.json, docs/contributors/performance.md and docs/contributors/burst.md.
`--only load,soak` measures some parts again.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import load, pages, session, soak
from tests.support import servers, servers_mysql

ROOT = Path(__file__).resolve().parent.parent

DEV_PY = sys.executable  # the development venv (.venv): mkdocs, the servers' helpers
BIN = Path(DEV_PY).parent
DEV_ADVISOR = [str(BIN / "advisor")] if (BIN / "advisor").exists() else [DEV_PY, "-m", "advisor"]
# Set by install_advisor(): the advisor as users install it (`pip install .`, byte-compiled).
PY, ADVISOR = DEV_PY, DEV_ADVISOR
PW = servers.PASSWORD
# Commands run from here, not from the checkout: `python -m advisor` and `python -c` put the
# working directory first on sys.path, which would import the checkout instead of the install.
NEUTRAL = tempfile.gettempdir()
RUNS = int(os.environ.get("BENCH_RUNS", "15"))  # fast commands
SLOW_RUNS = 5  # mysqltuner, fleet, site builds, burst


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def stats(samples: list[float]) -> dict:
    return {
        "median": round(statistics.median(samples), 1),
        "min": round(min(samples), 1),
        "max": round(max(samples), 1),
        "runs": len(samples),
    }


def shown(argv: list[str]) -> str:
    text = " ".join(str(a) for a in argv).replace(PW, "***")
    if PY != DEV_PY:
        text = text.replace(str(Path(PY).parent) + "/", "")
    return text.replace(str(BIN) + "/", "").replace(str(ROOT) + "/", "")


# -- the advisor as users install it ---------------------------------------------

DRIVERS = ("psycopg", "psycopg-binary", "pymysql", "python-dotenv")


def install_advisor(directory: Path) -> dict:
    """A fresh venv with `pip install .`: what users run. The development venv's editable
    install adds an import hook to every start-up, and with PYTHONDONTWRITEBYTECODE set the
    checkout's modules are compiled from source on every run: neither is what users pay.
    The drivers are pinned to the development venv's versions, so both measure the same."""
    global PY, ADVISOR
    pins = subprocess.run(
        [DEV_PY, "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    wanted = {
        d["name"].lower(): d["version"] for d in json.loads(pins) if d["name"].lower() in DRIVERS
    }
    constraints = directory / "constraints.txt"
    constraints.write_text("".join(f"{name}=={v}\n" for name, v in sorted(wanted.items())))
    # A copy of the checkout: setuptools writes build/ and *.egg-info next to the sources.
    source = directory / "src"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "site", "build", "*.egg-info", "test-artifacts", "__pycache__"
        ),
    )
    venv = directory / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    r = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "-c", str(constraints), str(source)],
        capture_output=True,
        text=True,
        cwd=directory,
    )
    if r.returncode != 0:
        raise RuntimeError(f"pip install . failed:\n{r.stderr[-2000:]}")
    PY, ADVISOR = str(venv / "bin" / "python"), [str(venv / "bin" / "advisor")]
    return {
        "how": "pip install . into a fresh venv (byte-compiled, not editable)",
        "drivers": wanted,
    }


def run_once(argv: list[str], env: dict | None = None, ok=(0,), expect: str | None = None) -> float:
    """Wall time of a whole process (start-up included), in ms."""
    t0 = time.perf_counter()
    r = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
        cwd=NEUTRAL,
    )
    elapsed = (time.perf_counter() - t0) * 1000
    if r.returncode not in ok or (expect and expect not in r.stdout + r.stderr):
        raise RuntimeError(
            f"{shown(argv)} exited {r.returncode}:\n"
            f"{(r.stdout + r.stderr).replace(PW, '***')[-2000:]}"
        )
    return elapsed


def interleaved(specs: dict, runs: dict, keep: tuple = ()) -> dict:
    """Round-robin over the commands, so a busy moment hits them all alike.
    specs: name -> dict(argv=..., env=..., ok=..., expect=...); runs: name -> count;
    keep: names whose every sample is kept (in round order) under "samples"."""
    samples = {name: [] for name in specs}
    for i in range(max(runs.values())):
        for name, spec in specs.items():
            if i < runs[name]:
                samples[name].append(run_once(**spec))
    return {
        name: {
            **stats(samples[name]),
            "command": shown(specs[name]["argv"]),
            **({"samples": [round(x, 1) for x in samples[name]]} if name in keep else {}),
        }
        for name in specs
    }


def per_round(out: dict, slower: str, faster: str) -> dict:
    """The two commands timed in the same rounds: each round's ratio, so that a claim does
    not rest on two medians alone."""
    pairs = list(zip(out[slower]["samples"], out[faster]["samples"], strict=False))
    ratios = [a / b for a, b in pairs]
    return {
        "rounds": len(pairs),
        "median_ratio": round(statistics.median(ratios), 2),
        "min_ratio": round(min(ratios), 2),
        "max_ratio": round(max(ratios), 2),
        "faster_rounds": sum(1 for a, b in pairs if b < a),
    }


def version(argv: list[str]) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def machine() -> dict:
    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in Path("/proc/cpuinfo").read_text().splitlines()
            if ln.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    osrel = dict(
        ln.split("=", 1) for ln in Path("/etc/os-release").read_text().splitlines() if "=" in ln
    )
    bindir = servers.pg_bindir()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "os": osrel.get("PRETTY_NAME", "").strip('"') + f" (kernel {platform.release()})",
        "python": platform.python_version(),
        "postgresql": version([str(bindir / "postgres"), "--version"]),
        "pgbouncer": version([servers.which("pgbouncer", ""), "--version"]),
        "mariadb": _mariadb_version(),
        "check_postgres": version(["check_postgres", "--version"]),
        "mysqltuner": _mysqltuner_version(),
    }


def _mariadb_version() -> str:
    text = version([servers_mysql._binary("mariadbd"), "--version"])
    m = re.search(r"Ver (\S+)", text)
    return f"MariaDB {m.group(1)}" if m else text


def _mysqltuner_version() -> str:
    if not shutil.which("mysqltuner"):
        return "mysqltuner missing"
    r = subprocess.run(["mysqltuner", "--help"], capture_output=True, text=True)
    m = re.search(r"MySQLTuner \S+", r.stdout + r.stderr)
    return m.group(0) if m else "MySQLTuner (unknown version)"


# -- PostgreSQL: the probe next to check_postgres and psql ---------------------


def pg_env(pg) -> dict:
    return {"PGPASSWORD": PW, "PGCONNECT_TIMEOUT": "10"}


def pg_commands(pg, port: int | None = None) -> dict:
    """The three commands against `pg`, or against `port` (a forward in front of it)."""
    port = port or pg.port
    host = ["-h", "127.0.0.1", "-p", str(port)]
    return {
        "advisor_probe": ADVISOR + ["probe", pg.url(port=port), "--format", "json"],
        "check_postgres_backends": [
            "check_postgres",
            "--action=backends",
            "-H",
            "127.0.0.1",
            "-p",
            str(port),
            "-u",
            "app",
            "-db",
            "app",
        ],
        "psql_select_1": ["psql", *host, "-U", "app", "-d", "app", "-XAtqc", "select 1"],
    }


GC_DEFAULT = "import sys; from advisor.cli import main; sys.exit(main(sys.argv[1:]))"


def pg_specs(pg, port: int | None = None) -> dict:
    """pg_commands as timing specs: the exit codes each may end with, what check_postgres prints."""
    cmds, env = pg_commands(pg, port), pg_env(pg)
    return {
        "advisor_probe": dict(argv=cmds["advisor_probe"], ok=(0, 1)),
        "check_postgres_backends": dict(
            argv=cmds["check_postgres_backends"], env=env, ok=(0, 1, 2), expect="POSTGRES_BACKENDS"
        ),
        "psql_select_1": dict(argv=cmds["psql_select_1"], env=env),
    }


def bench_postgres(pg, bouncer) -> dict:
    specs = {
        **pg_specs(pg),
        "advisor_probe_via_pgbouncer": dict(
            argv=ADVISOR + ["probe", bouncer.url(), "--format", "json"], ok=(0, 1)
        ),
        # The same probe without the entry point's collector tuning (cli.run): main() alone.
        "advisor_probe_gc_default": dict(
            argv=[PY, "-c", GC_DEFAULT, "probe", pg.url(), "--format", "json"], ok=(0, 1)
        ),
        # From the development checkout (.venv, editable install).
        "advisor_probe_dev_checkout": dict(
            argv=DEV_ADVISOR + ["probe", pg.url(), "--format", "json"], ok=(0, 1)
        ),
    }
    # The goal's two commands run twice as many rounds as the others.
    runs = dict.fromkeys(specs, RUNS)
    runs.update(advisor_probe=2 * RUNS, check_postgres_backends=2 * RUNS)
    out = interleaved(specs, runs, keep=("advisor_probe", "check_postgres_backends"))
    base = out["advisor_probe"]["median"]
    out["ratios"] = {
        "check_postgres_over_probe": round(out["check_postgres_backends"]["median"] / base, 2),
        "psql_over_probe": round(out["psql_select_1"]["median"] / base, 2),
    }
    out["rounds"] = per_round(out, "check_postgres_backends", "advisor_probe")
    return out


def tcp_connections(text: str) -> int:
    return len(re.findall(r"connection received: host=127\.0\.0\.1", text))


def count_connections(pg, argv: list[str], env: dict | None = None, ok=(0, 1)) -> int:
    offset = pg.log_size()
    r = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, **(env or {})})
    if r.returncode not in ok:
        raise RuntimeError(f"{shown(argv)} exited {r.returncode}")
    time.sleep(0.3)  # the log line is written by the backend; give it a moment
    return tcp_connections(pg.log_since(offset))


def connections_per_probe(pg, mariadb) -> dict:
    """From the server logs (log_connections): TCP connections each command opened."""
    cmds, env = pg_commands(pg), pg_env(pg)
    out = {
        name: [count_connections(pg, argv, env, ok=(0, 1, 2)) for _ in range(3)]
        for name, argv in cmds.items()
    }
    # Through a fresh PgBouncer: the first probe finds an empty pool, later ones a warm one.
    bouncer = servers.PgBouncer(pg, pool_mode="transaction", name="pgbouncer-count").start()
    try:
        rows = []
        for _ in range(3):
            pg_off, pb_size = (
                pg.log_size(),
                bouncer.log.stat().st_size if bouncer.log.exists() else 0,
            )
            r = subprocess.run(
                ADVISOR + ["probe", bouncer.url(), "--format", "json"],
                capture_output=True,
                text=True,
            )
            assert r.returncode in (0, 1), r.stderr.replace(PW, "***")
            time.sleep(0.3)
            pb_log = bouncer.log.read_bytes()[pb_size:].decode(errors="replace")
            rows.append(
                {
                    "client_logins": len(re.findall(r"login attempt: db=app user=app", pb_log)),
                    "server_connections_pg_log": tcp_connections(pg.log_since(pg_off)),
                    "server_connections_pgbouncer_log": len(
                        re.findall(r"new connection to server", pb_log)
                    ),
                }
            )
        out["advisor_probe_via_pgbouncer"] = rows
    finally:
        bouncer.stop()
    before = mariadb.status("Connections")
    r = subprocess.run(ADVISOR + ["probe", mariadb.url(), "--format", "json"], capture_output=True)
    assert r.returncode in (0, 1)
    # Each status read is a socket session of its own, counted in `Connections` too.
    out["advisor_probe_mariadb"] = [mariadb.status("Connections") - before - 1]
    if shutil.which("mysqltuner"):
        before = mariadb.status("Connections")
        subprocess.run(mysqltuner_argv(mariadb), capture_output=True)
        out["mysqltuner"] = [mariadb.status("Connections") - before - 1]
    return out


# -- MariaDB: the probe next to mysqltuner -------------------------------------


def mysqltuner_argv(mariadb, port: int | None = None) -> list[str]:
    """Credentials on the command line (non-interactive); no colour, no table sizes."""
    return [
        "mysqltuner",
        "--host",
        "127.0.0.1",
        "--port",
        str(port or mariadb.port),
        "--protocol",
        "tcp",
        "--user",
        "app",
        "--pass",
        PW,
        "--nocolor",
        "--skipsize",
        "--skippassword",
        "--forcemem",
        "24576",
        "--forceswap",
        "0",
        "--nodbstat",
        "--notbstat",
        "--noidxstat",
        "--nosysstat",
        "--nopfstat",
    ]


def mariadb_client_argv(mariadb) -> list[str]:
    """The floor: the C client connecting over TCP and running one query."""
    return [
        mariadb.client,
        "--no-defaults",
        "-h",
        "127.0.0.1",
        "-P",
        str(mariadb.port),
        "--protocol",
        "tcp",
        "-u",
        "app",
        f"-p{PW}",
        "app",
        "-Nse",
        "select 1",
    ]


TABLES = 1000


def add_tables(mariadb, count: int = TABLES) -> None:
    """An application schema of `count` InnoDB tables in the app's database."""
    ddl = "".join(
        f"CREATE TABLE app.t{i:04d} (id BIGINT PRIMARY KEY AUTO_INCREMENT, "
        f"name VARCHAR(100), created DATETIME, KEY (name), KEY (created));"
        for i in range(count)
    )
    mariadb.sql(ddl)


def bench_mariadb(mariadb) -> dict:
    specs = {
        "advisor_probe": dict(
            argv=ADVISOR + ["probe", mariadb.url(), "--format", "json"], ok=(0, 1)
        ),
        "mariadb_select_1": dict(argv=mariadb_client_argv(mariadb)),
    }
    runs = {"advisor_probe": RUNS, "mariadb_select_1": RUNS}
    if shutil.which("mysqltuner"):
        argv = mysqltuner_argv(mariadb)
        specs["mysqltuner"] = dict(argv=argv, ok=(0, 1))
        # Without the --no*stat options: database, table and index statistics too.
        specs["mysqltuner_defaults"] = dict(argv=argv[: argv.index("--nodbstat")], ok=(0, 1))
        runs.update(mysqltuner=SLOW_RUNS, mysqltuner_defaults=SLOW_RUNS)
    out = interleaved(specs, runs)
    if "mysqltuner" in out:
        out["ratios"] = {
            "mysqltuner_over_probe": round(
                out["mysqltuner"]["median"] / out["advisor_probe"]["median"], 1
            ),
            "mysqltuner_over_client": round(
                out["mysqltuner"]["median"] / out["mariadb_select_1"]["median"], 1
            ),
        }
        # The same server once the app's database holds an application schema: mysqltuner
        # reads every table's statistics (its default, without --skipsize), the probe nothing.
        add_tables(mariadb)
        argv = mysqltuner_argv(mariadb)
        specs = {
            "advisor_probe": specs["advisor_probe"],
            "mysqltuner_defaults": dict(
                argv=[a for a in argv[: argv.index("--nodbstat")] if a != "--skipsize"], ok=(0, 1)
            ),
        }
        big = interleaved(specs, {"advisor_probe": RUNS, "mysqltuner_defaults": SLOW_RUNS})
        big["tables"] = TABLES
        big["ratios"] = {
            "mysqltuner_over_probe": round(
                big["mysqltuner_defaults"]["median"] / big["advisor_probe"]["median"], 1
            )
        }
        out["with_tables"] = big
    return out


# -- start-up and imports --------------------------------------------------------


def imported(argv_tail: list[str]) -> dict:
    r = subprocess.run(
        [PY, "-X", "importtime", "-m", "advisor", *argv_tail],
        capture_output=True,
        text=True,
        cwd=NEUTRAL,
    )
    names = [
        ln.split("|")[-1].strip() for ln in r.stderr.splitlines() if ln.startswith("import time:")
    ]
    names = [n for n in names if n and n != "package"]
    heavy = sorted({n.split(".")[0] for n in names if n.split(".")[0] in ("psycopg", "pymysql")})
    return {
        "command": "advisor " + shown(argv_tail),
        "modules": len(names),
        "drivers_imported": heavy,
    }


def bench_startup(pg) -> dict:
    specs = {
        "advisor_version": dict(argv=ADVISOR + ["--version"]),
        "python_pass": dict(argv=[PY, "-c", "pass"]),
        "python_import_psycopg": dict(argv=[PY, "-c", "import psycopg"]),
        "python_import_pymysql": dict(argv=[PY, "-c", "import pymysql"]),
        "advisor_lint": dict(
            argv=ADVISOR + ["lint", "postgresql://u:p@db.example.com/app"], ok=(0, 1)
        ),
    }
    return {
        **interleaved(
            specs,
            {
                "advisor_version": 2 * RUNS,
                "python_pass": 2 * RUNS,
                "python_import_psycopg": RUNS,
                "python_import_pymysql": RUNS,
                "advisor_lint": RUNS,
            },
        ),
        "imports": [
            imported(["--version"]),
            imported(["--help"]),
            imported(["lint", "postgresql://u:p@db.example.com/app"]),
            imported(["probe", pg.url(), "--format", "json"]),
        ],
    }


# -- fleet -------------------------------------------------------------------------


def bench_fleet(url: str, sizes=(1, 10, 50, 200), jobs=(1, 20), runs: dict | None = None) -> dict:
    """Every target is its own entry pointing at the same server (`url`)."""
    out = {"method": "advisor probe --targets FILE --jobs N (one process)", "rows": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"targets-{n}.toml"
            path.write_text(
                "".join(f'[[target]]\nname = "db-{i:03d}"\nurl = "{url}"\n\n' for i in range(n))
            )
            specs = {
                j: dict(
                    argv=ADVISOR
                    + [
                        "probe",
                        "--targets",
                        str(path),
                        "--jobs",
                        str(j),
                        "--format",
                        "json",
                        "--output",
                        str(Path(tmp) / f"out-{n}-{j}"),
                    ],
                    ok=(0, 1),
                )
                for j in jobs
            }
            measured = interleaved(specs, runs or dict.fromkeys(jobs, SLOW_RUNS))
            for j in jobs:
                out["rows"].append({"targets": n, "jobs": j, **measured[j]})
                log(f"fleet {n} targets, --jobs {j}: {measured[j]['median']} ms")
    return out


# -- a server far away ------------------------------------------------------------------

ONE_WAY_MS = 10  # a 20 ms round trip: another region, or a laptop to a cloud database


def bench_remote(pg, mariadb) -> dict:
    """The same comparisons through a forward that delays every packet: round trips, and
    the number of connections each tool opens, now cost time."""
    pg_far = servers.DelayProxy(pg.port, ONE_WAY_MS).start()
    my_far = servers.DelayProxy(mariadb.port, ONE_WAY_MS).start()
    try:
        specs = pg_specs(pg, pg_far.port)
        postgres = interleaved(specs, dict.fromkeys(specs, RUNS))
        postgres["ratios"] = {
            "check_postgres_over_probe": round(
                postgres["check_postgres_backends"]["median"] / postgres["advisor_probe"]["median"],
                2,
            )
        }
        out = {"one_way_ms": ONE_WAY_MS, "postgres": postgres}
        if shutil.which("mysqltuner"):
            specs = {
                "advisor_probe": dict(
                    argv=ADVISOR + ["probe", mariadb.url(port=my_far.port), "--format", "json"],
                    ok=(0, 1),
                ),
                "mysqltuner": dict(argv=mysqltuner_argv(mariadb, my_far.port), ok=(0, 1)),
            }
            mariadb_far = interleaved(specs, {"advisor_probe": RUNS, "mysqltuner": SLOW_RUNS})
            mariadb_far["ratios"] = {
                "mysqltuner_over_probe": round(
                    mariadb_far["mysqltuner"]["median"] / mariadb_far["advisor_probe"]["median"], 1
                )
            }
            out["mariadb"] = mariadb_far
        log("fleet against the far server")
        out["fleet"] = bench_fleet(
            pg.url(port=pg_far.port), sizes=(10, 50), runs={1: 3, 20: SLOW_RUNS}
        )
        return out
    finally:
        pg_far.stop()
        my_far.stop()


# -- the site ------------------------------------------------------------------------


def bench_site(pg) -> dict:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one"
        one.mkdir()
        r = subprocess.run(
            ADVISOR
            + [
                "probe",
                pg.url(),
                "--format",
                "json",
                "--label",
                "bench",
                "--output",
                str(one / "bench.json"),
            ],
            capture_output=True,
        )
        assert r.returncode in (0, 1)
        report = json.loads((one / "bench.json").read_text())
        many = Path(tmp) / "many"
        many.mkdir()
        for i in range(200):
            (many / f"service-{i:03d}.json").write_text(
                json.dumps(
                    {
                        **report,
                        "label": f"service-{i:03d} ({('production', 'staging', 'preview')[i % 3]})",
                    }
                )
            )
        specs = {
            name: dict(
                argv=[
                    str(BIN / "mkdocs"),
                    "build",
                    "--strict",
                    "-q",
                    "-f",
                    str(ROOT / "mkdocs.yml"),
                    "-d",
                    str(Path(tmp) / f"site-{name}"),
                ],
                env={"ADVISOR_REPORTS_DIR": str(folder), "NO_MKDOCS_2_WARNING": "1"},
            )
            for name, folder in (("reports_1", one), ("reports_200", many))
        }
        out = interleaved(specs, dict.fromkeys(specs, SLOW_RUNS))
    for name in out:
        out[name]["command"] = (
            f"ADVISOR_REPORTS_DIR=<{name.split('_')[1]} reports> mkdocs build --strict"
        )
    return out


# -- the burst -------------------------------------------------------------------------


def bench_burst() -> dict:
    pg = servers.PostgresServer("bench-burst", max_connections=20, superuser_reserved=3).start()
    bouncer = servers.PgBouncer(
        pg,
        pool_mode="transaction",
        default_pool_size=5,
        settings={"max_client_conn": 200},
        name="pgbouncer-burst",
    ).start()
    try:
        runs = []
        for _ in range(SLOW_RUNS):
            r = subprocess.run(
                ADVISOR
                + [
                    "burst",
                    pg.url(),
                    "--clients",
                    "40",
                    "--hold-ms",
                    "300",
                    "--yes",
                    "--timeout",
                    "10",
                    "--via-pooler",
                    bouncer.url(),
                    "--format",
                    "json",
                ],
                capture_output=True,
                text=True,
            )
            if r.returncode not in (0, 1):
                raise RuntimeError(r.stderr.replace(PW, "***"))
            runs.append(json.loads(r.stdout))
            time.sleep(1)
        return {
            "command": "advisor burst DIRECT_URL --clients 40 --hold-ms 300 --yes "
            "--via-pooler PGBOUNCER_URL --format json",
            "setup": "PostgreSQL max_connections=20, superuser_reserved_connections=3; "
            "PgBouncer transaction mode, default_pool_size=5, max_client_conn=200",
            "runs": runs,
        }
    finally:
        bouncer.stop()
        pg.stop()


PARTS = ("probes", "session", "burst", "load", "soak")
RESULTS = ROOT / "bench" / "results.json"


def main(parts: tuple[str, ...] = PARTS) -> int:
    """Every part (`make bench`), or some of them (`--only load,soak`): those are measured
    again and replace their sections of the last results; the pages are rewritten."""
    started = time.monotonic()
    full = set(parts) == set(PARTS)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if full:
        results = {
            "date": now,
            "machine": machine(),
            "runs": {"fast": RUNS, "slow": SLOW_RUNS},
            "load_average_start": [round(x, 2) for x in os.getloadavg()],
        }
    else:
        results = json.loads(RESULTS.read_text())
    log(
        f"machine: {results['machine']['cpu']}, {results['machine']['cores']} cores; "
        f"parts: {', '.join(parts)}"
    )
    workdir = Path(tempfile.mkdtemp(prefix="advisor-bench-"))
    log("installing the advisor into a fresh venv (pip install .)")
    install = install_advisor(workdir)
    if full:
        results["install"] = install
    try:
        return _measure(results, started, parts, full, now)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _measure(results: dict, started: float, parts, full: bool, now: str) -> int:
    if "probes" in parts:
        _measure_probes(results)
    if "session" in parts:
        log(f"session features: the probe with and without {session.OFF}, {RUNS} rounds")
        results["session_features"] = {
            "date": now,
            **session.bench_session(ADVISOR, RUNS, log),
        }
    if "burst" in parts:
        log("burst: 40 clients on max_connections=20, direct and through PgBouncer")
        results["burst"] = bench_burst()
    if "load" in parts:
        results["load"] = {"date": now, **load.bench_load(ADVISOR, SLOW_RUNS, log)}
    if "soak" in parts:
        log(f"soak: {soak.BENCH_PROBES} probes in one process per server kind and pooler")
        results["soak"] = {"date": now, **soak.bench_soak(PY, NEUTRAL, log)}
    if full:
        results["bench_seconds"] = round(time.monotonic() - started, 1)
        results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    text = json.dumps(results, indent=2) + "\n"
    assert PW not in text
    RESULTS.write_text(text)
    _write_pages(results)
    log(
        f"done in {round(time.monotonic() - started, 1)} s: bench/results.json, "
        "docs/contributors/performance.md, docs/contributors/burst.md"
    )
    return 0


def _measure_probes(results: dict) -> None:
    pg = servers.PostgresServer("bench", max_connections=100, superuser_reserved=3).start()
    bouncer = servers.PgBouncer(pg, pool_mode="transaction", name="pgbouncer-bench").start()
    # An explicit chunk size: MariaDB 10.8+ defaults to 0 (automatic), and mysqltuner 1.9.9
    # divides by it once the server holds InnoDB data.
    mariadb = servers_mysql.MariaDBServer(
        "bench", settings={"innodb_buffer_pool_chunk_size": "2M"}
    ).start()
    try:
        log("PostgreSQL: advisor probe vs check_postgres vs psql")
        results["postgres"] = bench_postgres(pg, bouncer)
        log("MariaDB: advisor probe vs mysqltuner")
        results["mariadb"] = bench_mariadb(mariadb)
        log("connections per probe, from the server logs")
        results["connections"] = connections_per_probe(pg, mariadb)
        log("start-up and imports")
        results["startup"] = bench_startup(pg)
        log("fleet")
        results["fleet"] = bench_fleet(pg.url())
        log(f"a server {2 * ONE_WAY_MS} ms away: probes, mysqltuner and fleets through a delay")
        results["remote"] = bench_remote(pg, mariadb)
        log("site build")
        results["site"] = bench_site(pg)
    finally:
        bouncer.stop()
        pg.stop()
        mariadb.stop()


def _write_pages(results: dict) -> None:
    (ROOT / "docs" / "contributors" / "performance.md").write_text(pages.performance_page(results))
    (ROOT / "docs" / "contributors" / "burst.md").write_text(
        pages.burst_page(results["burst"], results.get("load"))
    )


def write_pages() -> int:
    """`python -m bench.run --pages`: regenerate both pages from bench/results.json, measuring
    nothing (after a change to bench/pages.py)."""
    _write_pages(json.loads(RESULTS.read_text()))
    log("docs/contributors/performance.md and burst.md written from bench/results.json")
    return 0


def arguments(argv: list[str]):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--pages",
        action="store_true",
        help="rewrite the pages from bench/results.json, measuring nothing",
    )
    parser.add_argument(
        "--only",
        metavar="PARTS",
        type=lambda v: tuple(v.split(",")),
        default=PARTS,
        help="measure only these parts (comma-separated: "
        + ", ".join(PARTS)
        + "); the others keep their last results",
    )
    args = parser.parse_args(argv)
    unknown = [p for p in args.only if p not in PARTS]
    if unknown:
        parser.error(f"unknown part {unknown[0]!r}: choose from {', '.join(PARTS)}")
    return args


if __name__ == "__main__":
    options = arguments(sys.argv[1:])
    sys.exit(write_pages() if options.pages else main(options.only))
