//! Durable storage: SQLite embedded by default, PostgreSQL to scale out.
//!
//! One API over both backends through sqlx's `Any` driver and runtime
//! queries: the SQL is written once with `$n` placeholders, which both
//! databases accept, and the schema differs only in column types (see
//! `migrations/sqlite` and `migrations/postgres`). Values cross the boundary
//! as the few types both agree on: text, 64-bit integers and doubles.
//!
//! SQLite allows one writer at a time, so SQLite deployments get a
//! dedicated single-connection write pool: writers queue in-process instead
//! of failing with `SQLITE_BUSY` when a read transaction tries to upgrade.

mod applications;
mod areas;
mod assets;
mod attachments;
mod changes;
mod feed_position;
mod fees;
mod identity;
mod ledger;
mod pg_import;
mod reimport;
mod sessions;
mod site_searches;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

pub use applications::{ApplicationQuery, ApplicationSort, Change, NewEvent, Occupancy, new_id};
pub use assets::{Deleted, StoredAsset, UpsertOutcome, Upserted};
pub use attachments::AttachRefusal;
pub use changes::{ChangeBatch, ChangeCursor};
pub use identity::{
    Authority, Organisation, TokenGrant, TokenInfo, TokenScope, generate_token, hash_token,
};
pub use reimport::{Imported, ImportedBatch, Unlisted};
pub use sessions::StoredSession;
pub use site_searches::{NewSiteSearch, SiteSearchRow, SiteSearchScope};

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same key exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// A referenced row does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A conditional write found the row at another revision.
    #[error("the stored revision is {current}")]
    Stale {
        /// The revision stored now.
        current: i64,
    },
    /// A stored value could not be read back (a bug or manual edit).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The database failed.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// The database behind the service.
#[derive(Debug, Clone)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    /// PostgreSQL through sqlx's own driver, for what the `Any` driver
    /// cannot do (`COPY`, for imports); connects on first use.
    pg: Option<sqlx::PgPool>,
}

impl Store {
    /// Connects to `url` (`sqlite://file.db` or `postgres://...`), creating a
    /// SQLite file if needed, and runs the migrations.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::Database(sqlx::Error::Configuration(
                format!("unsupported database URL {url:?}: use sqlite:// or postgres://").into(),
            )));
        };
        let store = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let write = sqlite_pool(&url, 1).await?;
                let read = sqlite_pool(&url, 8).await?;
                Store {
                    read,
                    write,
                    backend,
                    pg: None,
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                let pg = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_lazy(url)?;
                Store {
                    read: pool.clone(),
                    write: pool,
                    backend,
                    pg: Some(pg),
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&self.write)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.write)
                    .await?
            }
        }
        Ok(())
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Readies the store for a large import by this process alone (the
    /// CLI): on SQLite, a 256 MiB page cache for the writer, so the id
    /// index (hashes: each batch touches pages all over it) stays in memory
    /// instead of being re-read and spilled on every batch.
    pub async fn prepare_bulk_import(&self) -> StoreResult<()> {
        if self.backend == Backend::Sqlite {
            sqlx::query("PRAGMA cache_size = -262144")
                .execute(&self.write)
                .await?;
        }
        Ok(())
    }

    /// Closes the pools, waiting for queries in flight.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        if let Some(pg) = &self.pg {
            pg.close().await;
        }
    }
}

/// Adds `mode=rwc` so a missing SQLite file is created on first run.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

async fn sqlite_pool(url: &str, size: u32) -> StoreResult<AnyPool> {
    Ok(AnyPoolOptions::new()
        .max_connections(size)
        .min_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // WAL lets readers run beside the writer; FULL sync makes an
                // acknowledged write survive power loss; foreign keys are off
                // by default in SQLite.
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// The current UTC time as ISO 8601 text.
fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Parses a stored enum value, reporting corruption clearly.
fn parse_stored<T: FromStr>(what: &str, value: &str) -> StoreResult<T> {
    value
        .parse()
        .map_err(|_| StoreError::Corrupt(format!("{what} {value:?}")))
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`].
fn conflict(e: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(what()),
        sqlx::Error::Database(d) if d.is_foreign_key_violation() => StoreError::NotFound(what()),
        _ => StoreError::Database(e),
    }
}

/// Appends the placeholder of the `n`th (1-based) parameter of a statement
/// with many: an anonymous `?` on SQLite, where numbered ones are looked up
/// by a linear search when parsing and again by sqlx when binding
/// (quadratic in a multi-row INSERT's thousands of parameters), `$n` on
/// PostgreSQL, which takes nothing else. With `?`, values are bound in the
/// order their placeholders appear.
pub(crate) fn push_param(sql: &mut String, conn: &sqlx::AnyConnection, n: usize) {
    push_param_for(sql, conn.backend_name() == "SQLite", n);
}

/// [`push_param`] where the backend is known without a connection.
pub(crate) fn push_param_for(sql: &mut String, sqlite: bool, n: usize) {
    if sqlite {
        sql.push('?');
    } else {
        sql.push('$');
        sql.push_str(itoa::Buffer::new().format(n));
    }
}
