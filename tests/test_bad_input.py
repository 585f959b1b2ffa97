"""Bad input from the command line and from files: one line on stderr, the documented exit
code (2 for usage errors), no traceback, no "internal error", and never the password.

Every case runs the CLI as a user would: a real process, real argv, real files (a FIFO,
/dev/full, a path under a regular file). Ctrl-C during start-up is a real SIGINT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import ROOT, run_advisor

PASSWORD = "Pw-Bad-Input-9zQ"
URL = f"postgresql://app:{PASSWORD}@db.example.com/app"
CLOSED = f"postgresql://app:{PASSWORD}@127.0.0.1:1/app"  # nothing listens: exit 3 at once


def assert_one_line(r: subprocess.CompletedProcess, code: int = 2, text: str = "") -> str:
    """The run failed with exactly one stderr line and `code`; returns that line."""
    out = r.stdout + r.stderr
    assert "Traceback" not in out and "internal error" not in out, out[-2000:]
    assert PASSWORD not in out, out[-2000:]
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr[-2000:]
    assert r.returncode == code, (r.returncode, r.stderr)
    assert lines[0].startswith("advisor"), lines[0]
    assert text in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- argv


@pytest.mark.parametrize(
    "argv",
    [
        ["probe", "--timeout", URL],
        ["probe", f"--timeout={URL}"],
        ["lint", URL, URL],  # two positional URLs
        ["lint", "--format", URL],  # an invalid choice is quoted
        ["lint", "--orm", URL],
        ["lint", "--prisma-version", URL],
        ["lint", "-" + URL],  # a URL starting with -
        ["probe", f"--d={URL}"],  # an ambiguous prefix
        ["lint", URL, f"--nope={URL}"],
        [URL],  # a URL where the command goes
        ["burst", URL, "--clients", URL],
        ["lint", "--format", f"host=db user=app password={PASSWORD}"],  # a keyword DSN
        ["lint", "--format", f"postgresql://app:{PASSWORD} two@db/app"],  # a space in it
        ["lint", "--format", f"postgresql://app:{PASSWORD}'q@db/app"],  # a quote: repr() changes
        ["lint", "--format", f"app:{PASSWORD}@db"],  # no scheme at all
    ],
)
def test_usage_errors_are_one_line_without_the_url(argv):
    line = assert_one_line(run_advisor(*argv))
    assert "error:" in line and "--help" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["lint", "postgresql://u@db.example.com/d", "--threshold", URL + "?sslmode=require"],
        ["checks", URL],
        ["providers", URL],
        ["lint", "--env-file", URL],
        ["lint", "--prisma-schema", URL],
        ["report", URL],
        ["report", "--baseline", URL, URL],
        ["probe", "--targets", URL],
    ],
)
def test_the_advisors_own_errors_never_quote_a_url_from_argv(argv):
    """A URL where a file name or an id goes: the message says what is wrong, without it."""
    assert_one_line(run_advisor(*argv), text="error:")


@pytest.mark.parametrize("command", ["probe", "burst"])
@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "1e308", "0", "-1", "3601"])
def test_timeout_must_be_a_finite_positive_number(command, value):
    argv = [command, CLOSED, "--timeout", value] + (
        ["--clients", "1"] if command == "burst" else []
    )
    assert_one_line(run_advisor(*argv, timeout=30), text="--timeout")


@pytest.mark.parametrize("value", ["inf", "nan", "1e999", "1.5e400"])
def test_threshold_must_be_a_finite_number(value):
    assert_one_line(
        run_advisor("lint", URL, "--threshold", f"PG101.warn_below_percent={value}"),
        text="needs a number",
    )


# --------------------------------------------------------------------------- --output


def test_output_to_a_full_disk(tmp_path):
    assert_one_line(
        run_advisor("lint", URL, "--format", "json", "--output", "/dev/full"),
        text="cannot write /dev/full",
    )
    report = tmp_path / "r.json"
    run_advisor("lint", URL, "--format", "json", "--output", str(report))
    assert_one_line(
        run_advisor("report", str(report), "--output", "/dev/full"), text="cannot write /dev/full"
    )


def test_stdout_on_a_full_disk():
    with open("/dev/full", "w") as full:
        r = subprocess.run(
            [sys.executable, "-m", "advisor", "lint", URL],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    r.stdout = ""
    assert_one_line(r, text="No space left on device")


def test_output_under_a_regular_file(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for argv in (
        ["lint", URL, "--format", "json", "--output", str(blocker / "r.json")],
        ["lint", URL, "--format", "json", "--output", f"{blocker}/sub/"],
    ):
        assert_one_line(run_advisor(*argv), text="cannot write")
    report = tmp_path / "r.json"
    run_advisor("lint", URL, "--format", "json", "--output", str(report))
    assert_one_line(
        run_advisor("report", str(report), "--output", str(blocker / "x.md")), text="cannot write"
    )
    targets = tmp_path / "t.toml"
    targets.write_text('[[target]]\nname = "a"\nurl = "postgresql://u@127.0.0.1:1/d"\n')
    assert_one_line(
        run_advisor("probe", "--targets", str(targets), "--output", str(blocker / "dir")),
        text="cannot create",
    )


def test_report_output_to_a_directory(tmp_path):
    report = tmp_path / "r.json"
    run_advisor("lint", URL, "--format", "json", "--output", str(report))
    assert_one_line(
        run_advisor("report", str(report), "--format", "markdown", "--output", str(tmp_path)),
        text="Is a directory",
    )


# --------------------------------------------------------------------------- files


def _env_file(path: Path) -> list[str]:
    path.write_bytes(b"DATABASE_URL=postgresql://app:" + PASSWORD.encode() + b"\xff\xfe@db/app\n")
    return ["lint", "--env-file", str(path)]


def _schema(path: Path) -> list[str]:
    path.write_bytes(b'datasource db {\n  provider = "postgresql"\n  url = env("DB\xe9")\n}\n')
    return ["lint", "--prisma-schema", str(path)]


def _targets(path: Path) -> list[str]:
    path.write_bytes(b'[[target]]\nname = "caf\xe9"\nurl = "postgresql://u@127.0.0.1:1/d"\n')
    return ["probe", "--targets", str(path)]


@pytest.mark.parametrize("make", [_env_file, _schema, _targets], ids=["env", "schema", "targets"])
def test_files_that_are_not_utf8(tmp_path, make):
    assert_one_line(run_advisor(*make(tmp_path / "input")), text="UTF-8")


@pytest.mark.parametrize("flag", ["--env-file", "--prisma-schema", "--targets", "report"])
def test_a_fifo_is_refused_not_read(tmp_path, flag):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # nobody ever writes: reading it would wait for ever
    argv = (
        ["report", str(fifo)]
        if flag == "report"
        else ["probe" if flag == "--targets" else "lint", flag, str(fifo)]
    )
    assert_one_line(run_advisor(*argv, timeout=20), text="not a regular file")


def test_deeply_nested_toml_and_json(tmp_path):
    toml = tmp_path / "t.toml"
    toml.write_text(
        '[[target]]\nname = "a"\nurl = "postgresql://u@127.0.0.1:1/d"\nx = '
        + "[" * 5000
        + "]" * 5000
        + "\n"
    )
    assert_one_line(run_advisor("probe", "--targets", str(toml)), text="nested too deeply")
    report = tmp_path / "r.json"
    report.write_text("[" * 100_000 + "]" * 100_000)
    assert_one_line(run_advisor("report", str(report)), text="nested too deeply")


@pytest.mark.parametrize(
    "entry, text",
    [
        ("thresholds = [1, 2]", "thresholds must be a table"),
        ("timeout = inf", "timeout must be"),
        ("timeout = nan", "timeout must be"),
        ("timeout = true", "timeout must be"),
        ("concurrency = true", "concurrency must be"),
        ('label = ["x"]', "label must be a string"),
        ("url_env = 5", "url_env must be"),
        (f'url_env = "{URL}"', "url_env must be"),  # a URL where its variable's name goes
    ],
)
def test_targets_file_wrong_types(tmp_path, entry, text):
    targets = tmp_path / "t.toml"
    targets.write_text(
        f'[[target]]\nname = "a"\n{entry}\n'
        if entry.startswith("url_env")
        else f'[[target]]\nname = "a"\nurl = "{CLOSED}"\n{entry}\n'
    )
    assert_one_line(run_advisor("probe", "--targets", str(targets), timeout=30), text=text)


# --------------------------------------------------------------------------- schema.prisma


def test_prisma_schema_parse_is_linear(tmp_path):
    """Shapes that made the old regexes quadratic: many unclosed blocks, a block of blank
    lines. 480 KB each; a linear scan takes well under a second (the bound is generous)."""
    unclosed = tmp_path / "unclosed.prisma"
    unclosed.write_text("datasource a {\n" * 32_000)
    assert_one_line(
        run_advisor("lint", "--prisma-schema", str(unclosed), timeout=30), text="no url"
    )
    blank = tmp_path / "blank.prisma"
    blank.write_text(
        'datasource db {\n  provider = "postgresql"\n'
        + " \n" * 240_000
        + '  url = env("BIG_URL")\n}\n'
    )
    r = run_advisor(
        "lint", "--prisma-schema", str(blank), "--format", "json", timeout=30, env={"BIG_URL": URL}
    )
    assert r.returncode in (0, 1), r.stderr
    assert json.loads(r.stdout)["facts"]["url"]["source"] == "BIG_URL"


SCHEMA_WITH_COMMENTS = r"""// url = env("TOP_COMMENT")
generator client {
  provider = "prisma-client-js" // {  an unbalanced brace in a comment
}

