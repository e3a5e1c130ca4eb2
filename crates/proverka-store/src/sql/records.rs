//! [`Store`] on [`SqlStore`]: every method one transaction, its body written once and compiled
//! for each driver by `with_pool!`.

use std::time::SystemTime;

use proverka_core::{Date, Money};
use sqlx::Row as _;

use super::statements::{
    ABANDON, COMMITTED, DAY_ROW, HEARTBEAT, INTENT, LIVE, MOVE_BUDGET, NAMES, OF_REQUEST, REGISTER,
    RESERVE, ROW_BY_INTENT, ROW_DECIDED, SAVE, SAVINGS, SETTLE, SPEND, STOPPED,
};
use super::{Pool, SqlStore};
use crate::model::{from_ms, ms};
use crate::{
    Abandoned, BatchRow, BoxFuture, Claim, Instance, Intent, IntentId, LedgerRecord, Opened,
    RowRef, RunStart, Saving, Settlement, SpendQuery, SpendRow, Store, StoreError, WatchAnswer,
    WatchChange, WatchDelivery, WatchList, WatchRecord, WatchRun, WatchSubject,
};

/// An instance as a row gives it.
pub(super) fn instance_of<R: sqlx::Row>(row: &R) -> Result<Instance, sqlx::Error>
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

    fn close(&self) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            let folded = match &self.pool {
                // The log folded into the file now: closing removes it too, but SQLite's last
                // close runs on its connection's own thread, which a process may outrun as it
                // exits. Idle connections hold no transaction, so this is not refused.
                Pool::Sqlite(pool) => sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(pool)
                    .await
                    .map(drop)
                    .map_err(StoreError::from),
                Pool::Postgres(_) => Ok(()),
            };
            with_pool!(self, pool => pool.close().await);
            folded
        })
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
                            open: Money::from_kopecks(r.try_get("open_kopecks")?),
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()
            })
        }))
    }

    fn add_savings<'a>(&'a self, savings: &'a [Saving]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                let mut tx = pool.begin().await?;
                for s in savings {
                    sqlx::query(&self.sql(SAVE))
                        .bind(s.day.to_iso())
                        .bind(&s.provider)
                        .bind(s.answers)
                        .bind(s.saved.kopecks())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            })
        }))
    }

    fn savings(&self, from: Date, to: Date) -> BoxFuture<'_, Result<Vec<Saving>, StoreError>> {
        Box::pin(self.timed(async move {
            with_pool!(self, pool => {
                let rows = sqlx::query(&self.sql(SAVINGS))
                    .bind(from.to_iso())
                    .bind(to.to_iso())
                    .fetch_all(pool)
                    .await?;
                rows.iter()
                    .map(|r| {
                        Ok(Saving {
                            day: day_of(&r.try_get::<String, _>("day")?)?,
                            provider: r.try_get("provider")?,
                            answers: r.try_get("answers")?,
                            saved: Money::from_kopecks(r.try_get("saved_kopecks")?),
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
        Box::pin(self.timed(self.claim_batch_now(batch, label, holder, at)))
    }

    fn release_batch<'a>(
        &'a self,
        batch: &'a str,
        holder: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed(self.release_batch_now(batch, holder, at)))
    }

    fn batch_rows<'a>(
        &'a self,
        batch: &'a str,
    ) -> BoxFuture<'a, Result<Vec<BatchRow>, StoreError>> {
        Box::pin(self.timed(self.batch_rows_now(batch)))
    }

    fn row_sending<'a>(
        &'a self,
        row: &'a RowRef,
        request_id: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed(self.row_sending_now(row, request_id, at)))
    }

    fn row_done<'a>(
        &'a self,
        row: &'a RowRef,
        outcome: &'a str,
        only_new: bool,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.timed(self.row_done_now(row, outcome, only_new, at)))
    }

    fn watch_list_put<'a>(&'a self, list: &'a WatchList) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed(self.watch_list_put_now(list)))
    }

    fn watch_lists(&self) -> BoxFuture<'_, Result<Vec<WatchList>, StoreError>> {
        Box::pin(self.timed(self.watch_lists_now()))
    }

    fn watch_list_remove<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.timed(self.watch_list_remove_now(name)))
    }

    fn watch_subjects_add<'a>(
        &'a self,
        list: &'a str,
        subjects: &'a [WatchSubject],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(self.timed(self.watch_subjects_add_now(list, subjects)))
    }

    fn watch_subjects_remove<'a>(
        &'a self,
        list: &'a str,
        ids: &'a [String],
    ) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(self.timed(self.watch_subjects_remove_now(list, ids)))
    }

    fn watch_subjects<'a>(
        &'a self,
        list: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WatchSubject>, StoreError>> {
        Box::pin(self.timed(self.watch_subjects_now(list)))
    }

    fn watch_run_start<'a>(
        &'a self,
        list: &'a str,
        at: SystemTime,
    ) -> BoxFuture<'a, Result<RunStart, StoreError>> {
        Box::pin(self.timed(self.watch_run_start_now(list, at)))
    }

    fn watch_run_finish(&self, run: i64, at: SystemTime) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.timed(self.watch_run_finish_now(run, at)))
    }

    fn watch_runs<'a>(&'a self, list: &'a str) -> BoxFuture<'a, Result<Vec<WatchRun>, StoreError>> {
        Box::pin(self.timed(self.watch_runs_now(list)))
    }

    fn watch_record<'a>(
        &'a self,
        list: &'a str,
        records: &'a [WatchRecord],
    ) -> BoxFuture<'a, Result<Vec<bool>, StoreError>> {
        Box::pin(self.timed(self.watch_records_now(list, records)))
    }

    fn watch_answers<'a>(
        &'a self,
        list: &'a str,
        subject: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Vec<WatchAnswer>, StoreError>> {
        Box::pin(self.timed(self.watch_answers_now(list, subject, false)))
    }

    fn watch_latest<'a>(
        &'a self,
        list: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WatchAnswer>, StoreError>> {
        Box::pin(self.timed(self.watch_answers_now(list, None, true)))
    }

    fn watch_changes<'a>(
        &'a self,
        list: &'a str,
        since: SystemTime,
    ) -> BoxFuture<'a, Result<Vec<WatchChange>, StoreError>> {
        Box::pin(self.timed(self.watch_changes_now(list, since)))
    }

    fn watch_delivery_put<'a>(
        &'a self,
        delivery: &'a WatchDelivery,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(self.timed(self.watch_delivery_put_now(delivery)))
    }

    fn watch_deliveries_pending<'a>(
        &'a self,
        list: &'a str,
    ) -> BoxFuture<'a, Result<Vec<WatchDelivery>, StoreError>> {
        Box::pin(self.timed(self.watch_deliveries_pending_now(list)))
    }

    fn watch_delivery_attempted(
        &self,
        run: i64,
        delivered: Option<SystemTime>,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.timed(self.watch_delivery_attempted_now(run, delivered)))
    }

    fn ledger_of_request<'a>(
        &'a self,
        request_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LedgerRecord>, StoreError>> {
        Box::pin(self.timed(self.ledger_of_request_now(request_id)))
    }

    fn recent_latency<'a>(
        &'a self,
        provider: &'a str,
        calls: i64,
    ) -> BoxFuture<'a, Result<Option<std::time::Duration>, StoreError>> {
        Box::pin(self.timed(self.recent_latency_now(provider, calls)))
    }
}
