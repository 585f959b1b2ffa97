"""psycopg2, a cursor and `commit()` (contract: _common.py).

psycopg2 merges the parameters into the query text on the client and sends it with
libpq's simple query protocol (`PQsendQuery` in `pq_execute`): no prepared statement, so
there is nothing to fix ("default" is the only variant). Source:
https://github.com/psycopg/psycopg2/blob/master/psycopg/pqpath.c
"""

import psycopg2
from _common import SQL_PYFORMAT, check, run, url


def setup():
    return psycopg2.connect(url())


def request(conn, i):
    with conn.cursor() as cur:
        cur.execute(SQL_PYFORMAT, (i,))
        check([row[0] for row in cur.fetchall()], i)
    conn.commit()


run("psycopg2", psycopg2.__version__.split()[0], setup, request, lambda conn: conn.close())
