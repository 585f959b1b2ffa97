"""Where users keep their URLs: the argument, the environment, a .env file, a Prisma schema.

Also the one way the advisor reads a file a user named (read_input): only regular files,
so a FIFO or a device can neither hang the run nor feed it without end.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .errors import UsageError

# A file name as the user gave it (str), or a Path.
PathArg = str | os.PathLike[str]

MAX_INPUT_BYTES = 64 * 1024 * 1024
ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,127}"  # what a message may echo as a variable's name


@dataclass
class URLs:
    url: str | None
    direct_url: str | None
    source: str  # where the main URL came from: "argument", "DATABASE_URL", ...
    direct_source: str | None = None


def read_input(path: PathArg, what: str) -> bytes:
    """The bytes of a regular file; UsageError (one line, the name, never the content)."""
    try:  # O_NONBLOCK: opening a FIFO must not wait for a writer (no effect on files)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    except ValueError:  # a NUL in the name
        raise UsageError(f"cannot read {what}: the file name contains a NUL character") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"{what} {path} is not a regular file")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_INPUT_BYTES:
                raise UsageError(f"{what} {path} is larger than {MAX_INPUT_BYTES >> 20} MB")
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror}") from None
    finally:
        os.close(fd)


def read_text_input(path: PathArg, what: str) -> str:
    """read_input() decoded as UTF-8 (a BOM is dropped)."""
    try:
        return read_input(path, what).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} {path} is not UTF-8 text (byte {exc.start})") from None


def write_output(path: PathArg, text: str) -> None:
    """Write an --output file (creating its folder); UsageError names the file on failure."""
    from pathlib import Path

    out = Path(path)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)  # close() flushes: a full disk fails here, inside the try
    except (FileExistsError, NotADirectoryError):  # mkdir, or open, met a file on the way
        raise UsageError(
            f"cannot write {path}: a part of its path is a file, not a directory"
        ) from None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or type(exc).__name__}") from None


def read_env_file(path: str) -> dict[str, Any]:
    """The variables of a dotenv file (python-dotenv's rules), values None dropped."""
    import io

    from dotenv import dotenv_values

    if not os.path.exists(path):
        raise UsageError(f"no such env file: {path}")
    text = read_text_input(path, "env file")
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


# --------------------------------------------------------------------------- schema.prisma

# One token per match, each alternative linear and tried at most once per position, so the
# scan is O(n) whatever the file holds. The grammar is Prisma's own (prisma-engines,
# psl/schema-ast/src/parser/datamodel.pest): `//` and `///` comments run to the end of the
# line (there are no block comments), strings are JSON strings on one line, and a line
# break is \n, \r\n or \r. An unterminated string runs to the end of its line.
_TOKEN = r"""(?x)
    (?P<comment>//[^\r\n]*)
  | (?P<string>"(?:[^"\\\r\n]|\\[^\r\n])*"?)
  | (?P<word>[A-Za-z0-9_][A-Za-z0-9_-]*)
  | (?P<newline>\r\n|\r|\n)
  | (?P<space>[^\S\r\n]+)
  | (?P<other>.)
"""  # compiled on first use: most runs never read a schema


def _statements(text: str) -> Iterator[tuple[int, list[tuple[str | None, str]]]]:
    """(line number, significant tokens) for each line: comments and spaces left out."""
    line = 1
    tokens: list[tuple[str | None, str]] = []
    for m in re.finditer(_TOKEN, text):
        kind = m.lastgroup
        if kind == "newline":
            yield line, tokens
            line, tokens = line + 1, []
        elif kind not in ("comment", "space"):
            tokens.append((kind, m.group()))
    yield line, tokens


def _string_value(token: str) -> str | None:
    import json

    try:
        value = json.loads(token)
    except ValueError:  # unterminated, or a bad escape: Prisma rejects the schema too
        return None
    return value if isinstance(value, str) and value else None


def parse_prisma_datasource(text: str) -> tuple[bool, dict[str, Any]]:
    """(a datasource block was found, {"url"/"directUrl": env variable name}).

    Only `key = env("NAME")` lines of the first datasource block count; like Prisma, the
    rest of the line after the block's `{` is ignored, and so is everything commented out.
    """
    depth, inside, found = 0, False, False
    names: dict[str, Any] = {}
    for _, tokens in _statements(text):
        values = [v for _, v in tokens]
        if inside:
            if values[:1] == ["}"]:
                return True, names
            if (
                len(tokens) == 6
                and values[0] in ("url", "directUrl")
                and values[1:4] == ["=", "env", "("]
                and tokens[4][0] == "string"
                and values[5] == ")"
            ):
                name = _string_value(values[4])
                if name is not None:
                    names.setdefault(values[0], name)
            continue
        if (
            depth == 0
            and len(values) >= 3
            and values[0] == "datasource"
            and tokens[1][0] == "word"
            and values[2] == "{"
        ):
            inside = found = True
            continue
        depth = max(0, depth + values.count("{") - values.count("}"))
    return found, names


def prisma_env_names(schema_path: str) -> tuple[str | None, str | None]:
    """The env variable names a schema.prisma datasource uses for url and directUrl."""
    text = read_text_input(schema_path, "Prisma schema")
    found, names = parse_prisma_datasource(text)
    if not found:
        raise UsageError(f"no datasource block in {schema_path}")
    return names.get("url"), names.get("directUrl")


def resolve_urls(
    url: str | None, direct_url: str | None, env_file: str | None, prisma_schema: str | None
) -> URLs:
    url_var, direct_var = "DATABASE_URL", "DIRECT_URL"
    if prisma_schema:
        found_url, found_direct = prisma_env_names(prisma_schema)
        if not found_url and not url:
            raise UsageError(
                f'{prisma_schema} has no url = env("...") in its datasource '
                "(Prisma 7 keeps it in prisma.config.ts): pass the URL instead"
            )
        url_var = found_url or url_var
        direct_var = found_direct or direct_var
    env: dict[str, Any] = {}
    where = "environment"
    if env_file:
        env = read_env_file(env_file)
        where = env_file

    def lookup(name: str) -> tuple[str | None, Any]:  # (value, where it was found)
        if name in env:
            return env[name], f"{name} in {where}"
        if name in os.environ:
            return os.environ[name], name
        return None, None

    if url is not None:
        source = "argument"
    else:
        url, source = lookup(url_var)
        if url is None:
            shown = url_var if re.fullmatch(ENV_NAME, url_var) else "the variable the schema names"
            raise UsageError(f"no URL given and {shown} is not set")
    direct_source = "argument" if direct_url else None
    if direct_url is None:
        direct_url, direct_source = lookup(direct_var)
    return URLs(url=url, direct_url=direct_url, source=source, direct_source=direct_source)
