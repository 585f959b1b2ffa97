"""`advisor lint` against every vector in tests/vectors/urls.toml (data shared with the
browser checker). Nothing here knows a vector by name: each is run the same way."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from advisor.cli import main
from tests.support.vectors import VECTORS, secrets

STATUSES = {"pass", "warn", "fail", "skip", "absent"}


def argv(vector: dict, fmt: str = "json") -> list[str]:
    args = ["lint", vector["url"], "--format", fmt, "--no-color"]
    if vector.get("direct_url"):
        args += ["--direct-url", vector["direct_url"]]
    if vector.get("orm"):
        args += ["--orm", vector["orm"]]
    if not vector.get("serverless", True):
        args.append("--no-serverless")
    if vector.get("prisma_version"):
        args += ["--prisma-version", str(vector["prisma_version"])]
    if vector.get("driver"):
        args += ["--driver", vector["driver"]]
    for option in vector.get("driver_options", []):
        args += ["--driver-option", option]
    for feature in vector.get("uses", []):
        args += ["--uses", feature]
    return args


def run(vector: dict, capsys, fmt: str = "json") -> tuple[int, str, str]:
    code = main(argv(vector, fmt))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(autouse=True)
def no_env_urls(monkeypatch):
    for name in ("DATABASE_URL", "DIRECT_URL"):
        monkeypatch.delenv(name, raising=False)


def test_vector_file_shape():
    assert len(VECTORS) >= 100
    names = [v["name"] for v in VECTORS]
    assert len(names) == len(set(names)), "vector names must be unique"
    allowed = {"name", "url", "direct_url", "orm", "serverless", "prisma_version", "expect"}
    allowed |= {"driver", "driver_options", "uses"}
    for v in VECTORS:
        assert set(v) <= allowed, v["name"]
        exp = v["expect"]
        assert exp["exit"] in (0, 1, 2), v["name"]
        if exp["exit"] == 2:
            assert exp.get("error_contains"), v["name"]
        else:
            for key in ("provider", "role", "pooler", "pool_mode"):
                assert key in exp, (v["name"], key)
            assert set(exp.get("statuses", {}).values()) <= STATUSES, v["name"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(vector, capsys):
    exp = vector["expect"]
    code, out, err = run(vector, capsys)
    assert code == exp["exit"], (out, err)
    if code == 2:
        assert out == ""
        assert exp["error_contains"] in err
        assert len(err.strip().splitlines()) == 1
    else:
        report = json.loads(out)
        endpoint = report["facts"]["url"]["endpoint"]
        got = {key: endpoint[key] or "" for key in ("provider", "role", "pooler", "pool_mode")}
        assert got == {key: exp[key] for key in got}
        findings = {f["id"]: f["status"] for f in report["findings"]}
        for check_id, status in exp.get("statuses", {}).items():
            if status == "absent":
                assert check_id not in findings, findings
            else:
                assert findings.get(check_id) == status, (check_id, findings)
        messages = {f["id"]: f["message"] for f in report["findings"]}
        for check_id, text in exp.get("message_contains", {}).items():
            assert text in messages.get(check_id, ""), (check_id, messages.get(check_id))
    for secret in secrets(vector):
        assert secret not in out and secret not in err


@pytest.mark.parametrize("fmt", ["text", "markdown", "junit"])
def test_no_password_in_other_formats(fmt, capsys):
    for vector in VECTORS:
        code, out, err = run(vector, capsys, fmt)
        assert code == vector["expect"]["exit"], vector["name"]
        for secret in secrets(vector):
            assert secret not in out and secret not in err, (vector["name"], fmt)


def _sample():
    """A few vectors for the real command line: one per exit code, one with a direct URL."""
    picked = [next(v for v in VECTORS if v["expect"]["exit"] == code) for code in (0, 1, 2)]
    picked.append(next(v for v in VECTORS if v.get("direct_url")))
    picked.append(next(v for v in VECTORS if v["url"].startswith("mysql")))
    return picked


@pytest.mark.parametrize("vector", _sample(), ids=lambda v: v["name"])
def test_vector_subprocess(vector, monkeypatch):
    env = {
        k: v for k, v in __import__("os").environ.items() if k not in ("DATABASE_URL", "DIRECT_URL")
    }
    proc = subprocess.run(
        [sys.executable, "-m", "advisor", *argv(vector)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == vector["expect"]["exit"], proc.stderr
    if proc.returncode != 2:
        endpoint = json.loads(proc.stdout)["facts"]["url"]["endpoint"]
        assert (endpoint["provider"] or "") == vector["expect"]["provider"]
    for secret in secrets(vector):
        assert secret not in proc.stdout and secret not in proc.stderr
