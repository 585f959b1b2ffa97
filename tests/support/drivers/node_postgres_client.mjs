// node-postgres (`pg`), a `pg.Pool` and `pool.query()` (contract: _common.mjs).
//
// Default: a query with parameters goes through the extended protocol with the unnamed
// statement (`requiresPreparation()` in lib/query.js; the name is empty unless the query
// config has one), so nothing outlives the query and there is nothing to fix. Variant
// "named": the documented opt-in `{name, text, values}`, which pg parses once per
// connection and reuses (`connection.parsedStatements`); its fix is to drop the name.
// Source: https://github.com/brianc/node-postgres/blob/master/packages/pg/lib/query.js
// and https://node-postgres.com/features/queries#prepared-statements
import pg from 'pg'
import { SQL_NUMBERED, check, run, url, variant, versionOf } from './_common.mjs'

const named = variant() === 'named'

await run(
  'node-postgres',
  versionOf('pg'),
  async () => {
    const pool = new pg.Pool({ connectionString: url() })
    await pool.query('SELECT 1')
    return pool
  },
  async (pool, i) => {
    const query = { text: SQL_NUMBERED, values: [i] }
    const result = await pool.query(named ? { name: 'driver-item', ...query } : query)
    check(result.rows.map((row) => row.id), i)
  },
  async (pool) => pool.end(),
)
