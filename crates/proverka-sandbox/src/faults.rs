//! Fault injection: which faults the next call to a provider suffers.

use std::time::Duration;

use proverka_core::sandbox::{Fault, FaultRule};

/// What the faults decided for one call.
#[derive(Debug, Default)]
pub(crate) struct Applied {
    pub(crate) delay: Duration,
    pub(crate) fault: Option<Fault>,
}

/// Takes the faults that apply to this call, consuming one use of each.
pub(crate) fn apply(rules: &mut Vec<FaultRule>, call_number: u64) -> Applied {
    let mut applied = Applied::default();
    for rule in rules.iter_mut() {
        if rule.times == Some(0) {
            continue;
        }
        let used = match &rule.fault {
            Fault::Latency { ms, jitter_ms } => {
                let jitter = if *jitter_ms == 0 {
                    0
                } else {
                    call_number.wrapping_mul(2_654_435_761) % (jitter_ms + 1)
                };
                applied.delay += Duration::from_millis(ms.saturating_add(jitter));
                true
            }
            other if applied.fault.is_none() => {
                applied.fault = Some(other.clone());
                true
            }
            _ => false,
        };
        if used && let Some(n) = rule.times.as_mut() {
            *n -= 1;
        }
    }
    rules.retain(|r| r.times != Some(0));
    applied
}
