"""`advisor checks [ID]` and `advisor providers [ID]`, text and JSON."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from advisor.catalog import load_checks
from advisor.catalog.providers import load_providers
from advisor.cli import main


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_checks_list_text(capsys):
    code, out, _ = run(capsys, "checks")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(load_checks())
    assert any(line.startswith("URL201 ") and "Prisma" in line for line in lines)


def test_checks_list_json(capsys):
    code, out, _ = run(capsys, "checks", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [e["id"] for e in data] == list(load_checks())
    for entry in data:
        assert entry["docs_url"].endswith(f"/checks/{entry['id']}/")
        assert (
            entry["title"]
            and entry["remediation"]
            and entry["severity"] in ("high", "medium", "low")
        )


@pytest.mark.parametrize("check_id", ["URL201", "url201"])
def test_check_explained_text(check_id, capsys):
    code, out, _ = run(capsys, "checks", check_id)
    assert code == 0
    assert out.startswith("URL201: Prisma and prepared statements behind a pooler")
    assert "Why:" in out and "How to fix:" in out and "/checks/URL201/" in out


def test_check_explained_json(capsys):
    code, out, _ = run(capsys, "checks", "URL201", "--format", "json")
    entry = json.loads(out)
    assert code == 0 and entry["id"] == "URL201" and entry["kind"] == "lint"
    assert "pgbouncer=true" in entry["remediation"]


def test_checks_with_thresholds_show_them(capsys):
    with_params = [cid for cid, e in load_checks().items() if e["params"]]
    assert with_params, "the catalog has checks with thresholds (PG101, ...)"
    code, out, _ = run(capsys, "checks", with_params[0])
    assert code == 0 and "Thresholds" in out


def test_providers_list_text(capsys):
    code, out, _ = run(capsys, "providers")
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()]
    assert ids == list(load_providers())


def test_providers_list_json(capsys):
    code, out, _ = run(capsys, "providers", "--format", "json")
    data = json.loads(out)
    assert code == 0 and [p["id"] for p in data] == list(load_providers())
    neon = next(p for p in data if p["id"] == "neon")
    assert {e["role"] for e in neon["endpoints"]} == {"pooled", "direct"}


def test_provider_shown_text(capsys):
    code, out, _ = run(capsys, "providers", "neon")
    assert code == 0
    assert out.startswith("Neon (postgresql)")
    assert "pooled" in out and "direct" in out and "-pooler" in out
    assert "source: https://" in out and "checked 20" in out
    assert "Pitfalls:" in out


def test_provider_shown_json(capsys):
    code, out, _ = run(capsys, "providers", "NEON", "--format", "json")
    entry = json.loads(out)
    assert code == 0 and entry["id"] == "neon" and entry["name"] == "Neon"
    pooled = next(e for e in entry["endpoints"] if e["role"] == "pooled")
    assert pooled["pooler"] == "pgbouncer" and pooled["pool_mode"] == "transaction"
    assert pooled["source"].startswith("https://") and pooled["checked"]


@pytest.mark.parametrize(
    "args",
    [
        ("checks", "URL999"),
        ("providers", "nosuchcloud"),
        ("checks", "URL999", "--format", "json"),
        ("providers", "nosuchcloud", "--format", "json"),
    ],
)
def test_unknown_ids_exit_2_with_one_line(args, capsys):
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("advisor: error: no ")


def test_checks_and_providers_subprocess():
    for args, code in (
        (["checks", "URL101"], 0),
        (["providers", "supabase", "--format", "json"], 0),
        (["checks", "NOPE"], 2),
    ):
        proc = subprocess.run(
            [sys.executable, "-m", "advisor", *args], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == code, proc.stderr
    assert json.loads(
        subprocess.run(
            [sys.executable, "-m", "advisor", "providers", "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )
