"""`make demo` (`python -m tests.demo` from the checkout's root): throwaway PostgreSQL +
PgBouncer, probe them as a fleet, then build and serve the site with the reports on
http://127.0.0.1:8000.

Everything runs on loopback and is removed on exit (Ctrl-C stops servers and site). The
previous demo's reports become the baseline, so a second run shows what changed.
ADVISOR_DEMO_NO_SERVE=1 builds the site and exits instead of serving it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.support.servers import Forwarder, MissingBinary, PgBouncer, PostgresServer

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"
BASELINE = REPORTS / "baseline"
SITE = "http://127.0.0.1:8000/"


def advisor(*args: str, env: dict) -> int:
    print(f"\n$ advisor {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-m", "advisor", *args], cwd=ROOT, env=env)


def keep_as_baseline() -> None:
    """Move the last demo's reports to reports/baseline/ (ignored by git)."""
    old = sorted(REPORTS.glob("demo-*.json"))
    if not old:
        return
    BASELINE.mkdir(parents=True, exist_ok=True)
    (BASELINE / ".gitignore").write_text("*\n")
    for stale in BASELINE.glob("demo-*.json"):
        stale.unlink()
    for path in old:
        shutil.move(str(path), BASELINE / path.name)


def targets_file(folder: Path) -> Path:
    """The fleet: the URLs stay in environment variables, as in CI."""
    path = folder / "demo-targets.toml"
    path.write_text(
        '[[target]]\nname = "demo-direct"\nlabel = "direct"\nurl_env = "DEMO_DIRECT_URL"\n\n'
        '[[target]]\nname = "demo-pgbouncer"\nlabel = "pgbouncer"\nurl_env = "DEMO_POOLED_URL"\n'
        "concurrency = 20\npool_size = 1\n\n"
        '[[target]]\nname = "demo-port-forward"\nlabel = "port-forward"\n'
        'url_env = "DEMO_FORWARD_URL"\n'
    )
    return path


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops everything, like Ctrl-C
    started = []
    work = Path(tempfile.mkdtemp(prefix="advisor-demo-"))
    try:
        print(
            "Starting throwaway PostgreSQL (max_connections=40) and PgBouncer (transaction mode)..."
        )
        pg = PostgresServer("demo", max_connections=40, superuser_reserved=3, tls=True).start()
        started.append(pg)
        bouncer = PgBouncer(pg, pool_mode="transaction", default_pool_size=10).start()
        started.append(bouncer)
        forward = Forwarder(pg.port).start()
        started.append(forward)
        REPORTS.mkdir(exist_ok=True)
        keep_as_baseline()
        # Finding links point at the local site; URLs go in variables, never on the command line.
        env = {
            **os.environ,
            "ADVISOR_DOCS_BASE": SITE,
            "NO_MKDOCS_2_WARNING": "1",
            "DEMO_DIRECT_URL": pg.url(sslmode="verify-full", sslrootcert=pg.certs["ca"]).replace(
                "127.0.0.1", "localhost"
            ),
            "DEMO_POOLED_URL": bouncer.url(),
            "DEMO_FORWARD_URL": pg.url(port=forward.port, sslmode="require"),
        }
        targets = targets_file(work)
        print(f"\nTargets file {targets}:\n{targets.read_text()}")
        advisor(
            "probe",
            "--targets",
            str(targets),
            "--jobs",
            "3",
            "--format",
            "json",
            "--output",
            f"{REPORTS}/",
            env=env,
        )
        reports = [str(p) for p in sorted(REPORTS.glob("demo-*.json"))]
        baseline = ["--baseline", str(BASELINE)] if list(BASELINE.glob("demo-*.json")) else []
        advisor("report", *reports, *baseline, "--exit-zero", env=env)
        advisor(
            "lint",
            "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler"
            ".supabase.com:6543/postgres",
            "--orm",
            "prisma",
            env=env,
        )
        print(f"\nReports written to {REPORTS}/")
        mkdocs = Path(sys.executable).parent / "mkdocs"
        env["ADVISOR_REPORTS_DIR"] = str(REPORTS)
        if os.environ.get("ADVISOR_DEMO_NO_SERVE"):
            return subprocess.call([str(mkdocs), "build", "--strict", "-q"], cwd=ROOT, env=env)
        print(
            f"\nBuilding the site with these reports; serving on {SITE} "
            f"(readiness: {SITE}readiness/). Ctrl-C stops the servers and the site.",
            flush=True,
        )
        site = subprocess.Popen([str(mkdocs), "serve", "-a", "127.0.0.1:8000"], cwd=ROOT, env=env)
        started.append(site)  # stopped below, also when only this process got the Ctrl-C
        return site.wait()
    except MissingBinary as exc:
        print(f"demo needs {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        for server in reversed(started):
            if isinstance(server, subprocess.Popen):
                server.terminate()
                server.wait(10)
            else:
                server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
