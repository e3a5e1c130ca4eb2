//! Watch lists on [`SqlStore`]: the bodies of the `watch_*` methods of
//! [`Store`](crate::Store), each one transaction, written once for both drivers.

use std::time::SystemTime;

use proverka_core::Money;
use sqlx::Row as _;

use super::{Pool, SqlStore};
use crate::StoreError;
use crate::model::{from_ms, ms};
use crate::watch::{
    LedgerRecord, RunStart, WatchAnswer, WatchChange, WatchDelivery, WatchList, WatchRecord,
    WatchRun, WatchSubject,
};

pub(super) const LIST_PUT: &str = "INSERT INTO watch_lists
    (name, check_name, every_s, schedule, webhook_sealed, options, created_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET
    check_name = excluded.check_name, every_s = excluded.every_s, schedule = excluded.schedule,
    webhook_sealed = excluded.webhook_sealed, options = excluded.options";
pub(super) const LISTS: &str = "SELECT name, check_name, every_s, schedule, webhook_sealed,
    options, created_ms FROM watch_lists ORDER BY name";
pub(super) const LIST_REMOVE: &str = "DELETE FROM watch_lists WHERE name = $1";
pub(super) const SUBJECTS_OF_LIST_REMOVE: &str = "DELETE FROM watch_subjects WHERE list = $1";
pub(super) const SUBJECT_ADD: &str =
    "INSERT INTO watch_subjects (list, id, sealed, added_ms, due_ms)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (list, id) DO NOTHING";
pub(super) const SUBJECT_REMOVE: &str = "DELETE FROM watch_subjects WHERE list = $1 AND id = $2";
pub(super) const SUBJECTS: &str =
    "SELECT id, sealed, added_ms, due_ms FROM watch_subjects WHERE list = $1 ORDER BY added_ms, id";
pub(super) const OPEN_RUN: &str =
    "SELECT id, list, started_ms, finished_ms, baseline FROM watch_runs
    WHERE list = $1 AND finished_ms IS NULL ORDER BY id DESC LIMIT 1";
pub(super) const FINISHED_RUNS: &str =
    "SELECT COUNT(*) AS n FROM watch_runs WHERE list = $1 AND finished_ms IS NOT NULL";
pub(super) const RUN_NEW: &str =
    "INSERT INTO watch_runs (list, started_ms, finished_ms, baseline) VALUES ($1, $2, NULL, $3)
    RETURNING id";
pub(super) const RUN_FINISH: &str =
    "UPDATE watch_runs SET finished_ms = $2 WHERE id = $1 AND finished_ms IS NULL";
pub(super) const RUNS: &str = "SELECT id, list, started_ms, finished_ms, baseline FROM watch_runs
    WHERE list = $1 ORDER BY id";
/// The answer, unless the run has one for the subject: one statement, so that a transaction
/// begins with its write (SQLite refuses at once, without waiting, a transaction that read
/// first and then wants to write while another connection writes).
pub(super) const ANSWER_ADD: &str = "INSERT INTO watch_answers (list, subject, run, at_ms, status,
    source, billed, price_kopecks, request_id, body_sha256, sealed)
    SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
    WHERE NOT EXISTS (SELECT 1 FROM watch_answers WHERE run = $3 AND subject = $2)";
/// A write first, for the same reason: the list's row, locked (PostgreSQL) or the database's
/// write lock taken (SQLite), before the run is looked for.
pub(super) const LOCK_LIST: &str = "UPDATE watch_lists SET name = name WHERE name = $1";
pub(super) const CHANGE_ADD: &str =
    "INSERT INTO watch_changes (list, subject, run, at_ms, what, sealed)
    VALUES ($1, $2, $3, $4, $5, $6)";
pub(super) const DUE: &str = "UPDATE watch_subjects SET due_ms = $3 WHERE list = $1 AND id = $2";
pub(super) const ANSWERS: &str = "SELECT subject, run, at_ms, status, source, billed,
    price_kopecks, request_id, body_sha256, sealed FROM watch_answers
    WHERE list = $1 AND ($2 = '' OR subject = $2) ORDER BY id";
