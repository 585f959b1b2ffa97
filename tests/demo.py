"""`make demo`: throwaway PostgreSQL + PgBouncer, probe both, then build and serve the site.

Everything runs on loopback and is removed on exit (Ctrl-C included).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from servers import Forwarder, MissingBinary, PgBouncer, PostgresServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "reports"


def advisor(*args: str) -> int:
    print(f"\n$ advisor {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-m", "advisor", *args], cwd=ROOT)


def main() -> int:
    started = []
    try:
        print("Starting throwaway PostgreSQL (max_connections=40) and PgBouncer (transaction mode)...")
        pg = PostgresServer("demo", max_connections=40, superuser_reserved=3, tls=True).start()
        started.append(pg)
        bouncer = PgBouncer(pg, pool_mode="transaction", default_pool_size=10).start()
        started.append(bouncer)
        forward = Forwarder(pg.port).start()
        started.append(forward)
        REPORTS.mkdir(exist_ok=True)
        for old in REPORTS.glob("demo-*.json"):
            old.unlink()
        # The URL goes in DATABASE_URL, as users should do: not on the command line.
        env_url = pg.url(sslmode="verify-full", sslrootcert=pg.certs["ca"]).replace("127.0.0.1", "localhost")
        os.environ["DATABASE_URL"] = env_url
        advisor("probe", "--label", "direct", "--format", "json", "--output", str(REPORTS / "demo-direct.json"))
        os.environ["DATABASE_URL"] = bouncer.url()
        advisor("probe", "--label", "pgbouncer", "--format", "json",
                "--output", str(REPORTS / "demo-pgbouncer.json"))
        os.environ["DATABASE_URL"] = pg.url(port=forward.port, sslmode="require")
        advisor("probe", "--label", "port-forward", "--format", "json",
                "--output", str(REPORTS / "demo-port-forward.json"))
        os.environ.pop("DATABASE_URL")
        advisor("lint", "postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
                "--orm", "prisma")
        print(f"\nReports written to {REPORTS}/")
        if (ROOT / "mkdocs.yml").exists():
            print("\nBuilding the site with these reports; serving on http://127.0.0.1:8000 (Ctrl-C stops all)")
            env = {**os.environ, "ADVISOR_REPORTS_DIR": str(REPORTS)}
            mkdocs = Path(sys.executable).parent / "mkdocs"
            if os.environ.get("ADVISOR_DEMO_NO_SERVE"):
                return subprocess.call([str(mkdocs), "build", "--strict", "-q"], cwd=ROOT, env=env)
            subprocess.call([str(mkdocs), "serve", "-a", "127.0.0.1:8000"], cwd=ROOT, env=env)
        return 0
    except MissingBinary as exc:
        print(f"demo needs {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nstopping")
        return 0
    finally:
        for server in reversed(started):
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
