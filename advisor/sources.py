"""Where users keep their URLs: the argument, the environment, a .env file, a Prisma schema."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError

_ENV_CALL = re.compile(r'^\s*(url|directUrl)\s*=\s*env\(\s*"([^"]+)"\s*\)', re.MULTILINE)
_DATASOURCE = re.compile(r"datasource\s+\w+\s*\{(.*?)\}", re.DOTALL)


@dataclass
class URLs:
    url: str | None
    direct_url: str | None
    source: str            # where the main URL came from: "argument", "DATABASE_URL", ...
    direct_source: str | None = None


def prisma_env_names(schema_path: str) -> tuple[str | None, str | None]:
    """The env variable names a schema.prisma datasource uses for url and directUrl."""
    try:
        text = Path(schema_path).read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read Prisma schema {schema_path}: {exc.strerror}") from None
    block = _DATASOURCE.search(text)
    if not block:
        raise UsageError(f"no datasource block in {schema_path}")
    names = dict((k, v) for k, v in _ENV_CALL.findall(block.group(1)))
    return names.get("url"), names.get("directUrl")


def resolve_urls(url: str | None, direct_url: str | None, env_file: str | None,
                 prisma_schema: str | None) -> URLs:
    url_var, direct_var = "DATABASE_URL", "DIRECT_URL"
    if prisma_schema:
        found_url, found_direct = prisma_env_names(prisma_schema)
        if not found_url and not url:
            raise UsageError(f"{prisma_schema} has no url = env(\"...\") in its datasource "
                             "(Prisma 7 keeps it in prisma.config.ts): pass the URL instead")
        url_var = found_url or url_var
        direct_var = found_direct or direct_var
    env: dict = {}
    where = "environment"
    if env_file:
        from dotenv import dotenv_values
        if not Path(env_file).is_file():
            raise UsageError(f"no such env file: {env_file}")
        env = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
        where = env_file

    def lookup(name: str):
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
            raise UsageError(f"no URL given and {url_var} is not set")
    direct_source = "argument" if direct_url else None
    if direct_url is None:
        direct_url, direct_source = lookup(direct_var)
    return URLs(url=url, direct_url=direct_url, source=source, direct_source=direct_source)
