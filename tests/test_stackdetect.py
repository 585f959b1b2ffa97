"""Stack detection from project files (advisor/stackdetect.py), on small files written here."""

from __future__ import annotations

import json
import os

from advisor.stackdetect import MAX_FILE_BYTES, as_dict, describe, detect
from tests.support.cli import run_advisor


def project(tmp_path, **files):
    """Write files (name -> text or bytes; '/' makes folders) into a project folder."""
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return tmp_path


def stack_id(detection):
    stack, why = detection.stack()
    assert stack is not None, why
    return stack.id


def test_prisma_7_with_the_pg_adapter_is_prisma_on_node_postgres(tmp_path):
    package = {
        "dependencies": {"@prisma/client": "^7.0.0", "@prisma/adapter-pg": "^7.0.0"},
        "devDependencies": {"prisma": "^7.0.0"},
    }
    found = detect(project(tmp_path, **{"package.json": json.dumps(package)}))
    assert stack_id(found) == "prisma+node-postgres"
    assert found.version("prisma") == "7"
    adapter = next(f for f in found.found if f.adapter)
    assert adapter.stack == "node-postgres" and adapter.file == "package.json"
    assert "@prisma/adapter-pg" in adapter.evidence
    assert found.stack()[0].version == "7" and not found.notes


def test_prisma_6_without_an_adapter_runs_its_engine(tmp_path):
    found = detect(
        project(tmp_path, **{"package.json": '{"dependencies": {"@prisma/client": "6.19.0"}}'})
    )
    assert stack_id(found) == "prisma+prisma-engine"


def test_drizzle_follows_the_driver_package(tmp_path):
    package = {"dependencies": {"drizzle-orm": "^0.44.0", "pg": "^8.16.0"}}
    assert (
        stack_id(detect(project(tmp_path, **{"package.json": json.dumps(package)})))
        == "drizzle+node-postgres"
    )


def test_requirements_with_asyncpg_and_sqlalchemy(tmp_path):
    text = "# app\n-r base.txt\nSQLAlchemy[asyncio]>=2.0.30  # the ORM\nasyncpg==0.30.0\n--index-url https://x\n"
    found = detect(project(tmp_path, **{"requirements.txt": text}))
    assert stack_id(found) == "sqlalchemy+asyncpg"
    assert {(f.stack, f.file) for f in found.found} == {
        ("sqlalchemy", "requirements.txt"),
        ("asyncpg", "requirements.txt"),
    }
    assert any(f.evidence == "asyncpg==0.30.0" for f in found.found)


def test_pyproject_project_and_poetry_dependencies(tmp_path):
    pep621 = '[project]\nname = "x"\ndependencies = ["psycopg[binary]>=3.2", "Django~=5.2"]\n'
    assert (
        stack_id(detect(project(tmp_path / "a", **{"pyproject.toml": pep621}))) == "django+psycopg"
    )
    poetry = '[tool.poetry.dependencies]\npython = "^3.12"\nSQLAlchemy = "^2.0"\npsycopg2-binary = { version = "^2.9" }\n'
    assert (
        stack_id(detect(project(tmp_path / "b", **{"pyproject.toml": poetry})))
        == "sqlalchemy+psycopg2"
    )


def test_gemfile_lock_with_pg_and_rails(tmp_path):
    lock = (
        "GEM\n  remote: https://rubygems.org/\n  specs:\n    actioncable (8.0.2)\n"
        "    pg (1.5.9)\n    rails (8.0.2)\n      actioncable (= 8.0.2)\n\nPLATFORMS\n  ruby\n"
    )
    found = detect(project(tmp_path, **{"Gemfile.lock": lock}))
    assert stack_id(found) == "rails+ruby-pg"
    assert any(f.evidence == "pg (1.5.9)" for f in found.found)


def test_go_mod_with_pgx_v5_and_an_indirect_module(tmp_path):
    mod = (
        "module example.com/app\n\ngo 1.22\n\nrequire (\n\tgithub.com/jackc/pgx/v5 v5.7.1\n"
        "\tgithub.com/lib/pq v1.10.9 // indirect\n)\n"
    )
    found = detect(project(tmp_path, **{"go.mod": mod}))
    assert stack_id(found) == "pgx"
    assert [f.stack for f in found.found] == ["pgx"]
    single = "module m\n\nrequire github.com/lib/pq v1.10.9\n"
    assert stack_id(detect(project(tmp_path / "b", **{"go.mod": single}))) == "lib-pq"


def test_composer_json_with_laravel(tmp_path):
    found = detect(
        project(
            tmp_path,
            **{"composer.json": '{"require": {"php": "^8.3", "laravel/framework": "^12.0"}}'},
        )
    )
    assert stack_id(found) == "laravel+pdo-pgsql"


