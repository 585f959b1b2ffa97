"""Fuzzing the whole command line: over 20,000 generated inputs per run, through `main()`.

Where test_fuzz.py fuzzes the URL parser, this module fuzzes what a user hands the CLI:
URLs and keyword strings with hostile passwords, option values, .env files, Prisma
schemas, targets TOML files and report JSON files. For every input, whatever it is:

- the exit code is one of the documented ones (0, 1, 2, 3);
- no exception escapes `main()` and nothing says "internal error";
- an error is one line on stderr;
- no secret shows, raw or encoded, in stdout, stderr or any file written.

The commands run in this process (a subprocess each would take an hour). The only ones
that touch the network are `probe` runs, and those only ever dial 127.0.0.1 on a port
nobody listens on; a guard around the facts modules fails the test if a generated input
ever made the advisor dial anything else. Derandomized: every CI run sees the same inputs.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections import Counter
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor import cli
from advisor.facts import mysql as mysql_facts
from advisor.facts import postgres as pg_facts
from tests.support.servers import free_port

RUNS: Counter = Counter()
BUDGETS: list[int] = []
CLOSED_PORT = free_port()  # nobody listens here: a probe fails fast with "refused"
LOOPBACK = f"127.0.0.1:{CLOSED_PORT}"
MARK = "Qx7Vw"  # in every generated secret: any part of it showing is a leak
EXIT_CODES = {0, 1, 2, 3}
ENV_KEYS = (
    "DATABASE_URL",
    "DIRECT_URL",
    "PGPASSWORD",
    "PGSERVICE",
    "PGSERVICEFILE",
    "PGHOST",
    "PGHOSTADDR",
    "PGPORT",
    "PGPASSFILE",
    "MYSQL_PWD",
    "NO_COLOR",
    "XDG_CACHE_HOME",
)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def fuzz(n: int):
    BUDGETS.append(n)
    return settings(
        max_examples=n,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )


# -- the guard: generated inputs may only ever reach a closed loopback port -----------------

DIALLED: list[str] = []


@pytest.fixture(scope="module", autouse=True)
def loopback_only(tmp_path_factory):
    """Wrap the facts modules' gather(): a target that is not 127.0.0.1 is recorded and
    refused before any socket opens. (Not a stand-in: loopback targets run for real.)"""
    real = {pg_facts: pg_facts.gather, mysql_facts: mysql_facts.gather}

    def guarded(module):
        def gather(target, *args, **kwargs):
            params = target.all_params()
            allowed = (
                target.host in ("127.0.0.1", None)
                or (target.is_socket and target.engine == "postgresql")
            ) and not {"hostaddr", "service"} & set(params)
            if not allowed:
                DIALLED.append(f"{target.engine} {target.host!r}")
                from advisor.errors import ProbeFailed

                raise ProbeFailed("refused by the fuzz guard", kind="unreachable")
            return real[module](target, *args, **kwargs)

        return gather

    saved_env = {k: os.environ.get(k) for k in ENV_KEYS}
    for key in ENV_KEYS:
        os.environ.pop(key, None)
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    os.environ["PGSERVICEFILE"] = os.devnull  # no service file of this machine's
    os.environ["PGPASSFILE"] = os.devnull
    for module in real:
        module.gather = guarded(module)
    yield
    for module, function in real.items():
        module.gather = function
    for key, value in saved_env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    assert not DIALLED, f"generated inputs dialled non-loopback hosts: {DIALLED[:5]}"


# -- running the CLI -------------------------------------------------------------------------


def invoke(argv: list[str], env: dict | None = None) -> tuple[int, str, str]:
    """main(argv) with these environment variables; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = cli.main(argv)
            except SystemExit as exc:  # argparse's exits: --help, usage errors
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return code, out.getvalue(), err.getvalue()


def forms(secret: str) -> set[str]:
    import html

    found = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        secret.replace("\\", "\\\\").replace("'", "\\'"),
        json.dumps(secret)[1:-1],
    }
    found |= {html.escape(f) for f in found}
    return {f for f in found if len(f) >= 4}


