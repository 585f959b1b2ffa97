"""SQLAlchemy 2 with asyncpg (`postgresql+asyncpg://`), `AsyncEngine` (contract: _common.py).

Default: the dialect runs every statement through `asyncpg.Connection.prepare()`, always
a named statement (`__asyncpg_stmt_<n>__`), and keeps them in its own per-connection cache
(`prepared_statement_cache_size=100`), reused in later transactions. asyncpg's own
`statement_cache_size=0` does not change that. Fix, as SQLAlchemy documents it for
PgBouncer: unique names with `prepared_statement_name_func` and `NullPool`, plus
`prepared_statement_cache_size=0` so that no statement outlives its transaction, and
asyncpg's `statement_cache_size=0`. Source:
https://github.com/sqlalchemy/sqlalchemy/blob/main/lib/sqlalchemy/dialects/postgresql/asyncpg.py
(module docs "Prepared Statement Cache", "Prepared Statement Name with PGBouncer", and
`AsyncAdapt_asyncpg_connection._prepare`)
"""

from uuid import uuid4

import asyncpg
import sqlalchemy
from _common import LIMIT, check, run_async, url, variant
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

QUERY = text(f"SELECT id, name FROM driver_item WHERE id > :i ORDER BY id LIMIT {LIMIT}")


def engine():
    base = url().replace("postgresql://", "postgresql+asyncpg://", 1)
    if variant() == "default":
        return create_async_engine(base)
    return create_async_engine(
        base + ("&" if "?" in base else "?") + "prepared_statement_cache_size=0",
        poolclass=NullPool,
        connect_args={
            "statement_cache_size": 0,
            "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
        },
    )


async def setup():
    eng = engine()
    conn = await eng.connect()
    return eng, conn


async def request(state, i):
    conn = state[1]
    try:
        check([row[0] for row in await conn.execute(QUERY, {"i": i})], i)
        await conn.commit()
    except Exception:
        try:
            await conn.rollback()
        except Exception:
            pass  # the original error is the outcome
        raise


async def teardown(state):
    await state[1].close()
    await state[0].dispose()


VERSION = f"{sqlalchemy.__version__} (asyncpg {asyncpg.__version__})"
run_async("sqlalchemy+asyncpg", VERSION, setup, request, teardown)