pub(super) const LATEST: &str = "SELECT subject, run, at_ms, status, source, billed,
    price_kopecks, request_id, body_sha256, sealed FROM watch_answers a
    WHERE list = $1 AND id = (SELECT MAX(b.id) FROM watch_answers b
    WHERE b.list = a.list AND b.subject = a.subject AND b.sealed IS NOT NULL)
    ORDER BY subject";
pub(super) const CHANGES: &str = "SELECT subject, run, at_ms, what, sealed FROM watch_changes
    WHERE list = $1 AND at_ms >= $2 ORDER BY id";
pub(super) const DELIVERY_PUT: &str = "INSERT INTO watch_deliveries
    (run, list, idempotency_key, sealed, attempts, delivered_ms) VALUES ($1, $2, $3, $4, 0, NULL)
    ON CONFLICT (run) DO NOTHING";
pub(super) const DELIVERIES_PENDING: &str = "SELECT run, list, idempotency_key, sealed, attempts,
    delivered_ms FROM watch_deliveries WHERE list = $1 AND delivered_ms IS NULL ORDER BY run";
pub(super) const LEDGER_OF_REQUEST: &str = "SELECT id, created_ms, tenant_name, provider, kind,
    query_key, request_id, attempt, reserved_kopecks, settled_ms, billed, price_kopecks, code,
    http_status, settled_by FROM ledger WHERE request_id = $1 ORDER BY id";
pub(super) const RECENT_LATENCY: &str = "SELECT CAST(AVG(latency_ms) AS BIGINT) AS ms FROM
    (SELECT latency_ms FROM ledger WHERE provider = $1 AND latency_ms IS NOT NULL
    AND settled_by = 'call' ORDER BY id DESC LIMIT $2) recent";
pub(super) const DELIVERY_ATTEMPTED: &str =
    "UPDATE watch_deliveries SET attempts = attempts + 1, delivered_ms = $2 WHERE run = $1";

/// Every statement of this module (the dialect test reads them).
#[cfg(test)]
pub(super) const ALL: &[&str] = &[
    LIST_PUT,
    LISTS,
    LIST_REMOVE,
    SUBJECTS_OF_LIST_REMOVE,
    SUBJECT_ADD,
    SUBJECT_REMOVE,
    SUBJECTS,
    OPEN_RUN,
    FINISHED_RUNS,
    RUN_NEW,
    RUN_FINISH,
    RUNS,
    ANSWER_ADD,
    LOCK_LIST,
    CHANGE_ADD,
    DUE,
    ANSWERS,
    LATEST,
    CHANGES,
    DELIVERY_PUT,
    DELIVERIES_PENDING,
    DELIVERY_ATTEMPTED,
    LEDGER_OF_REQUEST,
    RECENT_LATENCY,
];

/// A row's column, read the same on both drivers.
macro_rules! get {
    ($row:expr, $name:literal) => {
        $row.try_get($name)?
    };
}

/// A run as a row gives it.
macro_rules! run_of {
    ($row:expr) => {
        WatchRun {
            id: get!($row, "id"),
            list: get!($row, "list"),
            started: from_ms(get!($row, "started_ms")),
            finished: $row.try_get::<Option<i64>, _>("finished_ms")?.map(from_ms),
            baseline: $row.try_get::<i64, _>("baseline")? != 0,
        }
    };
}

/// An answer as a row gives it.
macro_rules! answer_of {
    ($row:expr) => {
        WatchAnswer {
            subject: get!($row, "subject"),
            run: get!($row, "run"),
            at: from_ms(get!($row, "at_ms")),
            status: get!($row, "status"),
            source: get!($row, "source"),
            billed: get!($row, "billed"),
            price: $row
                .try_get::<Option<i64>, _>("price_kopecks")?
                .map(Money::from_kopecks),
            request_id: get!($row, "request_id"),
            body_sha256: get!($row, "body_sha256"),
            sealed: get!($row, "sealed"),
        }
    };
}

