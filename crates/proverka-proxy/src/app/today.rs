//! What "today" means on the status page: the counters at the start of the Moscow day, kept
//! in the proxy's state and taken again at each midnight.

use std::sync::Mutex;

use proverka_core::Date;

/// One provider's counters, as the page counts them.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counts {
    pub(crate) by_status: [u64; 5],
    pub(crate) calls: u64,
    pub(crate) billed_unknown: u64,
    pub(crate) spent_rub: f64,
    pub(crate) saved_rub: f64,
    /// Queries refused locally, in the order of [`REFUSALS`](crate::metrics::REFUSALS).
    pub(crate) refused: [u64; crate::metrics::REFUSALS.len()],
}

/// The counters at the start of the Moscow day, per provider in registry order.
#[derive(Debug)]
pub(crate) struct DayStart {
    pub(crate) day: Date,
    pub(crate) counts: Vec<Counts>,
}

impl DayStart {
    /// Zeros for `today`: a replica started today counted nothing before.
    pub(crate) fn new(providers: usize, today: Date) -> Mutex<Self> {
        Mutex::new(Self {
            day: today,
            counts: vec![Counts::default(); providers],
        })
    }
}
