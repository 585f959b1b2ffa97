"""asyncpg, plain `connect()` and `fetch()` (contract: _common.py).

Default: a statement cache of 100 (`statement_cache_size=100` in `connect()`), so each
query becomes a named prepared statement `__asyncpg_stmt_<n>__`, numbered per connection
from 1, and is reused in later transactions. Fix: `statement_cache_size=0`, with which
`fetch()` uses the unnamed statement. Source:
https://github.com/MagicStack/asyncpg/blob/master/asyncpg/connection.py (`connect()` and
`_get_statement()`), and its FAQ "Why am I getting prepared statement errors?":
https://magicstack.github.io/asyncpg/current/faq.html
"""

import asyncpg
from _common import SQL_NUMBERED, check, run_async, url, variant

OPTIONS = {"default": {}, "fix": {"statement_cache_size": 0}}


async def setup():
    return await asyncpg.connect(url(), **OPTIONS[variant()])


async def request(conn, i):
    check([row["id"] for row in await conn.fetch(SQL_NUMBERED, i)], i)


async def teardown(conn):
    await conn.close()


run_async("asyncpg", asyncpg.__version__, setup, request, teardown)
