//! The journal on PostgreSQL, shared by several hosts.
//!
//! Writes go to one writer thread per host that commits them in groups, one
//! SQL transaction per group, with the backend-neutral rules of `apply.rs`
//! (see `rows.rs`). Reads use a pool of asynchronous connections
//! (`deadpool-postgres`). The schema is Lamina's own and versioned
//! (`schema.rs`). Unlike the redb and in-memory journals, claims are real:
//! a running execution and a timer carry an owner and a lease end, a claim
//! skips what another owner holds (`FOR UPDATE SKIP LOCKED`), and a batch
//! fenced by an owner whose lease was taken over is rejected
//! ([`super::JournalError::LeaseLost`]).

mod leases;
mod reads;
mod rows;
mod schema;

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio::sync::oneshot;

use super::writer::{Reply, Request, WriterStats};
use super::{JournalError, OpenError, Result, now_ms};

pub use self::schema::PG_SCHEMA_VERSION;

/// Options of [`PgJournal::open_with`].
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// The most write requests committed in one transaction.
    pub max_group: usize,
    /// How many write requests may wait for the writer.
    pub queue_capacity: usize,
    /// Connections of the read pool.
    pub pool_size: usize,
    /// A PostgreSQL schema (namespace) to keep the tables in, created when
    /// missing; `None`: the connection's default (`public`). Tests give each
    /// journal its own.
    pub schema: Option<String>,
    /// How long to wait for a connection before a request fails.
    pub connect_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_group: 256,
            queue_capacity: 4096,
            pool_size: 8,
            schema: None,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// The durable-execution journal in a PostgreSQL database (see the module
/// documentation). Dropping it finishes the queued writes and stops the
/// writer thread.
pub struct PgJournal {
    pool: Pool,
    url: String,
    requests: async_channel::Sender<Request>,
    writer: Option<JoinHandle<()>>,
    stats: Arc<WriterStats>,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A BIGINT column value for a `u64` (saturating: times and ids fit).
pub(super) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A `u64` from a BIGINT column (negative values never stored: 0).
pub(super) fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A PostgreSQL client error as a journal storage error, with its cause.
pub(super) fn pg_error(e: tokio_postgres::Error) -> JournalError {
    JournalError::Storage(describe(&e))
}

/// A client error with its database message or source, for humans.
fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("PostgreSQL: {} ({})", db.message(), db.code().code());
    }
    match std::error::Error::source(e) {
        Some(source) => format!("PostgreSQL: {e}: {source}"),
        None => format!("PostgreSQL: {e}"),
    }
}

/// `url` without its password, to name the database in messages.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

impl PgJournal {
    /// Connects to the database at `url` with default options (see
    /// [`PgJournal::open_with`]).
    pub async fn open(url: &str) -> Result<Self, OpenError> {
        Self::open_with(url, PgOptions::default()).await
    }

    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/db`),
    /// applies the missing schema migrations and starts the writer thread.
    /// An unreachable database is [`OpenError::Unreachable`].
    pub async fn open_with(url: &str, options: PgOptions) -> Result<Self, OpenError> {
        let redacted = redact_url(url);
        let unreachable = |message: String| OpenError::Unreachable {
            url: redacted.clone(),
            message,
        };
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| unreachable(format!("invalid URL: {e}")))?;
        config
            .connect_timeout(options.connect_timeout)
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(10))
            .application_name("lamina");
        if let Some(schema) = &options.schema {
            if !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                return Err(unreachable(format!("invalid schema name {schema:?}")));
            }
            schema::create_namespace(&config, schema)
                .await
                .map_err(|e| unreachable(describe(&e)))?;
            config.options(format!("-c search_path={schema}"));
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = Manager::from_config(config.clone(), tokio_postgres::NoTls, manager_config);
        let pool = Pool::builder(manager)
            .max_size(options.pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.connect_timeout * 2))
            .create_timeout(Some(options.connect_timeout))
            .recycle_timeout(Some(options.connect_timeout))
            .build()
            .map_err(|e| OpenError::Storage(format!("cannot build the connection pool: {e}")))?;
        {
            let mut client = pool.get().await.map_err(|e| unreachable(e.to_string()))?;
            schema::migrate(&mut client, &redacted).await?;
        }
        let (requests, receiver) = async_channel::bounded(options.queue_capacity.max(1));
        let stats = Arc::new(WriterStats::default());
        let writer = {
            let stats = Arc::clone(&stats);
            let max_group = options.max_group.max(1);
            let config = ::postgres::Config::from(config);
            std::thread::Builder::new()
                .name("lamina-pg-writer".into())
                .spawn(move || rows::run(config, receiver, stats, max_group))
                .map_err(|e| OpenError::Storage(format!("cannot start the writer thread: {e}")))?
        };
        Ok(PgJournal {
            pool,
            url: redacted,
            requests,
            writer: Some(writer),
            stats,
        })
    }

    /// The database URL, without its password.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends a request to the writer and waits for its answer.
    async fn write<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(make(Reply::new(reply)))
            .await
            .map_err(|_| JournalError::Closed)?;
        answer.await.map_err(|_| JournalError::Closed)?
    }

    /// A pooled connection for reads.
    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| JournalError::Storage(format!("PostgreSQL at {}: {e}", self.url)))
    }
}

impl Drop for PgJournal {
    fn drop(&mut self) {
        self.requests.close();
        if let Some(writer) = self.writer.take() {
            // The writer answers what is queued, then ends.
            let _ = writer.join();
        }
    }
}

/// The lease end of a lease of `lease` taken now, as a BIGINT.
fn lease_until(lease: Duration) -> i64 {
    int(super::lease_end(now_ms(), lease))
}
