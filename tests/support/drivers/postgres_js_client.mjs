// postgres.js (`postgres`), tagged-template queries, in and out of `sql.begin()`
// (contract: _common.mjs).
//
// Default: `prepare: true`: each query becomes a named statement (a random per-connection
// prefix and a counter, so two instances never pick the same name) cached per connection.
// When a cached statement is missing, postgres.js re-prepares and retries the query once
// (`retryRoutines`: FetchPreparedStatement...), which outside a transaction hides the
// problem; inside `sql.begin()` the first error has already aborted the transaction.
// Fix: `prepare: false` (unnamed statements). Source:
// https://github.com/porsager/postgres/blob/master/src/connection.js (`build()`,
// `retryRoutines`, `retry()`) and https://github.com/porsager/postgres#connection-details
import postgres from 'postgres'
import { LIMIT, check, run, url, variant, versionOf } from './_common.mjs'

const options = variant() === 'fix' ? { prepare: false } : {}
// The LIMIT is part of the query text (as in the other programs), not a parameter.
const read = (sql, i) => LIMIT === 3
  ? sql`SELECT id, name FROM driver_item WHERE id > ${i} ORDER BY id LIMIT 3`
  : sql`SELECT id, name FROM driver_item WHERE id > ${i} ORDER BY id LIMIT 4`

await run(
  'postgres.js',
  versionOf('postgres'),
  async () => {
    const sql = postgres(url(), { ...options, onnotice: () => {} })
    await sql`SELECT 1`
    return sql
  },
  async (sql, i) => {
    // One request: a read, then a short transaction with the same query.
    check((await read(sql, i)).map((row) => row.id), i)
    await sql.begin(async (tx) => check((await read(tx, i)).map((row) => row.id), i))
  },
  async (sql) => sql.end({ timeout: 1 }),
)
