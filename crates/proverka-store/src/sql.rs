//! [`SqlStore`]: the [`Store`] on SQLite (one file, WAL) or PostgreSQL, through one body of
//! SQL. The statements are written once with PostgreSQL's `$N` placeholders; SQLite reads
//! them as `?N` (numbered, so the two bind identically), and every method's body is written
//! once and compiled for each driver by `with_pool!`.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use tokio::sync::OnceCell;

use crate::model::ms;
use crate::schema::{MIGRATIONS, SCHEMA_VERSION, VERSIONS_TABLE};
use crate::{BoxFuture, StoreError};

/// Runs `$body` with `$pool` bound to the concrete pool: one text, compiled per driver.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

mod batches;
mod records;
mod statements;
mod watch;

/// How long one store operation may take before the store counts as unreachable: a hung
/// database must not hold a paid call (or a request) for long.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub(super) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The store of record on SQLite or PostgreSQL.
#[derive(Debug)]
pub struct SqlStore {
    pool: Pool,
    location: String,
    /// The schema is checked (and migrated) once, on the first operation that reaches the
    /// database: a PostgreSQL that is down at start-up is waited for, not fatal.
    schema: OnceCell<()>,
}

impl SqlStore {
    /// Opens the store at `location`: a `postgres://` (or `postgresql://`) URL, else a path to
    /// a SQLite file (made when missing; its folder must exist). Nothing is connected to yet:
    /// the first operation connects and checks (migrates) the schema, so a proxy starts while
    /// PostgreSQL is down and refuses paid calls until it answers. [`Store::ping`](crate::Store::ping) connects
    /// now, for a front end that wants to know at start.
    ///
    /// # Errors
    /// [`StoreError::Location`] for a path whose folder does not exist, or a URL that is not
    /// one.
    pub fn open(location: &str) -> Result<Self, StoreError> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Self::postgres(location)
        } else {
            let path = location.strip_prefix("sqlite://").unwrap_or(location);
            Self::sqlite(Path::new(path))
        }
    }

    /// A SQLite store in the file at `path`.
    ///
    /// # Errors
    /// As [`SqlStore::open`].
    pub fn sqlite(path: &Path) -> Result<Self, StoreError> {
        let shown = path.display().to_string();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(StoreError::Location {
                location: shown,
                message: format!("the folder {} does not exist", dir.display()),
            });
        }
        let options = SqliteConnectOptions::new()
            .filename(PathBuf::from(path))
            .create_if_missing(true)
            // WAL is set once per file, when the schema is checked (`set_wal`), not by every
            // new connection: changing into it takes a lock that `busy_timeout` does not wait
            // for, so connections opened at once would fail with "database is locked".
            // Committed to disk before the provider is called, power loss included.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(OPERATION_TIMEOUT)
            .connect_lazy_with(options);
        Ok(Self {
            pool: Pool::Sqlite(pool),
            location: shown,
            schema: OnceCell::new(),
        })
    }

    /// A PostgreSQL store at `url`, connected to lazily.
    ///
    /// # Errors
    /// [`StoreError::Location`] for a URL that is not one.
    pub fn postgres(url: &str) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Location {
            location: redact(url),
            message: e.to_string(),
        })?;
        let location = format!(
            "postgres://{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .min_connections(0)
            .acquire_timeout(OPERATION_TIMEOUT)
            .connect_lazy_with(options);
        Ok(Self {
            pool: Pool::Postgres(pool),
            location,
            schema: OnceCell::new(),
        })
    }

    /// A statement in this backend's placeholders.
    fn sql(&self, text: &'static str) -> Cow<'static, str> {
        match self.pool {
            Pool::Postgres(_) => Cow::Borrowed(text),
            Pool::Sqlite(_) => Cow::Owned(text.replace('$', "?")),
        }
    }

    /// The schema checked and migrated, once.
    async fn ready(&self) -> Result<(), StoreError> {
        self.schema
            .get_or_try_init(|| async {
                match tokio::time::timeout(OPERATION_TIMEOUT * 2, self.migrate()).await {
                    Ok(r) => r,
                    Err(_) => Err(StoreError::Unavailable("timed out".into())),
                }
            })
            .await
            .map(|_| ())
    }

    fn migrate(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.migrate_now())
    }

    async fn migrate_now(&self) -> Result<(), StoreError> {
        /// The versions after the database's, applied on `$conn` inside the caller's
        /// transaction.
        macro_rules! apply {
            ($conn:expr, $id:expr) => {{
                let current: i64 = sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM proverka_schema")
                    .fetch_one(&mut *$conn)
                    .await?
                    .try_get("v")?;
                if current > SCHEMA_VERSION {
                    return Err(StoreError::TooNew {
                        found: current,
                        known: SCHEMA_VERSION,
                    });
                }
                for (version, description, ddl) in MIGRATIONS.iter().filter(|m| m.0 > current) {
                    let ddl = ddl.replace("{ID}", $id);
                    sqlx::Executor::execute(&mut *$conn, ddl.as_str()).await?;
                    sqlx::query(&self.sql(
                        "INSERT INTO proverka_schema (version, description, applied_ms) VALUES ($1, $2, $3)",
                    ))
                    .bind(version)
                    .bind(*description)
                    .bind(ms(SystemTime::now()))
                    .execute(&mut *$conn)
                    .await?;
                }
                Ok::<(), StoreError>(())
            }};
        }
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                set_wal(&mut conn).await?;
                sqlx::Executor::execute(&mut *conn, VERSIONS_TABLE).await?;
                // IMMEDIATE: two processes opening one new file migrate one after the other.
                sqlx::Executor::execute(&mut *conn, "BEGIN IMMEDIATE").await?;
                let applied = async { apply!(conn, "INTEGER PRIMARY KEY AUTOINCREMENT") }.await;
                let end = if applied.is_ok() {
                    "COMMIT"
                } else {
                    "ROLLBACK"
                };
                sqlx::Executor::execute(&mut *conn, end).await?;
                applied
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                // Replicas starting together migrate one after the other.
                sqlx::query("SELECT pg_advisory_xact_lock(7271700)")
                    .execute(&mut *tx)
                    .await?;
                sqlx::Executor::execute(&mut *tx, VERSIONS_TABLE).await?;
                apply!(tx, "BIGSERIAL PRIMARY KEY")?;
                tx.commit().await?;
                Ok(())
            }
        }
    }

    async fn timed<T>(
        &self,
        op: impl Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.ready().await?;
        match tokio::time::timeout(OPERATION_TIMEOUT, op).await {
            Ok(r) => r,
            Err(_) => Err(StoreError::Unavailable(format!(
                "{} did not answer within {} s",
                self.location,
                OPERATION_TIMEOUT.as_secs()
            ))),
        }
    }
}

/// Puts a SQLite file in WAL mode (a property of the file, kept from then on). Changing into it
/// takes a lock that SQLite's busy timeout does not wait for: another process doing the same at
/// that moment makes this one wait a little and try again, up to the operation timeout.
async fn set_wal(conn: &mut sqlx::SqliteConnection) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match sqlx::query("PRAGMA journal_mode = WAL")
            .fetch_one(&mut *conn)
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) if is_busy(&e) && started.elapsed() < OPERATION_TIMEOUT => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// SQLite's `SQLITE_BUSY` (and its extended codes): another connection holds the lock.
fn is_busy(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .and_then(|d| d.code())
        .and_then(|c| c.parse::<i32>().ok())
        .is_some_and(|c| c & 0xff == 5)
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_when_shown() {
        assert_eq!(
            redact("postgres://proverka:s3cret@db:5432/money"),
            "postgres://…@db:5432/money"
        );
        assert_eq!(redact("postgres://db/money"), "postgres://db/money");
    }
}