def check_run(argv, env=None, secrets=(), files=(), one_line_errors=True) -> tuple[int, str, str]:
    code, out, err = invoke(argv, env)
    assert code in EXIT_CODES, (code, argv, err)
    assert "Traceback" not in err and "internal error" not in err, err
    verbose = any(a in ("--verbose", "--debug") or a.startswith(("--verb", "--deb")) for a in argv)
    if one_line_errors and not verbose:
        lines = [
            line
            for line in err.splitlines()
            if line.strip()
            and not line.startswith("advisor: ")
            or line.startswith("advisor: error")
        ]
        if code == 2:
            assert len(err.strip().splitlines()) == 1, err
        else:
            assert len(lines) <= 1, err
    written = "".join(
        Path(f).read_text(encoding="utf-8", errors="replace") for f in files if Path(f).is_file()
    )
    everything = out + err + written
    for secret in secrets:
        for form in forms(secret):
            assert form not in everything, (form, argv, everything[:2000])
        assert MARK not in everything, (secret, argv, everything[:2000])
    return code, out, err


# -- strategies: secrets and URLs ------------------------------------------------------------

# Passwords people really have: punctuation that means something in a URL, digits first.
HOSTILE = "?/#@:&=%+ ;,'\"\\[]$!*()~0123456789"
SECRET = st.builds(
    lambda a, b: a + MARK + b,
    st.text(st.sampled_from(HOSTILE + "abcXYZ"), max_size=6),
    st.text(st.sampled_from(HOSTILE + "abcXYZé🔑"), max_size=6),
)
WORD = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789-_."), min_size=1, max_size=10)
SCHEME = st.sampled_from(
    [
        "postgresql",
        "postgres",
        "mysql",
        "mariadb",
        "postgresql+psycopg",
        "postgresql+asyncpg",
        "mysql+pymysql",
    ]
)
SEPARATOR = st.sampled_from(["://", "://", "://", ":/", ":", "//", ":///", "://@"])
HOST = st.sampled_from(
    [
        "127.0.0.1",
        "localhost",
        "db.example.com",
        "[::1]",
        "ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech",
        "aws-0-eu-central-1.pooler.supabase.com",
        "",
    ]
)
PORT = st.sampled_from(["", ":5432", ":6543", ":3306", ":0", ":65536", ":54x", ":"])
PARAMS = st.lists(
    st.sampled_from(
        [
            "sslmode=require",
            "sslmode=verify-full",
            "pgbouncer=true",
            "connection_limit=1",
            "ssl-mode=REQUIRED",
            "application_name=x",
            "options=-c%20search_path%3Dx",
            "schema=public",
            "bogus=1",
        ]
    ),
    max_size=3,
)


def encode(text: str, how: int) -> str:
    return [text, quote(text, safe=""), quote(text, safe="?/:@&=+$,")][how]


@st.composite
def url_with_secret(draw):
    """A URL whose password is a generated secret, written the ways people write them."""
    secret = draw(SECRET)
    how = draw(st.integers(0, 2))
    user = draw(WORD)
    params = draw(PARAMS)
    style = draw(st.integers(0, 3))
    host, port, db = draw(HOST), draw(PORT), draw(st.one_of(st.just(""), WORD))
    if style == 0:  # in the userinfo
        base = f"{draw(SCHEME)}{draw(SEPARATOR)}{user}:{encode(secret, how)}@{host}{port}/{db}"
    elif style == 1:  # as ?password=
        params = params + [f"password={encode(secret, how)}"]
        base = f"{draw(SCHEME)}{draw(SEPARATOR)}{user}@{host}{port}/{db}"
    elif style == 2:  # a secret-looking parameter of another client
        params = params + [
            f"{draw(st.sampled_from(['sslpassword', 'api_key', 'token']))}={encode(secret, how)}"
        ]
        base = f"{draw(SCHEME)}{draw(SEPARATOR)}{user}@{host}{port}/{db}"
    else:  # no '@' where one belongs, or one too many
        base = f"{draw(SCHEME)}{draw(SEPARATOR)}{user}:{encode(secret, how)}{draw(st.sampled_from(['', '@', '@@']))}{host}{port}/{db}"
    order = draw(st.permutations(params)) if params else []
    return base + ("?" + "&".join(order) if order else ""), secret