impl SqlStore {
    pub(super) async fn watch_list_put_now(&self, l: &WatchList) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(&self.sql(LIST_PUT))
                .bind(&l.name)
                .bind(&l.check)
                .bind(l.every_s)
                .bind(&l.schedule)
                .bind(&l.webhook_sealed)
                .bind(&l.options)
                .bind(ms(l.created))
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(super) async fn watch_lists_now(&self) -> Result<Vec<WatchList>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(LISTS).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(WatchList {
                        name: get!(r, "name"),
                        check: get!(r, "check_name"),
                        every_s: get!(r, "every_s"),
                        schedule: get!(r, "schedule"),
                        webhook_sealed: get!(r, "webhook_sealed"),
                        options: get!(r, "options"),
                        created: from_ms(get!(r, "created_ms")),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    pub(super) async fn watch_list_remove_now(&self, name: &str) -> Result<bool, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let removed = sqlx::query(&self.sql(LIST_REMOVE))
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query(&self.sql(SUBJECTS_OF_LIST_REMOVE))
                .bind(name)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(removed > 0)
        })
    }

    pub(super) async fn watch_subjects_add_now(
        &self,
        list: &str,
        subjects: &[WatchSubject],
    ) -> Result<u64, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut added = 0;
            for s in subjects {
                added += sqlx::query(&self.sql(SUBJECT_ADD))
                    .bind(list)
                    .bind(&s.id)
                    .bind(&s.sealed)
                    .bind(ms(s.added))
                    .bind(ms(s.due))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            Ok(added)
        })
    }

    pub(super) async fn watch_subjects_remove_now(
        &self,
        list: &str,
        ids: &[String],
    ) -> Result<u64, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut removed = 0;
            for id in ids {
                removed += sqlx::query(&self.sql(SUBJECT_REMOVE))
                    .bind(list)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            }
            tx.commit().await?;
            Ok(removed)
        })
    }

    pub(super) async fn watch_subjects_now(
        &self,
        list: &str,
    ) -> Result<Vec<WatchSubject>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&self.sql(SUBJECTS)).bind(list).fetch_all(pool).await?;
            rows.iter()
                .map(|r| {
                    Ok(WatchSubject {
                        id: get!(r, "id"),
                        sealed: get!(r, "sealed"),
                        added: from_ms(get!(r, "added_ms")),
                        due: from_ms(get!(r, "due_ms")),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    pub(super) async fn watch_run_start_now(
        &self,
        list: &str,
        at: SystemTime,
    ) -> Result<RunStart, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            sqlx::query(&self.sql(LOCK_LIST))
                .bind(list)
                .execute(&mut *tx)
                .await?;
            if let Some(r) = sqlx::query(&self.sql(OPEN_RUN))
                .bind(list)
                .fetch_optional(&mut *tx)
                .await?
            {
                let run = run_of!(r);
                tx.commit().await?;
                return Ok(RunStart::Resumed(run));
            }
            let finished: i64 = sqlx::query(&self.sql(FINISHED_RUNS))
                .bind(list)
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
            let baseline = finished == 0;
            let id: i64 = sqlx::query(&self.sql(RUN_NEW))
                .bind(list)
                .bind(ms(at))
                .bind(i64::from(baseline))
                .fetch_one(&mut *tx)
                .await?
                .try_get("id")?;
            tx.commit().await?;
            Ok(RunStart::New(WatchRun {
                id,
                list: list.to_owned(),
                started: at,
                finished: None,
                baseline,
            }))
        })
    }

    pub(super) async fn watch_run_finish_now(
        &self,
        run: i64,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(&self.sql(RUN_FINISH))
                .bind(run)
                .bind(ms(at))
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(super) async fn watch_runs_now(&self, list: &str) -> Result<Vec<WatchRun>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&self.sql(RUNS)).bind(list).fetch_all(pool).await?;
            rows.iter()
                .map(|r| Ok(run_of!(r)))
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    pub(super) async fn watch_records_now(
        &self,
        list: &str,
        records: &[WatchRecord],
    ) -> Result<Vec<bool>, StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let mut written = Vec::with_capacity(records.len());
            for r in records {
                let a = &r.answer;
                let added = sqlx::query(&self.sql(ANSWER_ADD))
                    .bind(list)
                    .bind(&a.subject)
                    .bind(a.run)
                    .bind(ms(a.at))
                    .bind(&a.status)
                    .bind(&a.source)
                    .bind(&a.billed)
                    .bind(a.price.map(Money::kopecks))
                    .bind(&a.request_id)
                    .bind(&a.body_sha256)
                    .bind(&a.sealed)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                written.push(added > 0);
                if added == 0 {
                    continue;
                }
                for c in &r.changes {
                    sqlx::query(&self.sql(CHANGE_ADD))
                        .bind(list)
                        .bind(&c.subject)
                        .bind(c.run)
                        .bind(ms(c.at))
                        .bind(&c.what)
                        .bind(&c.sealed)
                        .execute(&mut *tx)
                        .await?;
                }
                sqlx::query(&self.sql(DUE))
                    .bind(list)
                    .bind(&a.subject)
                    .bind(ms(r.next_due))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(written)
        })
    }

    pub(super) async fn watch_answers_now(
        &self,
        list: &str,
        subject: Option<&str>,
        latest: bool,
    ) -> Result<Vec<WatchAnswer>, StoreError> {
        with_pool!(self, pool => {
            let rows = if latest {
                sqlx::query(&self.sql(LATEST)).bind(list).fetch_all(pool).await?
            } else {
                sqlx::query(&self.sql(ANSWERS))
                    .bind(list)
                    .bind(subject.unwrap_or_default())
                    .fetch_all(pool)
                    .await?
            };
            rows.iter()
                .map(|r| Ok(answer_of!(r)))
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    pub(super) async fn watch_changes_now(
        &self,
        list: &str,
        since: SystemTime,
    ) -> Result<Vec<WatchChange>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&self.sql(CHANGES))
                .bind(list)
                .bind(ms(since))
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(WatchChange {
                        subject: get!(r, "subject"),
                        run: get!(r, "run"),
                        at: from_ms(get!(r, "at_ms")),
                        what: get!(r, "what"),
                        sealed: get!(r, "sealed"),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    pub(super) async fn watch_delivery_put_now(&self, d: &WatchDelivery) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(&self.sql(DELIVERY_PUT))
                .bind(d.run)
                .bind(&d.list)
                .bind(&d.key)
                .bind(&d.sealed)
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(super) async fn watch_deliveries_pending_now(
        &self,
        list: &str,
    ) -> Result<Vec<WatchDelivery>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&self.sql(DELIVERIES_PENDING))
                .bind(list)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(WatchDelivery {
                        run: get!(r, "run"),
                        list: get!(r, "list"),
                        key: get!(r, "idempotency_key"),
                        sealed: get!(r, "sealed"),
                        attempts: get!(r, "attempts"),
                        delivered: r.try_get::<Option<i64>, _>("delivered_ms")?.map(from_ms),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    pub(super) async fn watch_delivery_attempted_now(
        &self,
        run: i64,
        delivered: Option<SystemTime>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(&self.sql(DELIVERY_ATTEMPTED))
                .bind(run)
                .bind(delivered.map(ms))
                .execute(pool)
                .await?;
            Ok(())
        })
    }

    pub(super) async fn ledger_of_request_now(
        &self,
        request_id: &str,
    ) -> Result<Vec<LedgerRecord>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&self.sql(LEDGER_OF_REQUEST))
                .bind(request_id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| {
                    Ok(LedgerRecord {
                        id: get!(r, "id"),
                        created: from_ms(get!(r, "created_ms")),
                        tenant_name: get!(r, "tenant_name"),
                        provider: get!(r, "provider"),
                        kind: get!(r, "kind"),
                        query_key: get!(r, "query_key"),
                        request_id: get!(r, "request_id"),
                        attempt: get!(r, "attempt"),
                        reserved: Money::from_kopecks(get!(r, "reserved_kopecks")),
                        settled: r.try_get::<Option<i64>, _>("settled_ms")?.map(from_ms),
                        billed: get!(r, "billed"),
                        price: r
                            .try_get::<Option<i64>, _>("price_kopecks")?
                            .map(Money::from_kopecks),
                        code: get!(r, "code"),
                        http_status: get!(r, "http_status"),
                        settled_by: get!(r, "settled_by"),
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
    }

    pub(super) async fn recent_latency_now(
        &self,
        provider: &str,
        calls: i64,
    ) -> Result<Option<std::time::Duration>, StoreError> {
        with_pool!(self, pool => {
            let ms: Option<i64> = sqlx::query(&self.sql(RECENT_LATENCY))
                .bind(provider)
                .bind(calls)
                .fetch_one(pool)
                .await?
                .try_get("ms")?;
            Ok(ms.map(|ms| std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))))
        })
    }
}
