//! [`Batch`]: a list checked row by row (`proverka batch`), its state in the store of record.
//! One live process holds a batch at a time; each row is keyed by its query (the cache key's
//! digest, no personal data) and remembers its outcome, or the call it is waiting on.

use std::collections::HashMap;
use std::sync::Arc;

use proverka_store::{Claim, Instance, IntentState, RowRef, RowState, StoreError};

use crate::{Outcome, Presence};

/// A batch held by this process.
#[derive(Debug)]
pub struct Batch {
    presence: Arc<Presence>,
    id: String,
}

/// Why a batch could not be taken.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// Another live process holds it.
    #[error(
        "this batch is being run by {} (pid {} on {}, since {}); wait for it to finish or stop it",
        holder.program,
        holder.pid,
        holder.host,
        since(holder.started)
    )]
    Held {
        /// Who.
        holder: Instance,
    },
    /// The store did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn since(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3 * 3600;
    let day = proverka_core::Date::moscow_date_at(t);
    format!(
        "{} {:02}:{:02} Moscow time",
        day.to_iso(),
        (secs / 3600) % 24,
        (secs / 60) % 60
    )
}

/// A row as an earlier run left it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum RowView {
    /// Decided: its outcome.
    Done(Box<Outcome>),
    /// Sent straight to a provider by a process that died before the answer was recorded:
    /// the provider may have billed it (settled `unknown`).
    Abandoned,
    /// Sent through a proxy under this request id by a run that did not record the answer.
    ViaProxy(String),
    /// Nothing was sent that may have been billed: free to send.
    Unsent,
}

impl Batch {
    /// Takes the batch `id` (`label` says what it is: the output file's name) for this
    /// process, after settling what dead processes left.
    ///
    /// # Errors
    /// [`BatchError::Held`] while another live process runs it; the store's failure.
    pub async fn claim(
        presence: Arc<Presence>,
        id: impl Into<String>,
        label: &str,
    ) -> Result<Self, BatchError> {
        let id = id.into();
        if !presence.ensure().await {
            return Err(BatchError::Store(StoreError::Unavailable(
                "cannot register with the store of record".into(),
            )));
        }
        presence.recover().await?;
        let claim = presence
            .store()
            .claim_batch(&id, label, presence.id(), presence.clock().now())
            .await?;
        match claim {
            Claim::Claimed => Ok(Self { presence, id }),
            Claim::Held(holder) => Err(BatchError::Held { holder }),
        }
    }

    /// The batch's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A row of this batch.
    pub fn row(&self, key: &str) -> RowRef {
        RowRef {
            batch: self.id.clone(),
            key: key.to_owned(),
        }
    }

    /// Every row an earlier run recorded, by key.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn rows(&self) -> Result<HashMap<String, RowView>, StoreError> {
        let rows = self.presence.store().batch_rows(&self.id).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let view = match r.state {
                    // An outcome this binary cannot read is not a reason to pay again.
                    RowState::Done(json) => Outcome::from_json(&json)
                        .map_or(RowView::Abandoned, |o| RowView::Done(Box::new(o))),
                    RowState::Sending {
                        intent: Some((_, state)),
                        ..
                    } => match state {
                        IntentState::Settled { billed } if billed == "free" => RowView::Unsent,
                        _ => RowView::Abandoned,
                    },
                    RowState::Sending {
                        intent: None,
                        request_id: Some(id),
                    } => RowView::ViaProxy(id),
                    RowState::Sending { .. } => RowView::Unsent,
                };
                (r.key, view)
            })
            .collect())
    }

    /// Records a row's outcome.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn record(&self, key: &str, outcome: &Outcome) -> Result<(), StoreError> {
        self.presence
            .store()
            .row_done(
                &self.row(key),
                &outcome.to_json(),
                false,
                self.presence.clock().now(),
            )
            .await
            .map(|_| ())
    }

    /// Records a row's outcome found in an older run's journal, unless the batch knows the
    /// row already; returns whether it was new.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn import(&self, key: &str, outcome: &Outcome) -> Result<bool, StoreError> {
        self.presence
            .store()
            .row_done(
                &self.row(key),
                &outcome.to_json(),
                true,
                self.presence.clock().now(),
            )
            .await
    }

    /// Marks a row as sent through a proxy under `request_id`, before the request leaves.
    ///
    /// # Errors
    /// The store did not answer.
    pub async fn sending_via_proxy(&self, key: &str, request_id: &str) -> Result<(), StoreError> {
        self.presence
            .store()
            .row_sending(&self.row(key), request_id, self.presence.clock().now())
            .await
    }

    /// Lets the batch go (its rows stay for the next run).
    pub async fn release(&self) {
        let _ = self
            .presence
            .store()
            .release_batch(&self.id, self.presence.id(), self.presence.clock().now())
            .await;
    }
}