/// The database. url = env("DOC_COMMENT")
datasource db { // url = env("AFTER_BRACE")
  provider = "postgresql"
  // a brace in a comment does not close the block }
  // url = env("COMMENTED_OUT")
  /// url = env("DOC_COMMENTED_OUT")
  url       = env("REAL_URL") // the one in use; not env("TRAILING")
  directUrl = env( "REAL_DIRECT" )
  relationMode = "prisma // not a comment"
}
"""


def test_prisma_schema_naming_a_url_as_its_variable(tmp_path):
    schema = tmp_path / "schema.prisma"
    schema.write_text(f'datasource db {{\n  url = env("{URL}")\n}}\n')
    assert_one_line(run_advisor("lint", "--prisma-schema", str(schema)), text="is not set")


def test_prisma_schema_comments_are_ignored(tmp_path):
    schema = tmp_path / "schema.prisma"
    schema.write_text(SCHEMA_WITH_COMMENTS.replace("\n", "\r\n"))  # Windows line ends too
    decoy = "postgresql://app:decoy@db.example.com/app"
    env = {
        "REAL_URL": URL,
        "REAL_DIRECT": URL.replace("/app", "/direct"),
        **dict.fromkeys(
            (
                "TOP_COMMENT",
                "DOC_COMMENT",
                "AFTER_BRACE",
                "COMMENTED_OUT",
                "DOC_COMMENTED_OUT",
                "TRAILING",
            ),
            decoy,
        ),
    }
    r = run_advisor("lint", "--prisma-schema", str(schema), "--format", "json", env=env)
    assert r.returncode in (0, 1), r.stderr
    facts = json.loads(r.stdout)["facts"]
    assert facts["url"]["source"] == "REAL_URL"
    assert facts["direct_url"]["source"] == "REAL_DIRECT"
    only_comments = tmp_path / "commented.prisma"
    only_comments.write_text(
        'datasource db {\n  provider = "postgresql"\n  // url = env("COMMENTED_OUT")\n}\n'
    )
    assert_one_line(
        run_advisor("lint", "--prisma-schema", str(only_comments), env=env), text="has no url"
    )


# --------------------------------------------------------------------------- the cache


def _intact(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.json"))}


CORRUPT = {
    "empty list": b"[]",
    "wrong shape": b'{"PG101": 5}',
    "null": b"null",
    "truncated": None,  # the first half of the real entry
    "not utf-8": b"\xff\xfe\x00garbage",
    "deep": b"[" * 100_000 + b"]" * 100_000,
    "fifo": None,
}


@pytest.mark.parametrize("kind", list(CORRUPT))
def test_a_corrupt_cache_entry_is_ignored_and_rewritten(tmp_path, kind):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    folder = tmp_path / "cache" / "pooling-advisor"
    clean = run_advisor("lint", URL, "--format", "json", env=env)
    assert clean.returncode in (0, 1), clean.stderr
    good = _intact(folder)
    assert good, "the first run writes the cache"
    for name, content in good.items():
        path = folder / name
        path.unlink()
        if kind == "fifo":
            os.mkfifo(path)
        else:
            path.write_bytes(
                content[: len(content) // 2] if CORRUPT[kind] is None else CORRUPT[kind]
            )
    r = run_advisor("lint", URL, "--format", "json", env=env, timeout=30)
    assert r.returncode == clean.returncode, r.stderr
    assert (
        r.stderr == "" and json.loads(r.stdout)["findings"] == json.loads(clean.stdout)["findings"]
    )
    assert _intact(folder) == good  # written again, as the first run wrote it


# --------------------------------------------------------------------------- Ctrl-C

# A sitecustomize for the child: sends the child a real SIGINT the moment a given module
# starts to import (SIGINT_AT_IMPORT), or writes a byte to a pipe when the advisor's own
# modules start to load (READY_FD), so the test can time its SIGINT from there and not
# from the interpreter's own start-up, which is CPython's and not the advisor's.
SITECUSTOMIZE = """
import os, signal, sys

