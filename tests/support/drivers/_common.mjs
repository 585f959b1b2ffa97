// What every Node driver program here shares: the same contract as _common.py (read it).
// DATABASE_URL, DRIVER_BARRIER, DRIVER_QUERIES, DRIVER_PAUSE_MS in the environment; the
// variant in argv[2]; one JSON line on stdout.
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'

export const QUERIES = Number(process.env.DRIVER_QUERIES || 12)
const PAUSE = Number(process.env.DRIVER_PAUSE_MS || 20)
// Instance k reads LIMIT 3+k rows and checks them (see _common.py).
export const LIMIT = 3 + Number(process.env.DRIVER_INSTANCE || 0)
export const SQL_NUMBERED = `SELECT id, name FROM driver_item WHERE id > $1 ORDER BY id LIMIT ${LIMIT}`

export function check(ids, i) {
  const expected = Array.from({ length: LIMIT }, (_, k) => i + 1 + k)
  if (ids.length !== LIMIT) {
    // another statement ran under this one's name
    throw new Error(`wrong result: ${ids.length} rows from a query with LIMIT ${LIMIT}`)
  }
  if (ids.map(Number).join() !== expected.join()) {
    throw new Error(`wrong result: ids [${ids.join(', ')}], expected [${expected.join(', ')}]`)
  }
}

export const url = () => process.env.DATABASE_URL
export const variant = () => process.argv[2] || 'default'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// The installed version of an npm package, from its package.json (some packages do not
// export that file, so it is found next to their entry point's node_modules folder).
export function versionOf(name) {
  const require = createRequire(import.meta.url)
  let dir = dirname(require.resolve(name))
  while (!dir.endsWith(join('node_modules', name))) dir = dirname(dir)
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version
}

function oneLine(err) {
  const text = (String(err?.message ?? err).trim().split('\n')[0]) || String(err?.name)
  let password = ''
  try { password = decodeURIComponent(new URL(url()).password) } catch { /* no URL */ }
  return password ? text.split(password).join('***') : text
}

// setup() -> state; request(state, i) per request; teardown(state) at the end.
export async function run(driver, version, setup, request, teardown = async () => {}) {
  const out = { ok: false, error: '', errors: 0, queries: 0, seen: [], driver, version, variant: variant() }
  const failed = (err) => {
    const text = oneLine(err)
    out.errors += 1
    out.error = out.error || text
    if (!out.seen.includes(text) && out.seen.length < 3) out.seen.push(text)
  }
  let state
  try {
    state = await setup()
  } catch (err) {
    failed(err)
    process.stdout.write(JSON.stringify(out) + '\n')
    process.exit(0)
  }
  const barrier = process.env.DRIVER_BARRIER
  if (barrier) {
    closeSync(openSync(join(barrier, `ready-${process.pid}`), 'w'))
    const deadline = Date.now() + 60000
    while (!existsSync(join(barrier, 'go')) && Date.now() < deadline) await sleep(5)
  }
  for (let i = 0; i < QUERIES; i++) {
    try {
      await request(state, i)
    } catch (err) {
      failed(err)
    }
    out.queries += 1
    await sleep(PAUSE)
  }
  try { await teardown(state) } catch { /* a failed close is not the stack's failure */ }
  out.ok = out.errors === 0
  process.stdout.write(JSON.stringify(out) + '\n')
  process.exit(0) // a pool's idle timers must not keep the instance alive
}
