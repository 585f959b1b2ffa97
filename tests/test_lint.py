"""`advisor lint` beyond the vectors: no network, no drivers, where URLs come from,
the pre-commit hook, output formats."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from advisor import checks
from advisor.catalog import load_checks
from advisor.cli import main

ROOT = Path(__file__).resolve().parent.parent
SUPABASE_POOLED = (
    "postgresql://postgres.abcdefghijklmnopqrst:{pw}@aws-0-eu-central-1.pooler"
    ".supabase.com:6543/postgres?sslmode=require&pgbouncer=true&connection_limit=1"
)
SUPABASE_SESSION = (
    "postgresql://postgres.abcdefghijklmnopqrst:{pw}@aws-0-eu-central-1.pooler"
    ".supabase.com:5432/postgres?sslmode=require"
)


@pytest.fixture(autouse=True)
def no_env_urls(monkeypatch):
    for name in ("DATABASE_URL", "DIRECT_URL", "POSTGRES_PRISMA_URL", "POSTGRES_URL_NON_POOLING"):
        monkeypatch.delenv(name, raising=False)


def lint_json(capsys, *args) -> tuple[int, dict | None, str]:
    code = main(["lint", *args, "--format", "json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out else None), out.err


def statuses(report: dict) -> dict:
    return {f["id"]: f["status"] for f in report["findings"]}


def subprocess_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DIRECT_URL")}


# -- no network, no DNS, no driver ---------------------------------------------


def test_lint_opens_no_socket_and_resolves_no_name(monkeypatch, capsys):
    def refuse(*args, **kwargs):
        raise AssertionError("lint touched the network")

    for name in ("socket", "getaddrinfo", "create_connection", "gethostbyname", "gethostbyname_ex"):
        monkeypatch.setattr(socket, name, refuse)
    urls = [
        "postgresql://app:Pw-NoNet-1@10.255.255.1:5432/app?sslmode=require",
        "postgresql://app:Pw-NoNet-2@db.unroutable.invalid:6543/app",
        "mysql://app:Pw-NoNet-3@[2001:db8::1]:3306/app",
    ]
    start = time.perf_counter()
    for url in urls:
        code, report, err = lint_json(capsys, url, "--direct-url", url)
        assert code in (0, 1), err
        assert report["kind"] == "lint"
    elapsed = time.perf_counter() - start
    print(f"\n{len(urls)} lints of unroutable hosts in {elapsed * 1000:.1f} ms")


def test_lint_imports_no_driver():
    code = (
        "import sys, io, contextlib\n"
        "from advisor.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['lint', 'postgresql://u:Pw-Drv@db.example.com/app', '--format', 'json'])\n"
        "    main(['lint', 'mysql://u:Pw-Drv@db.example.com/app', '--format', 'json'])\n"
        "print(sorted(m for m in ('psycopg', 'psycopg2', 'pymysql', 'MySQLdb') if m in sys.modules))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


# -- where the URL comes from ---------------------------------------------------


def test_reads_database_url_from_environment(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", SUPABASE_POOLED.format(pw="Pw-Env-Main"))
    monkeypatch.setenv("DIRECT_URL", SUPABASE_SESSION.format(pw="Pw-Env-Direct"))
    code, report, _ = lint_json(capsys)
    assert code == 0
    assert report["facts"]["url"]["source"] == "DATABASE_URL"
    assert statuses(report)["URL301"] == "pass"
    assert statuses(report)["URL203"] == "pass"
    assert "Pw-Env" not in json.dumps(report)


def test_no_url_at_all_is_a_usage_error(capsys):
    code = main(["lint"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip() == "advisor: error: no URL given and DATABASE_URL is not set"


def test_env_file_dotenv_syntax(tmp_path, capsys):
    env = tmp_path / ".env"
    env.write_text(
        "# comment\n"
        f'export DATABASE_URL="{SUPABASE_POOLED.format(pw="Pw%23Dotenv-Main")}"\n'
        f"DIRECT_URL='{SUPABASE_SESSION.format(pw='Pw-Dotenv-Direct')}'\n"
        "OTHER=1 # trailing comment\n",
        encoding="utf-8",
    )
    code, report, _ = lint_json(capsys, "--env-file", str(env), "--orm", "prisma")
    assert code == 0
    source = report["facts"]["url"]["source"]
    assert source == f"DATABASE_URL in {env}"
    assert report["facts"]["url"]["endpoint"]["pool_mode"] == "transaction"
    assert report["facts"]["direct_url"]["endpoint"]["pool_mode"] == "session"
    assert report["facts"]["direct_url"]["source"] == f"DIRECT_URL in {env}"
    found = statuses(report)
    assert found["URL201"] == "pass" and found["URL203"] == "pass" and found["URL301"] == "pass"
    message = next(f["message"] for f in report["findings"] if f["id"] == "URL301")
    assert "DATABASE_URL" in message
    text = json.dumps(report)
    assert "Dotenv-Main" not in text and "Pw%23" not in text and "Pw-Dotenv-Direct" not in text


def test_env_file_text_output_hides_password(tmp_path, capsys):
    env = tmp_path / ".env"
    env.write_text(
        f"DATABASE_URL={SUPABASE_POOLED.format(pw='Pw-Text-Secret')}\n", encoding="utf-8"
    )
    code = main(["lint", "--env-file", str(env)])
    out = capsys.readouterr()
    assert code == 0
    assert "Pw-Text-Secret" not in out.out + out.err
    assert "postgres.abcdefghijklmnopqrst:***@" in out.out


def test_missing_env_file(tmp_path, capsys):
    code = main(["lint", "--env-file", str(tmp_path / "nope.env")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no such env file" in err


def test_prisma_schema_env_names(tmp_path, capsys):
    schema = tmp_path / "prisma" / "schema.prisma"
    schema.parent.mkdir()
    schema.write_text(
        'generator client {\n  provider = "prisma-client-js"\n}\n\n'
        'datasource db {\n  provider  = "postgresql"\n'
        '  url       = env("POSTGRES_PRISMA_URL")\n'
        '  directUrl = env("POSTGRES_URL_NON_POOLING")\n}\n',
        encoding="utf-8",
    )
    env = tmp_path / ".env"
    env.write_text(
        # DATABASE_URL is present but must not be used: the schema names other variables.
        "DATABASE_URL=postgresql://x:Pw-Unused@db.example.com/x\n"
        f"POSTGRES_PRISMA_URL={SUPABASE_POOLED.format(pw='Pw-Schema-Main')}\n"
        f"POSTGRES_URL_NON_POOLING={SUPABASE_POOLED.format(pw='Pw-Schema-Direct')}\n",
        encoding="utf-8",
    )
    code, report, _ = lint_json(
        capsys, "--env-file", str(env), "--prisma-schema", str(schema), "--orm", "prisma"
    )
    assert code == 1  # the "direct" variable points at the transaction pooler
    assert report["facts"]["url"]["source"] == f"POSTGRES_PRISMA_URL in {env}"
    assert statuses(report)["URL203"] == "fail"
    assert "Pw-Schema" not in json.dumps(report) and "Pw-Unused" not in json.dumps(report)


def test_prisma7_schema_without_url(tmp_path, capsys):
    schema = tmp_path / "schema.prisma"
    schema.write_text('datasource db {\n  provider = "postgresql"\n}\n', encoding="utf-8")
    code = main(["lint", "--prisma-schema", str(schema)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "prisma.config.ts" in err


# -- pre-commit ----------------------------------------------------------------


def test_pre_commit_hook_entry(tmp_path):
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hook = next(h for h in hooks if h["id"] == "advisor-lint")
    assert hook["entry"] == "advisor lint --env-file .env"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
    assert hook["files"] == r"(\.env|schema\.prisma)$"

    script = Path(sys.executable).parent / "advisor"
    command = [str(script), *shlex.split(hook["entry"])[1:]]
    env_file = tmp_path / ".env"
    env_file.write_text(
        f"DATABASE_URL={SUPABASE_POOLED.format(pw='Pw-Hook-Good')}\n"
        f"DIRECT_URL={SUPABASE_SESSION.format(pw='Pw-Hook-Direct')}\n",
        encoding="utf-8",
    )
    good = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "Pw-Hook" not in good.stdout + good.stderr

    env_file.write_text(
        "DATABASE_URL=postgresql://postgres:Pw-Hook-Bad@aws-0-eu-central-1"
        ".pooler.supabase.com:6543/postgres?sslmode=disable\n",
        encoding="utf-8",
    )
    bad = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, env=subprocess_env(), timeout=60
    )
    assert bad.returncode == 1
    assert "URL208" in bad.stdout and "Pw-Hook-Bad" not in bad.stdout + bad.stderr


# -- report forms --------------------------------------------------------------


def test_lint_report_shape(capsys):
    code, report, _ = lint_json(capsys, SUPABASE_POOLED.format(pw="Pw-Shape"))
    assert report["schema_version"] == 1 and report["kind"] == "lint"
    assert set(report["facts"]) == {"engine", "url"}
    assert report["target"]["provider"] == "supabase"
    assert report["summary"]["status"] in ("pass", "warn")


@pytest.mark.parametrize("fmt, marker", [("markdown", "URL201"), ("junit", "<testsuite")])
def test_lint_other_formats(fmt, marker, capsys):
    code = main(["lint", SUPABASE_POOLED.format(pw="Pw-Format"), "--format", fmt])
    out = capsys.readouterr().out
    assert code == 0 and marker in out and "Pw-Format" not in out


def test_strict_turns_warnings_into_exit_1(capsys):
    url = "postgresql://app@db.example.com/app"  # no sslmode: a warning
    assert main(["lint", url]) == 0
    assert main(["lint", url, "--strict"]) == 1
    capsys.readouterr()


def test_every_lint_check_has_a_function_and_back():
    registry = checks.load_all()
    lint_ids = {cid for cid, entry in load_checks().items() if entry["kind"] == "lint"}
    assert lint_ids <= set(registry)
    assert {cid for cid in registry if load_checks()[cid]["kind"] == "lint"} == lint_ids
