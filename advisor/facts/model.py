"""The facts model: the shape of every fact the producers return and the checks read.

Plain TypedDicts, so the facts stay the dicts the JSON report carries
(advisor/schema/report-v1.json) key for key and in the same order: the model adds no
key and no value, it only tells the type checker what is there. A key marked
NotRequired is one a producer leaves out on purpose (PgBouncer's admin console without
--pooler-admin-url, the provider's other endpoints for an unknown host); every other key
is always present, so the checks index it instead of guessing with `.get`.

FACTS_VERSION is the version of this model. The report carries it as `schema_version`
(report.SCHEMA_VERSION is this constant): a change here that changes the JSON needs a new
schema file and a new version, never a silent new shape.

Imports nothing at run time but `typing`: `advisor lint` and the site load this module.
No `from __future__ import annotations`: the annotations are evaluated, so that
`__required_keys__` sees NotRequired (Python 3.11 does not in string annotations).
"""

from typing import Literal, NotRequired, TypedDict, final

FACTS_VERSION = 1

Engine = Literal["postgresql", "mysql"]
PoolMode = Literal["session", "transaction", "statement"]
POOL_MODES: tuple[PoolMode, ...] = ("session", "transaction", "statement")
EndpointRole = Literal["pooled", "direct"]


# -- from the URL alone (urlfacts.py) --------------------------------------------


class HostPort(TypedDict):
    """An endpoint the matched provider serves on this very host."""

    port: int
    role: EndpointRole | None
    pool_mode: PoolMode | None


class OtherEndpoint(TypedDict):
    """Another endpoint of the matched provider, for the same engine."""

    id: str
    role: EndpointRole | None
    port: int | None
    label: str | None
    pool_mode: PoolMode | None


class EndpointFacts(TypedDict):
    """What the provider catalog says about the host and port: one match per target."""

    provider: str | None
    provider_name: str | None
    host_provider: str | None
    endpoint_id: str | None
    label: str | None
    role: EndpointRole | None
    pooler: str | None
    pool_mode: PoolMode | None
    prepared_statements: bool | None
    for_migrations: bool | None
    ipv6_only: bool
    user_regex: str | None
    # Only when a provider matched (by endpoint or by host name).
    host_ports: NotRequired[list[HostPort]]
    other_endpoints: NotRequired[list[OtherEndpoint]]


class URLHost(TypedDict):
    """One host of libpq's multi-host form, with its catalog match."""

    host: str | None
    port: int
    provider_name: str | None
    label: str | None  # the endpoint's label when one matched


class HostAttempt(TypedDict):
    """What the probe saw of one host of a multi-host URL, in libpq's order."""

    host: str | None
    port: int
    result: Literal["answered", "failed", "not tried"]
    error: str | None  # first line of libpq's message (scrubbed) when it failed


class URLFacts(TypedDict):
    form: Literal["url", "keywords"]
    source: str | None
    has_password: bool
    socket: bool
    sslmode: str | None
    params: dict[str, str]  # every parameter, secrets as ***
    client_params: list[str]
    unknown_params: list[str]
    endpoint: EndpointFacts
    hosts: NotRequired[list[URLHost]]  # only for several hosts (host1,host2)


class TargetSummary(TypedDict):
    """The report's `target` object."""

    url: str  # redacted
    engine: Engine
    host: str | None
    port: int
    database: str | None
    provider: str | None


# -- what sits in front of the server (facts/pooler.py, both engines) ------------


class AdminSettings(TypedDict, total=False):
    """SHOW CONFIG values the checks read; a PgBouncer that lacks a setting leaves it out.
    Numbers are ints; anything else stays as the console sent it."""

    pool_mode: int | str | None
    default_pool_size: int | str | None
    min_pool_size: int | str | None
    reserve_pool_size: int | str | None
    max_client_conn: int | str | None
    max_db_connections: int | str | None
    max_user_connections: int | str | None
    max_prepared_statements: int | str | None
    server_round_robin: int | str | None
    query_wait_timeout: int | str | None
    ignore_startup_parameters: int | str | None  # a comma-separated list
    track_extra_parameters: int | str | None  # PgBouncer 1.20+


class AdminPool(TypedDict):
    database: str | None
    user: str | None
    pool_mode: str | None
    cl_waiting: int | str | None


class AdminDatabase(TypedDict):
    name: str | None
    pool_size: int | str | None
    reserve_pool: int | str | None
    max_connections: int | str | None
    pool_mode: str | None


class AdminConsole(TypedDict):
    """PgBouncer's admin console (--pooler-admin-url)."""

    version: str
    version_number: list[int] | None
    settings: AdminSettings
    clients_waiting: int
    clients_active: int
    servers: int
    pools: list[AdminPool]
    databases: list[AdminDatabase]


PGBOUNCER_FAMILY = ("pgbouncer", "azure-pgbouncer", "neon")


def pgbouncer_like(kind: str | None) -> bool:
    """PgBouncer itself or a provider's PgBouncer (Azure's built-in one, Neon's pooler):
    what applies to PgBouncer's settings and versions applies to these too."""
    return kind in PGBOUNCER_FAMILY


