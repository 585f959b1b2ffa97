"""Run the CLI as a user would: a separate process, real argv, real exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def run_advisor(
    *args, env: dict | None = None, timeout: float = 60, cwd=None, input_text: str | None = None
) -> subprocess.CompletedProcess:
    """`python -m advisor ARGS` without the caller's DATABASE_URL, DIRECT_URL, PGPASSWORD or
    NO_COLOR (a test sets what it needs in `env`)."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "DIRECT_URL", "PGPASSWORD", "NO_COLOR")
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "advisor", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd or ROOT,
        input=input_text,
    )
