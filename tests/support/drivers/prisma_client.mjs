// Prisma 7 with the `pg` driver adapter (`@prisma/adapter-pg`) (contract: _common.mjs).
// The client is generated from prisma/schema.prisma first (tests/test_driver_matrix.py does
// it, offline).
//
// Default: the adapter sends each query through node-postgres with no statement name
// (`performIO()`: `name: this.pgOptions?.statementNameGenerator?.(query)`, undefined unless
// the user passes `statementNameGenerator`), so nothing outlives a query. Nothing to fix
// ("default" is the only variant). Source:
// https://github.com/prisma/prisma/blob/main/packages/adapter-pg/src/pg.ts
import { PrismaPg } from '@prisma/adapter-pg'
import prismaClient from '@prisma/client'
import { LIMIT, check, run, url, versionOf } from './_common.mjs'

const { PrismaClient } = prismaClient

await run(
  'prisma',
  `${versionOf('@prisma/client')} (@prisma/adapter-pg ${versionOf('@prisma/adapter-pg')}, pg ${versionOf('pg')})`,
  async () => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url() }) })
    await prisma.$connect()
    return prisma
  },
  async (prisma, i) => {
    const items = await prisma.item.findMany({ where: { id: { gt: i } }, orderBy: { id: 'asc' }, take: LIMIT })
    check(items.map((item) => item.id), i)
    const [count] = await prisma.$transaction([prisma.item.count(), prisma.item.findFirst({ where: { id: i + 1 } })])
    if (count !== 50) throw new Error(`wrong result: count ${count}, expected 50`)
  },
  async (prisma) => prisma.$disconnect(),
)
