"""The process entry point (advisor.cli.run): exit codes, output and exit handlers survive
its garbage-collector settings. Real processes, real argv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Prints, from an exit handler, what the collector looked like when the process ended.
PROBE_EXIT = """
import atexit, gc, sys
atexit.register(lambda: print("at-exit", gc.get_freeze_count() > 0, gc.get_threshold()[0],
                              flush=True))
from advisor.cli import run
sys.argv = ["advisor", *sys.argv[1:]]
run()
"""


def entry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", PROBE_EXIT, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_run_keeps_output_exit_code_and_exit_handlers():
    r = entry("checks", "PG101")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("PG101:")
    # Output written before exiting comes first; then the exit handler ran, after the freeze.
    assert r.stdout.rstrip().splitlines()[-1] == "at-exit True 100000"


def test_run_passes_usage_errors_through():
    r = entry("lint", "mongodb://db.example.com/app")
    assert r.returncode == 2
    assert r.stderr.startswith("advisor: error:") and len(r.stderr.strip().splitlines()) == 1
    assert r.stdout.strip() == "at-exit True 100000"


def test_console_script_and_module_use_run():
    """Both ways users start the advisor go through run(), not main()."""
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"advisor": "advisor.cli:run"}
    assert "run()" in (ROOT / "advisor" / "__main__.py").read_text()
    r = subprocess.run(
        [sys.executable, "-m", "advisor", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert r.returncode == 0 and r.stdout.startswith("advisor ")