@st.composite
def keyword_with_secret(draw):
    secret = draw(SECRET)
    quoted = draw(st.integers(0, 2))
    if quoted == 0:
        value = "'" + secret.replace("\\", "\\\\").replace("'", "\\'") + "'"
    elif quoted == 1:
        value = re.sub(r"[\s'\\]", "", secret)
        secret = value
    else:
        value = secret
    pairs = [
        f"host={draw(st.sampled_from(['127.0.0.1', 'db.example.com', '/tmp']))}",
        f"password{draw(st.sampled_from(['=', ' = ', '=']))}{value}",
        f"dbname={draw(WORD)}",
        f"user={draw(WORD)}",
    ]
    extra = draw(
        st.lists(
            st.sampled_from(
                [
                    "sslmode=require",
                    "port=5432",
                    "port=x",
                    "application_name='a b'",
                    "bogus=1",
                    "sslmode=nope",
                ]
            ),
            max_size=2,
        )
    )
    return " ".join(draw(st.permutations(pairs + extra))), secret


# -- 1. lint: URLs and keyword strings -------------------------------------------------------


@fuzz(5000)
@given(url_with_secret(), st.sampled_from(["text", "json", "markdown", "junit"]))
def test_lint_urls_with_hostile_passwords(case, fmt):
    RUNS["lint-url"] += 1
    url, secret = case
    check_run(["lint", url, "--format", fmt], secrets=[secret])


@fuzz(2000)
@given(keyword_with_secret(), st.sampled_from(["text", "json", "markdown"]))
def test_lint_keyword_strings(case, fmt):
    RUNS["lint-keywords"] += 1
    dsn, secret = case
    check_run(["lint", dsn, "--format", fmt], secrets=[secret])


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Relative --output paths land here, not in the checkout."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- 2. option values ------------------------------------------------------------------------

NASTY_VALUE = st.one_of(
    st.sampled_from(
        [
            "",
            "-",
            "--",
            "inf",
            "-inf",
            "nan",
            "1e308",
            "1e-308",
            "0",
            "-1",
            "0.001",
            "999999999999999999999",
            "1_000",
            "0x10",
            "٣",
            "text",
            "json",
            "PG101",
            "PG101.warn_below_percent=30",
            "PG101.x=1",
            "URL202.=",
            "=",
            "a=b=c",
            "<script>",
            "\x1b[31m",
            "/dev/full",
            "/nonexistent/dir/x.json",
            ".",
            "out/",
            "a/b.json",
        ]
    ),
    st.text(max_size=12),
)
OPTION = st.sampled_from(
    [
        "--format",
        "--timeout",
        "--threshold",
        "--label",
        "--orm",
        "--prisma-version",
        "--concurrency",
        "--pool-size",
        "--jobs",
        "--output",
        "--strict",
        "--no-color",
        "--serverless",
        "--no-serverless",
        "--direct-url",
        "--env-file",
        "--prisma-schema",
        "--d",
        "--t",
        "-x",
        "--bogus",
        "--format=",
        "--timeout=",
    ]
)