class _Hook:
    def find_spec(self, name, path=None, target=None):
        if name == os.environ.get("SIGINT_AT_IMPORT"):
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        elif name == "advisor.cli" and os.environ.get("READY_FD"):
            sys.meta_path.remove(self)
            os.write(int(os.environ["READY_FD"]), b"r")
        return None

sys.meta_path.insert(0, _Hook())
"""


@pytest.fixture
def hook_env(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    }


MODULE = [sys.executable, "-m", "advisor"]
SCRIPT = [str(Path(sys.executable).parent / "advisor")]


@pytest.mark.parametrize(
    "command, module",
    [
        (MODULE, "advisor.cli"),
        (MODULE, "argparse"),
        (MODULE, "advisor.commands"),
        (MODULE, "advisor.checks"),
        (MODULE, "advisor.target"),
        (MODULE, "advisor.log"),
        (SCRIPT, "argparse"),
        (SCRIPT, "advisor.commands"),
    ],
    ids=lambda v: v if isinstance(v, str) else Path(v[-1]).name,
)
def test_ctrl_c_while_modules_import(hook_env, command, module):
    env = {**os.environ, **hook_env, "SIGINT_AT_IMPORT": module}
    r = subprocess.run(
        [*command, "lint", URL], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60
    )
    assert "Traceback" not in r.stderr, r.stderr[-3000:]
    assert (r.returncode, r.stderr) == (130, "advisor: interrupted\n")
    assert r.stdout == ""


@pytest.mark.parametrize("delay_ms", [0, 1, 2, 4, 8, 15, 30, 60])
def test_ctrl_c_at_any_moment_of_start_up(hook_env, delay_ms):
    read, write = os.pipe()
    env = {**os.environ, **hook_env, "READY_FD": str(write)}
    child = subprocess.Popen(
        [*MODULE, "lint", URL, "--format", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        pass_fds=(write,),
    )
    os.close(write)
    try:
        assert os.read(read, 1) == b"r"
        time.sleep(delay_ms / 1000)
        try:
            child.send_signal(signal.SIGINT)
        except ProcessLookupError:
            pass
        out, err = child.communicate(timeout=60)
    finally:
        os.close(read)
        child.kill()
    assert "Traceback" not in err, err[-3000:]
    if child.returncode == 130:
        assert err == "advisor: interrupted\n"
    elif child.returncode == -signal.SIGINT:  # after Python's last line: its default handler
        assert err == ""
    else:  # the signal came after the work was done
        assert child.returncode in (0, 1) and err == "", (child.returncode, err)
        assert json.loads(out)["kind"] == "lint"
