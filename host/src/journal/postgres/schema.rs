//! The PostgreSQL journal's schema and its versioned migrations.
//!
//! Lamina owns the schema: table `lamina_schema` holds one row per applied
//! migration (`version`, `applied_ms`). At open, under an exclusive lock on
//! that table (so that hosts starting together do not race), every missing
//! migration is applied in order, each in the same transaction that records
//! its version. A database whose newest version is newer than this build's
//! is refused.
//!
//! Text keys use the "C" collation so that they sort by their bytes, as the
//! redb tables do (listing pages and cursors depend on that order).

use super::super::OpenError;

/// The schema version this build reads and writes (of the PostgreSQL journal).
pub const PG_SCHEMA_VERSION: i64 = 1;

/// The migrations, in order: `(version, SQL)`. Migration N is applied once.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    r#"
CREATE TABLE executions (
    arn TEXT COLLATE "C" PRIMARY KEY,
    function TEXT COLLATE "C" NOT NULL,
    start_ms BIGINT NOT NULL,
    row BYTEA NOT NULL
);
CREATE INDEX executions_by_function ON executions (function, start_ms, arn);
CREATE TABLE execution_inputs (
    arn TEXT COLLATE "C" PRIMARY KEY,
    input TEXT NOT NULL
);
CREATE TABLE execution_names (
    function TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    arn TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (function, name)
);
-- Present while the execution is RUNNING; `in_progress` is its
-- invocation_in_progress flag; (owner, lease_until_ms) is the lease of the
-- host that runs it (NULL / 0: nobody holds it).
CREATE TABLE running_executions (
    arn TEXT COLLATE "C" PRIMARY KEY,
    in_progress BOOLEAN NOT NULL,
    owner TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX running_in_progress ON running_executions (arn) WHERE in_progress;
CREATE TABLE operations (
    arn TEXT COLLATE "C" NOT NULL,
    op_id TEXT COLLATE "C" NOT NULL,
    row BYTEA NOT NULL,
    PRIMARY KEY (arn, op_id)
);
CREATE TABLE history (
    arn TEXT COLLATE "C" NOT NULL,
    event_id BIGINT NOT NULL,
    row BYTEA NOT NULL,
    PRIMARY KEY (arn, event_id)
);
CREATE SEQUENCE timer_seq;
-- One timer per slot (arn, kind, op_id); (owner, lease_until_ms) as above.
CREATE TABLE timers (
    arn TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    op_id TEXT COLLATE "C" NOT NULL,
    due_ms BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    owner TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (arn, kind, op_id)
);
CREATE INDEX timers_due ON timers (due_ms, seq);
CREATE TABLE callbacks (
    callback_id TEXT COLLATE "C" PRIMARY KEY,
    arn TEXT COLLATE "C" NOT NULL,
    op_id TEXT COLLATE "C" NOT NULL
);
CREATE TABLE ended_executions (
    function TEXT COLLATE "C" NOT NULL,
    end_ms BIGINT NOT NULL,
    arn TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (function, end_ms, arn)
);
CREATE TABLE queued_events (
    id BIGINT PRIMARY KEY,
    due_ms BIGINT NOT NULL,
    row BYTEA NOT NULL,
    payload BYTEA,
    owner TEXT,
    lease_until_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX queued_events_due ON queued_events (due_ms, id);
CREATE TABLE queue_meta (
    key TEXT COLLATE "C" PRIMARY KEY,
    value BIGINT NOT NULL
);
"#,
)];

/// Creates `lamina_schema` when missing (safe to run concurrently).
pub(super) const CREATE_SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS lamina_schema (
    version BIGINT PRIMARY KEY,
    applied_ms BIGINT NOT NULL
)";

/// The advisory lock that serialises migrations of hosts starting together.
const MIGRATION_LOCK: i64 = 0x6c61_6d69_6e61;

/// Creates the namespace `schema` when missing (on a connection of its own).
pub(super) async fn create_namespace(
    config: &tokio_postgres::Config,
    schema: &str,
) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    let task = tokio::spawn(connection);
    let result = client
        .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"))
        .await;
    drop(client);
    let _ = task.await;
    result
}

/// Applies every migration the database lacks, each in one transaction
/// with its version row; refuses a database newer than this build.
pub(super) async fn migrate(
    client: &mut deadpool_postgres::Object,
    url: &str,
) -> Result<(), OpenError> {
    let storage = |e: tokio_postgres::Error| OpenError::Storage(super::describe(&e));
    let mut txn = client.transaction().await.map_err(storage)?;
    txn.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(storage)?;
    txn.batch_execute(CREATE_SCHEMA_TABLE)
        .await
        .map_err(storage)?;
    let found: i64 = txn
        .query_one("SELECT COALESCE(MAX(version), 0) FROM lamina_schema", &[])
        .await
        .map_err(storage)?
        .get(0);
    if found > PG_SCHEMA_VERSION {
        return Err(OpenError::DatabaseSchema {
            url: url.to_owned(),
            found,
            expected: PG_SCHEMA_VERSION,
        });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        tracing::info!(version, "applying a journal schema migration");
        let step = txn.savepoint(format!("migration_{version}")).await;
        let step = step.map_err(storage)?;
        step.batch_execute(sql).await.map_err(storage)?;
        step.execute(
            "INSERT INTO lamina_schema (version, applied_ms) VALUES ($1, $2)",
            &[version, &super::int(crate::journal::now_ms())],
        )
        .await
        .map_err(storage)?;
        step.commit().await.map_err(storage)?;
    }
    txn.commit().await.map_err(storage)
}