class PoolerCandidate(TypedDict):
    kind: str
    why: str


class PoolerFacts(TypedDict):
    detected: bool
    # The most specific name the evidence makes certain (facts/pooler.py name_pooler):
    # pgbouncer, azure-pgbouncer, neon, supavisor, pgcat, pgdog, odyssey, pgpool-ii,
    # rds-proxy, cloud-sql-pooling; MySQL: proxysql, maxscale, rds-proxy, vitess;
    # "unknown" (PostgreSQL) or "proxy" (MySQL) when a pooler answers but is not named.
    kind: str | None
    pool_mode: PoolMode | None
    evidence: list[str]
    identified_by: NotRequired[list[str]]  # the evidence that named `kind`
    candidates: NotRequired[list[PoolerCandidate]]  # when several remain possible
    version: NotRequired[str]  # pgpool-II's SHOW pool_version, or PgBouncer's console
    admin: NotRequired[AdminConsole]  # with --pooler-admin-url, when the console answered
    admin_error: NotRequired[str]  # with --pooler-admin-url, when it did not


# -- TLS and the probe's own bookkeeping -----------------------------------------


class ClientTLS(TypedDict):
    """TLS as the client sees it (both engines)."""

    in_use: bool
    version: str | None
    cipher: str | None
    sslmode: str  # the engine's own word: sslmode or ssl-mode
    verified: bool
    hostname_verified: bool


class MySQLClientTLS(ClientTLS):
    sslmode_source: str  # url, default, or Prisma's sslaccept=strict
    ca: str | None  # the CA file, "system", or None when nothing is verified


class ProbeTimes(TypedDict):
    connections_opened: int
    connect_ms: float
    total_ms: float


@final
class PostgresProbe(ProbeTimes):
    pass


@final
class MySQLProbe(ProbeTimes):
    queries: int


@final
class ProbeError(TypedDict):
    """`probe` when the server could not be probed (exit 3)."""

    error: str
    error_kind: str
    connections_opened: int


# -- PostgreSQL (facts/postgres.py) ----------------------------------------------


class PostgresRole(TypedDict):
    name: str
    connection_limit: int  # -1: none
    connections: int
    superuser: bool


class PostgresDatabase(TypedDict):
    name: str
    connection_limit: int  # -1: none
    connections: int


class PostgresServerTLS(TypedDict):
    """pg_stat_ssl for this session: through a pooler, the pooler-to-server leg."""

    in_use: bool
    version: str | None
    cipher: str | None
    ssl_enabled: bool
    server_addr: str | None  # None: a Unix socket


class PostgresTLS(TypedDict):
    client: ClientTLS
    server: PostgresServerTLS


class PostgresSession(TypedDict):
    backend_pid: int
    startup_pid: int | None
    server_port: int | None  # None: a Unix socket
    dialed_port: int | None
    read_only: bool


class SessionFeature(TypedDict):
    """One feature of facts/session.py: does it work through this endpoint, and how we know."""

    works: bool | None  # None: could not tell
    how: Literal["measured", "inferred"]
    evidence: str


class StartupParameter(TypedDict):
    """One startup parameter of facts/session.py: what the endpoint does with it at login."""

    accepted: Literal["honours", "ignores", "rejects"] | None
    how: Literal["measured", "inferred"]
    evidence: str


# -- advisor audit (facts/workload.py, audit.py, ledger.py) ---------------------------


class LedgerGroup(TypedDict):
    application_name: str | None
    role: str | None
    database: str | None
    client_addr: str | None  # None: a Unix socket
    state: str | None
    connections: int
    max_age_s: int | None
    max_state_s: int | None
    share_percent: float  # of max_connections
    own: int  # the audit's own connection, in this group


class Ledger(TypedDict):
    max_connections: int
    reserved_connections: int
    client_connections: int
    own_connections: int
    by_state: dict[str, int]
    groups: list[LedgerGroup]
    safe_connections: int  # more ordinary logins before the server refuses them
    pool_size: int | None
    pool_size_source: str | None
    instances: int | None
    safe_instances: int | None
    needed_connections: int | None


class StatementSource(TypedDict):
    name: str
    installed: bool
    loaded: bool
    version: str | None
    readable: bool
    all_roles_visible: bool
    error: str | None


class WorkloadFeature(TypedDict):
    feature: str
    what: str
    calls: int
    statements: int
    roles: list[str]
    databases: list[str]
    example: str  # normalised, string literals replaced, cut
    rewrite: str


class UnclassifiedExample(TypedDict):
    example: str
    calls: int
    why: str


class Unclassified(TypedDict):
    statements: int
    calls: int
    examples: list[UnclassifiedExample]


class IdleLock(TypedDict):
    application_name: str | None
    role: str | None
    database: str | None
    locks: int
    idle_s: int | None


class TempRelations(TypedDict):
    sessions: int
    tables: int


