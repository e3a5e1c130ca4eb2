//! Batches on [`SqlStore`]: the bodies of the batch methods of [`Store`](crate::Store) (who
//! holds a batch, its rows' states), each one statement or one transaction, written once for
//! both drivers.

use std::time::SystemTime;

use sqlx::Row as _;

use super::records::instance_of;
use super::statements::{CLAIM, HOLDER, RELEASE, ROW_BY_REQUEST, ROW_DONE, ROW_NEW, ROWS};
use super::{Pool, SqlStore};
use crate::model::ms;
use crate::{BatchRow, Claim, IntentState, RowRef, RowState, StoreError};

impl SqlStore {
    pub(super) async fn claim_batch_now(
        &self,
        batch: &str,
        label: &str,
        holder: &str,
        at: SystemTime,
    ) -> Result<Claim, StoreError> {
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
    }

    pub(super) async fn release_batch_now(
        &self,
        batch: &str,
        holder: &str,
        at: SystemTime,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(&self.sql(RELEASE))
                .bind(batch)
                .bind(holder)
                .bind(ms(at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub(super) async fn batch_rows_now(&self, batch: &str) -> Result<Vec<BatchRow>, StoreError> {
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
    }

    pub(super) async fn row_sending_now(
        &self,
        row: &RowRef,
        request_id: &str,
        at: SystemTime,
    ) -> Result<(), StoreError> {
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
    }

    pub(super) async fn row_done_now(
        &self,
        row: &RowRef,
        outcome: &str,
        only_new: bool,
        at: SystemTime,
    ) -> Result<bool, StoreError> {
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
    }
}
