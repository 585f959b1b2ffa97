"""psycopg 3, autocommit, `conn.execute()` (contract: _common.py).

Default: `prepare_threshold = 5`: from the 6th execution of the same query on a
connection, psycopg prepares it as `_pg3_<n>` (numbered per connection from 0) and reuses
it. Fix: `prepare_threshold=None` never prepares. Source:
https://github.com/psycopg/psycopg/blob/master/psycopg/psycopg/_preparing.py
(`PrepareManager`), and https://www.psycopg.org/psycopg3/docs/advanced/prepare.html
"""

import psycopg
from _common import SQL_PYFORMAT, check, run, url, variant

OPTIONS = {"default": {}, "fix": {"prepare_threshold": None}}


def setup():
    return psycopg.connect(url(), autocommit=True, **OPTIONS[variant()])


def request(conn, i):
    check([row[0] for row in conn.execute(SQL_PYFORMAT, (i,))], i)


run("psycopg", psycopg.__version__, setup, request, lambda conn: conn.close())
