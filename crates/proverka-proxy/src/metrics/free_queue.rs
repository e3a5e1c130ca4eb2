//! The free sources' queues: the wait each turn was given, and the turns given back when
//! every caller waiting for one had left.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use proverka_core::Provider;
use proverka_engine::QueueEvent;

use super::{HistogramFamily, ProviderLabels};

/// Turn waits, seconds: a free source paced at one call a minute queues for minutes.
const WAIT_BUCKETS: [f64; 10] = [
    0.0, 1.0, 5.0, 15.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];

fn wait_histogram() -> Histogram {
    Histogram::new(WAIT_BUCKETS)
}

/// The queue metrics, registered once.
#[derive(Debug)]
pub(super) struct FreeQueueMetrics {
    waits: HistogramFamily<ProviderLabels>,
    given_back: Family<ProviderLabels, Counter>,
}

impl FreeQueueMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let waits: HistogramFamily<ProviderLabels> = Family::new_with_constructor(wait_histogram);
        registry.register_with_unit(
            "free_queue_wait",
            "The wait each turn in a free source's queue was given when taken, by free provider",
            Unit::Seconds,
            waits.clone(),
        );
        let given_back = Family::<ProviderLabels, Counter>::default();
        registry.register(
            "free_queue_given_back",
            "Turns in a free source's queue given back before they started: every caller waiting for one had left",
            given_back.clone(),
        );
        Self { waits, given_back }
    }

    pub(super) fn record(&self, provider: Provider, event: QueueEvent) {
        let labels = ProviderLabels {
            provider: provider.as_str(),
        };
        match event {
            QueueEvent::Taken { wait } => {
                self.waits
                    .get_or_create(&labels)
                    .observe(wait.as_secs_f64());
            }
            QueueEvent::GivenBack => {
                self.given_back.get_or_create(&labels).inc();
            }
            _ => {}
        }
    }
}