@st.composite
def argv_with_secret(draw, command: str):
    secret = draw(SECRET)
    url = f"postgresql://app:{quote(secret, safe='')}@{LOOPBACK}/app"
    args: list[str] = [command]
    for _ in range(draw(st.integers(0, 4))):
        option = draw(OPTION)
        if option.endswith("="):
            args.append(option + draw(st.one_of(NASTY_VALUE, st.just(url))))
        elif option in ("--strict", "--no-color", "--serverless", "--no-serverless"):
            args.append(option)
        else:
            args += [option, draw(st.one_of(NASTY_VALUE, st.just(url)))]
    for i, arg in enumerate(args):  # an --output path stays in the test's folder (or /dev/full)
        if arg.startswith("--output="):
            prefix, value = "--output=", arg[len("--output=") :]
        elif i > 0 and args[i - 1] == "--output":
            prefix, value = "", arg
        else:
            continue
        if value.startswith("/") and value not in ("/dev/full", "/nonexistent/dir/x.json"):
            args[i] = prefix + value.lstrip("/")
    position = draw(st.integers(0, len(args)))
    copies = draw(st.sampled_from([1, 1, 1, 2]))  # two positional URLs, a classic slip
    for _ in range(copies):
        args.insert(max(1, position), draw(st.sampled_from([url, url, "-" + url, "--d=" + url])))
    return args, secret


@fuzz(2000)
@given(case=argv_with_secret("lint"))
def test_lint_option_values(case, workdir):
    RUNS["lint-options"] += 1
    argv, secret = case
    outputs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--output"]
    check_run(argv, secrets=[secret], files=[workdir / o for o in outputs])


@fuzz(1000)
@given(case=argv_with_secret("probe"))
def test_probe_option_values(case, workdir):
    """Probes only ever reach the closed loopback port (the guard checks every target)."""
    RUNS["probe-options"] += 1
    argv, secret = case
    outputs = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--output"]
    check_run(argv, secrets=[secret], files=[workdir / o for o in outputs])


# -- 3. files: .env, schema.prisma, targets TOML --------------------------------------------

ENV_LINE = st.one_of(
    st.builds(
        lambda key, url, q: f"{key}={q}{url}{q}",
        st.sampled_from(
            ["DATABASE_URL", "DIRECT_URL", "export DATABASE_URL", "DB", " DATABASE_URL "]
        ),
        st.just("URL"),
        st.sampled_from(["", "'", '"', "`"]),
    ),
    st.sampled_from(
        [
            "# comment",
            "",
            "=",
            "A",
            "A=",
            "A='unterminated",
            'B="multi\nline"',
            "C=${DATABASE_URL}",
            "export",
            "\\",
            "DATABASE_URL=",
            "DATABASE_URL",
        ]
    ),
    st.text(max_size=20),
)


@st.composite
def env_file(draw):
    secret = draw(SECRET)
    url = f"postgresql://app:{encode(secret, draw(st.integers(0, 2)))}@db.example.com/app?sslmode=require"
    lines = [line.replace("URL", url) for line in draw(st.lists(ENV_LINE, min_size=1, max_size=6))]
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    data = text.encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):  # not UTF-8 at all, or a stray byte
        data = draw(st.binary(max_size=8)) + data.replace(b"=", b"=\xff", draw(st.integers(0, 1)))
    return data, secret


@fuzz(3000)
@given(env_file(), st.sampled_from(["text", "json", "markdown"]))
def test_env_files(tmp_path, case, fmt):
    RUNS["env"] += 1
    data, secret = case
    path = tmp_path / f"fuzz-{RUNS['env']}.env"
    path.write_bytes(data)
    check_run(["lint", "--env-file", str(path), "--format", fmt], secrets=[secret])


SCHEMA_PIECE = st.one_of(
    st.sampled_from(
        [
            'datasource db {\n  provider = "postgresql"\n  url = env("DATABASE_URL")\n}\n',
            'datasource db {\n  provider = "postgresql"\n  url      = env("POOLED")\n  directUrl = env("DIRECT")\n}\n',
            '// url = env("COMMENTED")\n',
            "/// doc comment\n",
            "/* block */\n",
            "datasource db {",
            "}",
            'url = env("X")\n',
            'url = env("',
            'generator client {\n provider = "prisma-client-js"\n}\n',
            "model User {\n  id Int @id\n}\n",
            'datasource db { url = "postgresql://x" }\n',
            'datasource db {\n  // url = env("NOPE")\n  url = env("DATABASE_URL")\n}\n',
        ]
    ),
    st.text(max_size=30),
)


