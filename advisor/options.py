"""What the command line and a targets file accept, in one place for both (and for the
checks and the catalogs that name an ORM). Plain values: `advisor --help` imports this."""

from __future__ import annotations

import math

# The ORMs and drivers a report can be tailored to (--orm, `orm =` in a targets file).
ORMS = ("prisma", "drizzle", "node-postgres", "django", "sqlalchemy", "rails")
# How pages and tools name them.
ORM_NAMES = {
    "prisma": "Prisma",
    "drizzle": "Drizzle (postgres.js)",
    "node-postgres": "node-postgres",
    "django": "Django",
    "sqlalchemy": "SQLAlchemy",
    "rails": "Rails",
}
# The other ORMs of the stack catalog (catalog/stacks.toml; a test keeps the two lists equal):
# --orm takes them too, for the stack verdicts; the guides and snippets cover ORMS.
STACK_ORMS = ("kysely", "typeorm", "sequelize", "knex", "hibernate", "laravel", "ecto")
ORM_CHOICES = ORMS + STACK_ORMS
# Those that run schema migrations, which want a direct URL (node-postgres is a driver).
MIGRATING_ORMS = tuple(orm for orm in ORM_CHOICES if orm != "node-postgres")
# The session features a stack may rely on (--uses; the stack catalog describes each).
SESSION_FEATURES = (
    "protocol_prepared_statements",
    "sql_prepare",
    "session_set",
    "advisory_lock",
    "listen_notify",
    "with_hold_cursors",
)
# The longest --timeout (and `timeout =`), in seconds.
MAX_TIMEOUT = 3600.0


def valid_timeout(value: float) -> bool:
    """A finite number of seconds, more than 0 and at most MAX_TIMEOUT."""
    return math.isfinite(value) and 0 < value <= MAX_TIMEOUT
