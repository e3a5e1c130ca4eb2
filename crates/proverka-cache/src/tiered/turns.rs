//! Queues of paced turns ([`TieredCache::take_turn`](crate::TieredCache::take_turn)): state
//! that replicas share and that belongs to no provider and no query, so it is named by its
//! own kind and id ([`Remote::shared_name`]), never by a query's key.

use std::time::{Duration, SystemTime};

use super::remote_tier::Remote;
use crate::pacing::{LocalTurns, Ticket};
use crate::stats::Counters;

/// The kind of shared state a queue of turns is, in its remote name.
const KIND: &str = "turns";

/// A turn taken in a queue of paced turns ([`TieredCache::take_turn`](crate::TieredCache::take_turn)).
#[derive(Debug, Clone, Copy)]
pub struct Turn {
    /// How long until it starts.
    pub wait: Duration,
    ticket: Ticket,
    /// Taken from the remote tier's queue (else this process's).
    remote: bool,
}

/// The queues of paced turns: on the remote tier when there is one and it answers, else in
/// this process.
#[derive(Debug, Default)]
pub(crate) struct TurnQueues {
    local: LocalTurns,
}

impl TurnQueues {
    /// Takes a turn of `interval` in queue `id`, at most `max_wait` away (see
    /// [`TieredCache::take_turn`](crate::TieredCache::take_turn)).
    pub(crate) async fn take(
        &self,
        remote: Option<&Remote>,
        counters: &Counters,
        now: SystemTime,
        id: &str,
        interval: Duration,
        max_wait: Option<Duration>,
    ) -> Option<Turn> {
        // Long enough to outlive every turn it holds.
        let ttl = interval
            .saturating_mul(4)
            .saturating_add(max_wait.unwrap_or(Duration::from_secs(3600)))
            .max(Duration::from_secs(120));
        if let Some(remote) = remote {
            let name = remote.shared_name(KIND, id);
            if let Some(turn) = remote
                .call(counters, |s| s.take_turn(&name, interval, max_wait, ttl))
                .await
            {
                return turn.map(|(wait, ticket)| Turn {
                    wait,
                    ticket,
                    remote: true,
                });
            }
        }
        self.local
            .take(id, now, interval, max_wait)
            .map(|(wait, ticket)| Turn {
                wait,
                ticket,
                remote: false,
            })
    }

    /// Gives back a turn that has not started, to the queue it was taken from.
    pub(crate) async fn give_back(
        &self,
        remote: Option<&Remote>,
        counters: &Counters,
        id: &str,
        turn: Turn,
    ) {
        match (remote, turn.remote) {
            (Some(remote), true) => {
                let name = remote.shared_name(KIND, id);
                let _ = remote
                    .call(counters, |s| s.give_back_turn(&name, turn.ticket))
                    .await;
            }
            _ => self.local.give_back(id, turn.ticket),
        }
    }
}