@st.composite
def prisma_schema(draw):
    pieces = draw(st.lists(SCHEMA_PIECE, min_size=1, max_size=6))
    text = "".join(pieces) * draw(st.sampled_from([1, 1, 1, 50]))
    data = text.encode("utf-8", errors="surrogatepass")
    if draw(st.integers(0, 5)) == 0:
        data = data + b"\xc3\x28" + draw(st.binary(max_size=6))
    return data


@fuzz(2500)
@given(prisma_schema(), SECRET)
def test_prisma_schemas(tmp_path, data, secret):
    RUNS["schema"] += 1
    path = tmp_path / f"fuzz-{RUNS['schema']}.prisma"
    path.write_bytes(data)
    url = f"postgresql://app:{quote(secret, safe='')}@db.example.com/app"
    env = dict.fromkeys(("DATABASE_URL", "POOLED", "DIRECT", "X", "COMMENTED", "NOPE"), url)
    check_run(["lint", "--prisma-schema", str(path)], env=env, secrets=[secret])


TOML_KEY = st.sampled_from(
    [
        "name",
        "url",
        "url_env",
        "direct_url",
        "pooler_admin_url",
        "label",
        "orm",
        "prisma_version",
        "serverless",
        "timeout",
        "concurrency",
        "pool_size",
        "thresholds",
        "bogus",
    ]
)
TOML_VALUE = st.recursive(
    st.one_of(
        st.sampled_from(
            [
                '"URL"',
                '"a"',
                '""',
                '"DATABASE_URL"',
                "1",
                "0",
                "-1",
                "1e308",
                "inf",
                "nan",
                "true",
                "false",
                '"prisma"',
                '"<script>"',
                '"\\u001b[31m"',
                "1979-05-27",
            ]
        ),
        st.integers(-10, 10).map(str),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda v: "[" + ", ".join(v) + "]"),
        st.lists(st.tuples(TOML_KEY, inner), max_size=2).map(
            lambda kv: "{" + ", ".join(f"{k} = {v}" for k, v in kv) + "}"
        ),
    ),
    max_leaves=6,
)


@st.composite
def targets_toml(draw):
    secret = draw(SECRET)
    url = f'"postgresql://app:{quote(secret, safe="")}@{LOOPBACK}/app"'
    tables = []
    for _ in range(draw(st.integers(0, 3))):
        rows = [
            f"{k} = {v}" for k, v in draw(st.lists(st.tuples(TOML_KEY, TOML_VALUE), max_size=5))
        ]
        if draw(st.booleans()):
            rows = [f'name = "{draw(WORD)}"', f"url = {url}"] + rows
        tables.append(
            draw(st.sampled_from(["[[target]]", "[target]", "[[targets]]", "[[target]]"]))
            + "\n"
            + "\n".join(rows)
        )
    text = "\n\n".join(tables).replace('"URL"', url)
    data = text.encode()
    trick = draw(st.integers(0, 7))
    if trick == 0:
        data = b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n" + data  # deep nesting
    elif trick == 1:
        data = data + b'\nname = "\xff\xfe"\n'  # not UTF-8
    elif trick == 2:
        data = data[: draw(st.integers(0, max(0, len(data))))]  # cut anywhere
    return data, secret


@fuzz(1500)
@given(targets_toml())
def test_targets_files(tmp_path, case):
    RUNS["toml"] += 1
    data, secret = case
    path = tmp_path / f"fuzz-{RUNS['toml']}.toml"
    path.write_bytes(data)
    out = tmp_path / f"out-{RUNS['toml']}"
    code, _, err = check_run(
        [
            "probe",
            "--targets",
            str(path),
            "--output",
            str(out) + "/",
            "--timeout",
            "2",
            "--jobs",
            "2",
        ],
        secrets=[secret],
        one_line_errors=False,
    )
    written = list(out.glob("*")) if out.is_dir() else []
    for f in written:  # the per-target reports too
        text = f.read_text(encoding="utf-8", errors="replace")
        assert MARK not in text, f
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err


