//! [`SqlStore`]: the [`Store`] on SQLite (one file, WAL) or PostgreSQL, through one body of
//! SQL. The statements are written once with PostgreSQL's `$N` placeholders; SQLite reads
//! them as `?N` (numbered, so the two bind identically), and every method's body is written
//! once and compiled for each driver by [`with_pool!`].

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use proverka_core::{Date, Money};
use sqlx::Row as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use tokio::sync::OnceCell;

use crate::model::{from_ms, ms};
use crate::schema::{MIGRATIONS, SCHEMA_VERSION, VERSIONS_TABLE};
use crate::{
    Abandoned, BatchRow, BoxFuture, Claim, Instance, Intent, IntentId, IntentState, Opened, RowRef,
    RowState, Settlement, SpendQuery, SpendRow, Store, StoreError,
};

/// How long one store operation may take before the store counts as unreachable: a hung
/// database must not hold a paid call (or a request) for long.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to the concrete pool: one text, compiled per driver.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
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
    /// PostgreSQL is down and refuses paid calls until it answers. [`Store::ping`] connects
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
            .journal_mode(SqliteJournalMode::Wal)
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

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://…{}", &url[..scheme], &url[at..]),
        _ => url.to_owned(),
    }
}

/// A reservation: the tenant's day gets a row, then the amount is added only while the total
/// stays within the limit (`$4 < 0`: no limit). One row lock, so concurrent reservations of
/// every replica are serialised by the database.
const DAY_ROW: &str = "INSERT INTO budgets (tenant, day, committed_kopecks) VALUES ($1, $2, 0)
    ON CONFLICT (tenant, day) DO NOTHING";
const RESERVE: &str = "UPDATE budgets SET committed_kopecks = committed_kopecks + $3
    WHERE tenant = $1 AND day = $2 AND ($4 < 0 OR committed_kopecks + $3 <= $4)
    RETURNING committed_kopecks";
const COMMITTED: &str = "SELECT committed_kopecks FROM budgets WHERE tenant = $1 AND day = $2";
const MOVE_BUDGET: &str = "INSERT INTO budgets (tenant, day, committed_kopecks) VALUES ($1, $2, $3)
    ON CONFLICT (tenant, day) DO UPDATE
    SET committed_kopecks = budgets.committed_kopecks + excluded.committed_kopecks";
const INTENT: &str = "INSERT INTO ledger (instance, created_ms, day, tenant, tenant_name, provider,
    kind, query_key, request_id, attempt, reserved_kopecks, batch, row_key)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id";
const ROW_BY_INTENT: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'sending', $3, NULL, NULL, $4)
    ON CONFLICT (batch, row_key) DO UPDATE SET state = 'sending', intent = excluded.intent,
    request_id = NULL, outcome = NULL, updated_ms = excluded.updated_ms";
const SETTLE: &str =
    "UPDATE ledger SET settled_ms = $2, billed = $3, price_kopecks = $4, code = $5,
    http_status = $6, latency_ms = $7, resent = $8, settled_by = 'call'
    WHERE id = $1 AND settled_ms IS NULL
    RETURNING tenant, day, reserved_kopecks, batch, row_key";
const ROW_DECIDED: &str =
    "UPDATE batch_rows SET state = 'done', outcome = $3, intent = NULL, updated_ms = $5
    WHERE batch = $1 AND row_key = $2 AND intent = $4";
const REGISTER: &str =
    "INSERT INTO instances (id, host, pid, pid_start, program, started_ms, heartbeat_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    ON CONFLICT (id) DO UPDATE SET heartbeat_ms = excluded.heartbeat_ms, stopped_ms = NULL";
const HEARTBEAT: &str = "UPDATE instances SET heartbeat_ms = $2, stopped_ms = NULL WHERE id = $1";
const LIVE: &str = "SELECT id, host, pid, pid_start, program, started_ms, heartbeat_ms
    FROM instances WHERE stopped_ms IS NULL ORDER BY started_ms";
const STOPPED: &str = "UPDATE instances SET stopped_ms = $2 WHERE id = $1 AND stopped_ms IS NULL";
const ABANDON: &str = "UPDATE ledger SET settled_ms = $2, billed = 'unknown',
    price_kopecks = reserved_kopecks, code = 'abandoned', settled_by = 'recovery'
    WHERE instance = $1 AND settled_ms IS NULL RETURNING reserved_kopecks";