class Workload(TypedDict):
    statement_source: StatementSource
    session_features: list[WorkloadFeature]
    unclassified: Unclassified
    statements_read: int
    statements_hidden: int
    idle_advisory_locks: list[IdleLock]  # MySQL: named locks (GET_LOCK)
    idle_locks_unknown: NotRequired[str]  # why the locks could not be read (MySQL)
    temp_relations: NotRequired[TempRelations]  # PostgreSQL only


class PostgresFacts(TypedDict):
    """What postgres.gather() returns."""

    server_version: str
    server_version_num: int
    max_connections: int
    reserved_connections: int
    superuser_reserved_connections: int
    reserved_connections_setting: int
    connections_in_use: int
    available_connections: int
    role: PostgresRole
    database: PostgresDatabase
    pooler: PoolerFacts
    tls: PostgresTLS
    session: PostgresSession
    probe: PostgresProbe
    session_features: NotRequired[dict[str, SessionFeature]]  # off: --no-session-features
    startup_parameters: NotRequired[dict[str, StartupParameter]]  # with session_features
    hosts: NotRequired[list[HostAttempt]]  # only for a multi-host URL
    workload: NotRequired[Workload]  # advisor audit
    ledger: NotRequired[Ledger]  # advisor audit


# -- MySQL and MariaDB (facts/mysql.py) ------------------------------------------


class MySQLAdminSlots(TypedDict):
    super_slot: int
    extra_port: int | None
    extra_max_connections: int | None


# `global` is a keyword, hence the functional form.
MySQLUserLimits = TypedDict(
    "MySQLUserLimits",
    {
        "global": int,
        "account": int | None,  # the account's own MAX_USER_CONNECTIONS, if it has one
        "effective": int,
        "account_name": str | None,
        "connections": int | None,
    },
)


class MySQLServerTLS(TypedDict):
    in_use: bool
    version: str | None
    cipher: str | None
    ssl_enabled: bool | None
    require_secure_transport: bool | None  # None: the server has no such variable


class MySQLTLS(TypedDict):
    client: MySQLClientTLS
    server: MySQLServerTLS


class MySQLSession(TypedDict):
    connection_id: int | None
    handshake_connection_id: int | None
    account: str | None
    read_only: bool


class MySQLFacts(TypedDict):
    """What mysql.gather() returns."""

    server_version: str
    flavor: Literal["mysql", "mariadb"]
    max_connections: int
    reserved_connections: int
    admin_slots: MySQLAdminSlots
    connections_in_use: int
    available_connections: int
    max_used_connections: int | None
    max_used_connections_time: str | None
    uptime_seconds: int | None
    connections_total: int | None
    aborted_connects: int | None
    connection_errors_max_connections: int | None
    wait_timeout: int | None
    interactive_timeout: int | None
    max_user_connections: MySQLUserLimits
    pooler: PoolerFacts
    tls: MySQLTLS
    session: MySQLSession
    probe: MySQLProbe
    session_features: NotRequired[dict[str, SessionFeature]]  # inferred from the pooler
    workload: NotRequired[Workload]  # advisor audit
    ledger: NotRequired[Ledger]  # advisor audit


# -- the migration URL, probed (probe.py) ----------------------------------------


@final
class DirectProbed(TypedDict):
    url: str
    pooler: PoolerFacts
    server_version: str
    connections_opened: int


@final
class DirectFailed(TypedDict):
    url: NotRequired[str]  # absent when the engine cannot be probed this way
    error: str


# -- a report's `facts`: what every check receives -------------------------------
# Final, so that `"key" in facts` tells the members apart for the type checker.


@final
class LintFacts(TypedDict):
    """`advisor lint`: the URL only."""

    engine: Engine
    url: URLFacts
    direct_url: NotRequired[URLFacts]


@final
class FailedProbeFacts(TypedDict):
    """A probe that did not get the server's facts: `probe` says why."""

    engine: Engine
    probe: ProbeError
    url: URLFacts
    direct_url: NotRequired[URLFacts]
    direct: NotRequired[DirectProbed | DirectFailed]


@final
class PostgresReportFacts(PostgresFacts):
    engine: Literal["postgresql"]
    url: URLFacts
    direct_url: NotRequired[URLFacts]
    direct: NotRequired[DirectProbed | DirectFailed]


@final
class MySQLReportFacts(MySQLFacts):
    engine: Literal["mysql"]
    url: URLFacts
    direct_url: NotRequired[URLFacts]
    direct: NotRequired[DirectProbed | DirectFailed]


# Spelt out flat: mypy narrows a flat union of TypedDicts by `"key" in facts`.
Facts = LintFacts | FailedProbeFacts | PostgresReportFacts | MySQLReportFacts
ProbeFacts = FailedProbeFacts | PostgresReportFacts | MySQLReportFacts  # `advisor probe`
ServerFacts = PostgresReportFacts | MySQLReportFacts  # the probe reached the server


def engine_of(name: str) -> Engine:
    """A Target's engine as the model's literal (parse_target only makes these two)."""
    return "mysql" if name == "mysql" else "postgresql"


def as_pool_mode(value: object) -> PoolMode | None:
    """A pooler's own word for its mode, if it is one the report knows (the schema's enum)."""
    return next((mode for mode in POOL_MODES if mode == value), None)