# -- 4. report JSON ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_reports(tmp_path_factory) -> list[dict]:
    """Real reports to start from: lint reports and a failed probe."""
    folder = tmp_path_factory.mktemp("base")
    found = []
    for i, argv in enumerate(
        [
            [
                "lint",
                "postgresql://postgres.abc:pw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres",
                "--orm",
                "prisma",
            ],
            ["lint", "mysql://u:pw@127.0.0.1/shop?ssl-mode=REQUIRED"],
            ["probe", f"postgresql://u:pw@{LOOPBACK}/x", "--timeout", "2"],
        ]
    ):
        path = folder / f"r{i}.json"
        code, _, err = invoke([*argv, "--format", "json", "--output", str(path)])
        assert code in (0, 1, 3), err
        found.append(json.loads(path.read_text()))
    return found


PAYLOAD = st.sampled_from(
    [
        "<script>alert(1)</script>",
        "\x1b[31mRED\x1b]0;t\x07",
        "| a | b |",
        "**x**",
        "`x`",
        "&amp;",
        "\u202e",
        "A" * 5000,
        "",
        " ",
        "\n\n",
        "pass",
        "warn",
        "fail",
        "error",
        "skip",
        "PG101",
    ]
)
ODD = st.one_of(
    PAYLOAD,
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.just([]),
    st.just({}),
    st.lists(PAYLOAD, max_size=2),
    st.dictionaries(PAYLOAD, PAYLOAD, max_size=2),
)


def paths_of(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from paths_of(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from paths_of(v, prefix + (i,))


def put(doc, path, value):
    """`doc` with the value at `path` replaced (or deleted, for DELETE)."""
    if not path:
        return {} if value is DELETE else value
    obj = doc
    for step in path[:-1]:
        obj = obj[step]
    if value is DELETE:
        del obj[path[-1]]
    else:
        obj[path[-1]] = value
    return doc


DELETE = object()


@st.composite
def report_file(draw, bases):
    doc = json.loads(json.dumps(draw(st.sampled_from(bases))))
    for _ in range(draw(st.integers(1, 4))):
        paths = list(paths_of(doc))
        path = draw(st.sampled_from(paths))
        doc = put(doc, path, draw(st.one_of(ODD, st.just(DELETE))))
    text = json.dumps(doc, allow_nan=True) if not isinstance(doc, float) else "NaN"
    trick = draw(st.integers(0, 9))
    if trick == 0:
        text = "[" * 100_000 + "]" * 100_000
    elif trick == 1:
        return text.encode()[: draw(st.integers(0, len(text)))] + b"\xff"
    elif trick == 2:
        text = text.replace('"findings"', '"findings": 1, "x"', 1)
    return text.encode()


@fuzz(3000)
@given(data=st.data())
def test_report_files(tmp_path, base_reports, data):
    RUNS["report"] += 1
    blob = data.draw(report_file(base_reports))
    fmt = data.draw(st.sampled_from(["text", "json", "markdown", "junit"]))
    path = tmp_path / f"fuzz-{RUNS['report']}.json"
    path.write_bytes(blob)
    code, out, err = check_run(["report", str(path), "--format", fmt])
    if code != 2 and fmt in ("text", "markdown"):
        assert not CONTROL.search(out.replace("\n", "")), repr(out[:500])
        assert "<script" not in out or fmt == "text", out[:500]


def test_at_least_20000_generated_inputs():
    generated = sum(RUNS.values())
    if len(RUNS) == 9:
        assert generated >= 20_000, RUNS
    else:  # only part of the module ran: the budgets still promise 20,000 for a full run
        assert sum(BUDGETS) >= 20_000, BUDGETS