const SPEND: &str = "SELECT day, tenant, provider, kind, COUNT(*) AS calls,
    CAST(SUM(CASE WHEN billed = 'charged' THEN 1 ELSE 0 END) AS BIGINT) AS charged_calls,
    CAST(SUM(CASE WHEN billed = 'unknown' THEN 1 ELSE 0 END) AS BIGINT) AS unknown_calls,
    CAST(SUM(CASE WHEN settled_ms IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS open_calls,
    CAST(SUM(CASE WHEN billed = 'charged' THEN price_kopecks ELSE 0 END) AS BIGINT) AS charged_kopecks,
    CAST(SUM(CASE WHEN billed = 'unknown' THEN price_kopecks
        WHEN settled_ms IS NULL THEN reserved_kopecks ELSE 0 END) AS BIGINT) AS unknown_kopecks
    FROM ledger WHERE day >= $1 AND day <= $2 AND ($3 = '' OR tenant = $3)
    GROUP BY day, tenant, provider, kind ORDER BY day, tenant, provider, kind";
const NAMES: &str = "SELECT tenant, tenant_name FROM ledger WHERE id IN
    (SELECT MAX(id) FROM ledger WHERE day >= $1 AND day <= $2 GROUP BY tenant)";
const OF_REQUEST: &str =
    "SELECT billed FROM ledger WHERE request_id = $1 AND ($2 = '' OR tenant = $2) ORDER BY id";
const CLAIM: &str = "INSERT INTO batches (id, label, holder, created_ms, updated_ms)
    VALUES ($1, $2, $3, $4, $4)
    ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, label = excluded.label,
    updated_ms = excluded.updated_ms
    WHERE batches.holder IS NULL OR batches.holder = excluded.holder OR NOT EXISTS
    (SELECT 1 FROM instances WHERE instances.id = batches.holder AND instances.stopped_ms IS NULL)
    RETURNING holder";
const HOLDER: &str =
    "SELECT i.id, i.host, i.pid, i.pid_start, i.program, i.started_ms, i.heartbeat_ms
    FROM batches b JOIN instances i ON i.id = b.holder WHERE b.id = $1";
const RELEASE: &str =
    "UPDATE batches SET holder = NULL, updated_ms = $3 WHERE id = $1 AND holder = $2";
const ROWS: &str = "SELECT r.row_key, r.state, r.intent, r.request_id, r.outcome,
    l.settled_ms, l.billed, l.settled_by
    FROM batch_rows r LEFT JOIN ledger l ON l.id = r.intent WHERE r.batch = $1";
const ROW_BY_REQUEST: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'sending', NULL, $3, NULL, $4)
    ON CONFLICT (batch, row_key) DO UPDATE SET state = 'sending', intent = NULL,
    request_id = excluded.request_id, outcome = NULL, updated_ms = excluded.updated_ms";
const ROW_NEW: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'done', NULL, NULL, $3, $4) ON CONFLICT (batch, row_key) DO NOTHING";
const ROW_DONE: &str =
    "INSERT INTO batch_rows (batch, row_key, state, intent, request_id, outcome, updated_ms)
    VALUES ($1, $2, 'done', NULL, NULL, $3, $4)
    ON CONFLICT (batch, row_key) DO UPDATE SET state = 'done', intent = NULL, request_id = NULL,
    outcome = excluded.outcome, updated_ms = excluded.updated_ms";

/// An instance as a row gives it.
fn instance_of<R: sqlx::Row>(row: &R) -> Result<Instance, sqlx::Error>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
{
    Ok(Instance {
        id: row.try_get("id")?,
        host: row.try_get("host")?,
        pid: u32::try_from(row.try_get::<i64, _>("pid")?).unwrap_or(0),
        pid_start: u64::try_from(row.try_get::<i64, _>("pid_start")?).unwrap_or(0),
        program: row.try_get("program")?,
        started: from_ms(row.try_get("started_ms")?),
        heartbeat: from_ms(row.try_get("heartbeat_ms")?),
    })
}

fn day_of(text: &str) -> Result<Date, StoreError> {
    Date::parse_iso(text).map_err(|e| StoreError::Other(format!("a ledger day {text:?}: {e}")))
}

impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.pool {
            Pool::Sqlite(_) => "sqlite",
            Pool::Postgres(_) => "postgres",
        }
    }

    fn location(&self) -> String {
        self.location.clone()
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                sqlx::query("SELECT 1").execute(pool).await?;
            });
            Ok(())
        }))
    }

    fn register(&self, me: &Instance) -> BoxFuture<'_, Result<(), StoreError>> {
        let me = me.clone();
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                sqlx::query(&self.sql(REGISTER))
                    .bind(&me.id)
                    .bind(&me.host)
                    .bind(i64::from(me.pid))
                    .bind(i64::try_from(me.pid_start).unwrap_or(i64::MAX))
                    .bind(&me.program)
                    .bind(ms(me.started))
                    .bind(ms(me.heartbeat))
                    .execute(pool)
                    .await?;
            });
            Ok(())
        }))
    }

    fn heartbeat(&self, instance: &str, at: SystemTime) -> BoxFuture<'_, Result<(), StoreError>> {
        let instance = instance.to_owned();
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                sqlx::query(&self.sql(HEARTBEAT))
                    .bind(&instance)
                    .bind(ms(at))
                    .execute(pool)
                    .await?;
            });
            Ok(())
        }))
    }

    fn instances(&self) -> BoxFuture<'_, Result<Vec<Instance>, StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                let rows = sqlx::query(LIVE).fetch_all(pool).await?;
                rows.iter()
                    .map(|r| instance_of(r).map_err(StoreError::from))
                    .collect()
            })
        }))
    }

    fn declare_dead<'a>(
        &'a self,
        instances: &'a [String],
        at: SystemTime,
    ) -> BoxFuture<'a, Result<Abandoned, StoreError>> {
        Box::pin(self.timed(async move {
            let mut abandoned = Abandoned::default();
            with_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                for id in instances {
                    sqlx::query(&self.sql(STOPPED))
                        .bind(id)
                        .bind(ms(at))
                        .execute(&mut *tx)
                        .await?;
                    let settled = sqlx::query(&self.sql(ABANDON))
                        .bind(id)
                        .bind(ms(at))
                        .fetch_all(&mut *tx)
                        .await?;
                    for row in &settled {
                        abandoned.intents += 1;
                        abandoned.amount = abandoned.amount.saturating_add(Money::from_kopecks(
                            row.try_get("reserved_kopecks")?,
                        ));
                    }
                }
                tx.commit().await?;
            });
            Ok(abandoned)
        }))
    }

    fn open_intent<'a>(&'a self, i: &'a Intent) -> BoxFuture<'a, Result<Opened, StoreError>> {
        Box::pin(self.timed(async move {
            let day = i.day.to_iso();
            let at = ms(i.at);
            with_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                if i.reserve > Money::ZERO {
                    sqlx::query(&self.sql(DAY_ROW))
                        .bind(&i.tenant)
                        .bind(&day)
                        .execute(&mut *tx)
                        .await?;
                    let taken = sqlx::query(&self.sql(RESERVE))
                        .bind(&i.tenant)
                        .bind(&day)
                        .bind(i.reserve.kopecks())
                        .bind(i.limit.map_or(-1, Money::kopecks))
                        .fetch_optional(&mut *tx)
                        .await?;
                    if taken.is_none() {
                        let committed: i64 = sqlx::query(&self.sql(COMMITTED))
                            .bind(&i.tenant)
                            .bind(&day)
                            .fetch_one(&mut *tx)
                            .await?
                            .try_get("committed_kopecks")?;
                        tx.rollback().await?;
                        return Ok(Opened::OverBudget {
                            committed: Money::from_kopecks(committed),
                        });
                    }
                }
                let id: i64 = sqlx::query(&self.sql(INTENT))
                    .bind(&i.instance)
                    .bind(at)
                    .bind(&day)
                    .bind(&i.tenant)
                    .bind(&i.tenant_name)
                    .bind(i.provider.as_str())
                    .bind(&i.kind)
                    .bind(&i.key)
                    .bind(&i.request_id)
                    .bind(i64::from(i.attempt))
                    .bind(i.reserve.kopecks())
                    .bind(i.row.as_ref().map(|r| r.batch.as_str()))
                    .bind(i.row.as_ref().map(|r| r.key.as_str()))
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("id")?;
                if let Some(row) = &i.row {
                    sqlx::query(&self.sql(ROW_BY_INTENT))
                        .bind(&row.batch)
                        .bind(&row.key)
                        .bind(id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(Opened::Reserved(id))
            })
        }))
    }

    fn settle<'a>(
        &'a self,
        intent: IntentId,
        s: &'a Settlement,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.timed(async move {
            let at = ms(s.at);
            with_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                let Some(row) = sqlx::query(&self.sql(SETTLE))
                    .bind(intent)
                    .bind(at)
                    .bind(s.billed.as_str())
                    .bind(s.price.kopecks())
                    .bind(&s.code)
                    .bind(s.http_status.map(i64::from))
                    .bind(i64::try_from(s.latency.as_millis()).unwrap_or(i64::MAX))
                    .bind(i64::from(s.resent))
                    .fetch_optional(&mut *tx)
                    .await?
                else {
                    tx.rollback().await?;
                    return Ok(false);
                };
                let tenant: String = row.try_get("tenant")?;
                let day: String = row.try_get("day")?;
                let reserved: i64 = row.try_get("reserved_kopecks")?;
                let batch: Option<String> = row.try_get("batch")?;
                let row_key: Option<String> = row.try_get("row_key")?;
                let delta = s.price.kopecks() - reserved;
                if delta != 0 {
                    sqlx::query(&self.sql(MOVE_BUDGET))
                        .bind(&tenant)
                        .bind(&day)
                        .bind(delta)
                        .execute(&mut *tx)
                        .await?;
                }
                if let (Some(outcome), Some(batch), Some(key)) = (&s.row_outcome, batch, row_key) {
                    sqlx::query(&self.sql(ROW_DECIDED))
                        .bind(&batch)
                        .bind(&key)
                        .bind(outcome)
                        .bind(intent)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(true)
            })
        }))
    }

    fn committed<'a>(
        &'a self,
        tenant: &'a str,
        day: Date,
    ) -> BoxFuture<'a, Result<Money, StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                let row = sqlx::query(&self.sql(COMMITTED))
                    .bind(tenant)
                    .bind(day.to_iso())
                    .fetch_optional(pool)
                    .await?;
                let kopecks: i64 = match row {
                    Some(r) => r.try_get("committed_kopecks")?,
                    None => 0,
                };
                Ok(Money::from_kopecks(kopecks))
            })
        }))
    }

    fn spend<'a>(&'a self, q: &'a SpendQuery) -> BoxFuture<'a, Result<Vec<SpendRow>, StoreError>> {
        Box::pin(self.timed(async move {
            let (from, to) = (q.from.to_iso(), q.to.to_iso());
            let tenant = q.tenant.clone().unwrap_or_default();
            with_pool!(self, pool => {
                let names: std::collections::HashMap<String, String> =
                    sqlx::query(&self.sql(NAMES))
                        .bind(&from)
                        .bind(&to)
                        .fetch_all(pool)
                        .await?
                        .iter()
                        .map(|r| Ok((r.try_get("tenant")?, r.try_get("tenant_name")?)))
                        .collect::<Result<_, sqlx::Error>>()?;
                let rows = sqlx::query(&self.sql(SPEND))
                    .bind(&from)
                    .bind(&to)
                    .bind(&tenant)
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        let tenant: String = r.try_get("tenant")?;
                        Ok(SpendRow {
                            day: day_of(&r.try_get::<String, _>("day")?)?,
                            tenant_name: names.get(&tenant).cloned().unwrap_or_default(),
                            tenant,
                            provider: r.try_get("provider")?,
                            kind: r.try_get("kind")?,
                            calls: r.try_get("calls")?,
                            charged_calls: r.try_get("charged_calls")?,
                            unknown_calls: r.try_get("unknown_calls")?,
                            open_calls: r.try_get("open_calls")?,
                            charged: Money::from_kopecks(r.try_get("charged_kopecks")?),
                            unknown: Money::from_kopecks(r.try_get("unknown_kopecks")?),
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()
            })
        }))
    }

    fn calls_of_request<'a>(
        &'a self,
        request_id: &'a str,
        tenant: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                let rows = sqlx::query(&self.sql(OF_REQUEST))
                    .bind(request_id)
                    .bind(tenant.unwrap_or_default())
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|r| r.try_get::<Option<String>, _>("billed").map_err(StoreError::from))
                    .collect()
            })
        }))
    }

    fn claim_batch<'a>(
        &'a self,
        batch: &'a str,
        label: &'a str,
        holder: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                let claimed = sqlx::query(&self.sql(CLAIM))
                    .bind(batch)
                    .bind(label)
                    .bind(holder)
                    .bind(ms(at))
                    .fetch_optional(pool)
                    .await?;
                if claimed.is_some() {
                    return Ok(Claim::Claimed);
                }
                let row = sqlx::query(&self.sql(HOLDER))
                    .bind(batch)
                    .fetch_optional(pool)
                    .await?;
                match row {
                    Some(r) => Ok(Claim::Held(instance_of(&r)?)),
                    // The holder left between the two statements: ask again.
                    None => Err(StoreError::Unavailable(
                        "the batch changed hands while it was claimed; try again".into(),
                    )),
                }
            })
        }))
    }

    fn release_batch<'a>(
        &'a self,
        batch: &'a str,
        holder: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                sqlx::query(&self.sql(RELEASE))
                    .bind(batch)
                    .bind(holder)
                    .bind(ms(at))
                    .execute(pool)
                    .await?;
            });
            Ok(())
        }))
    }

    fn batch_rows<'a>(
        &'a self,
        batch: &'a str,
    ) -> BoxFuture<'a, Result<Vec<BatchRow>, StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                let rows = sqlx::query(&self.sql(ROWS)).bind(batch).fetch_all(pool).await?;
                rows.iter()
                    .map(|r| {
                        let state: String = r.try_get("state")?;
                        let state = if state == "done" {
                            RowState::Done(r.try_get::<Option<String>, _>("outcome")?.unwrap_or_default())
                        } else {
                            let intent: Option<i64> = r.try_get("intent")?;
                            let settled: Option<i64> = r.try_get("settled_ms")?;
                            let by: Option<String> = r.try_get("settled_by")?;
                            let billed: Option<String> = r.try_get("billed")?;
                            let intent_state = match (settled, by.as_deref()) {
                                (None, _) => IntentState::Open,
                                (Some(_), Some("recovery")) => IntentState::Abandoned,
                                (Some(_), _) => IntentState::Settled {
                                    billed: billed.unwrap_or_default(),
                                },
                            };
                            RowState::Sending {
                                intent: intent.map(|id| (id, intent_state)),
                                request_id: r.try_get("request_id")?,
                            }
                        };
                        Ok(BatchRow {
                            key: r.try_get("row_key")?,
                            state,
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()
            })
        }))
    }

    fn row_sending<'a>(
        &'a self,
        row: &'a RowRef,
        request_id: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                sqlx::query(&self.sql(ROW_BY_REQUEST))
                    .bind(&row.batch)
                    .bind(&row.key)
                    .bind(request_id)
                    .bind(ms(at))
                    .execute(pool)
                    .await?;
            });
            Ok(())
        }))
    }

    fn row_done<'a>(
        &'a self,
        row: &'a RowRef,
        outcome: &'a str,
        only_new: bool,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.timed(async move {
            let sql = if only_new { ROW_NEW } else { ROW_DONE };
            with_pool!(self, pool => {
                let done = sqlx::query(&self.sql(sql))
                    .bind(&row.batch)
                    .bind(&row.key)
                    .bind(outcome)
                    .bind(ms(at))
                    .execute(pool)
                    .await?;
                Ok(done.rows_affected() > 0)
            })
        }))
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

    #[test]
    fn every_statement_reads_the_same_in_both_dialects() {
        // SQLite's ?N is PostgreSQL's $N: no other dollar sign may appear in a statement.
        for text in [
            DAY_ROW,
            RESERVE,
            COMMITTED,
            MOVE_BUDGET,
            INTENT,
            ROW_BY_INTENT,
            SETTLE,
            ROW_DECIDED,
            REGISTER,
            HEARTBEAT,
            LIVE,
            STOPPED,
            ABANDON,
            SPEND,
            NAMES,
            OF_REQUEST,
            CLAIM,
            HOLDER,
            RELEASE,
            ROWS,
            ROW_BY_REQUEST,
            ROW_NEW,
            ROW_DONE,
        ] {
            for (i, _) in text.match_indices('$') {
                assert!(
                    text[i + 1..].starts_with(|c: char| c.is_ascii_digit()),
                    "{text}"
                );
            }
        }
    }
}