def test_mix_exs_with_ecto(tmp_path):
    mix = 'defp deps do\n  [\n    {:ecto_sql, "~> 3.12"},\n    # {:myxql, "~> 0.7"},\n    {:postgrex, ">= 0.0.0"}\n  ]\nend\n'
    found = detect(project(tmp_path, **{"mix.exs": mix}))
    assert stack_id(found) == "ecto+postgrex"
    assert {f.stack for f in found.found} == {"ecto", "postgrex"}


def test_schema_prisma_names_prisma_and_the_engine(tmp_path):
    schema = '// datasource db { provider = "mysql" }\ndatasource db {\n  provider = "postgresql" // here\n  url = env("DATABASE_URL")\n}\n'
    found = detect(project(tmp_path, **{"prisma/schema.prisma": schema}))
    assert found.engines == ("postgresql",)
    assert [(f.stack, f.file) for f in found.found] == [("prisma", "prisma/schema.prisma")]


def test_several_orms_are_not_guessed_between(tmp_path):
    package = {"dependencies": {"@prisma/client": "^6", "drizzle-orm": "^0.44"}}
    stack, why = detect(project(tmp_path, **{"package.json": json.dumps(package)})).stack()
    assert stack is None and "prisma" in why and "drizzle" in why


def test_an_empty_folder_finds_nothing_and_says_so(tmp_path):
    found = detect(tmp_path)
    assert found.found == () and found.notes == ()
    assert found.stack() == (None, "no driver or ORM found")
    assert as_dict(found)["stack"] is None


def test_malformed_and_hostile_files_give_one_line_notes(tmp_path):
    root = project(
        tmp_path,
        **{
            "package.json": '{"dependencies": {"pg": ',
            "pyproject.toml": "[project\ndependencies = [",
            "composer.json": "[1, 2]",
            "requirements.txt": b"asyncpg\xff\xfe\n",
            "mix.exs": "[" * 100_000,  # not parsed as data: a regex scan finds nothing
            "Gemfile.lock": "x" * (MAX_FILE_BYTES + 1),
        },
    )
    (root / "go.mod").mkdir()
    os.mkfifo(root / "schema.prisma")  # must not block the scan
    deep = tmp_path / "deep"
    project(deep, **{"package.json": "[" * 100_000 + "]" * 100_000})
    found = detect(root)
    notes = found.notes
    assert all("\n" not in n for n in notes)
    by_file = {n.split(":")[0]: n for n in notes}
    assert set(by_file) == {
        "package.json",
        "pyproject.toml",
        "composer.json",
        "requirements.txt",
        "Gemfile.lock",
        "go.mod",
        "schema.prisma",
    }
    assert "not valid JSON" in by_file["package.json"]
    assert "not valid TOML" in by_file["pyproject.toml"]
    assert "not UTF-8" in by_file["requirements.txt"]
    assert "larger than" in by_file["Gemfile.lock"]
    assert (
        "not a regular file" in by_file["go.mod"]
        and "not a regular file" in by_file["schema.prisma"]
    )
    assert str(tmp_path) not in " ".join(notes)  # the note names the file, not the path
    deep_notes = detect(deep).notes
    assert len(deep_notes) == 1 and deep_notes[0].startswith("package.json: ")
    assert describe(found)[-1].startswith("note: ")


def test_file_content_shown_back_is_one_printable_line(tmp_path):
    package = {"dependencies": {"pg": "\u001b[2J^8.16.0\n" + "x" * 500}}
    found = detect(project(tmp_path, **{"package.json": json.dumps(package)}))
    [pg] = found.found
    assert pg.stack == "node-postgres"
    assert "\x1b" not in pg.evidence and "\n" not in pg.evidence and len(pg.evidence) <= 120


def test_lint_takes_the_stack_and_prisma_major_from_the_project(tmp_path):
    """--project: package.json names Prisma 7 on @prisma/adapter-pg, so through Supabase's
    transaction pooler there is nothing to fix for prepared statements (no pgbouncer=true
    advice), and an asyncpg project is told its exact setting."""
    url = (
        "postgresql://postgres.abcdefghij:Pw-Proj-1@aws-0-eu-central-1.pooler.supabase.com:6543"
        "/postgres?sslmode=verify-full"
    )
    (tmp_path / "package.json").write_text(
        '{"dependencies": {"@prisma/client": "^7.1.0", "@prisma/adapter-pg": "^7.1.0"}}'
    )
    r = run_advisor("lint", "--format", "json", "--project", str(tmp_path), "--", url)
    found = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    assert found["STK101"]["status"] == "pass" and "Prisma ORM 7" in found["STK101"]["message"]
    assert "URL201" not in found
    py = tmp_path / "py"
    py.mkdir()
    (py / "requirements.txt").write_text("asyncpg==0.30.0\n")
    r = run_advisor("lint", "--format", "json", "--project", str(py), "--", url)
    found = {f["id"]: f for f in json.loads(r.stdout)["findings"]}
    assert (
        found["STK101"]["status"] == "fail"
        and "statement_cache_size=0" in found["STK101"]["message"]
    )
    assert "Pw-Proj-1" not in r.stdout + r.stderr
