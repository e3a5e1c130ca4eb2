//! What a run shows while it works: the counters of the progress line and the summary, the
//! progress bar, and the question before a costly batch.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use proverka_core::Money;
use proverka_engine::{Outcome, Status};

/// Counters of this run, for the progress line and the summary.
#[derive(Debug, Default)]
pub(super) struct Stats {
    pub(super) done: u64,
    pub(super) from_cache: u64,
    pub(super) provider_calls: u64,
    pub(super) errors: u64,
    pub(super) spent: Money,
    pub(super) unknown: u64,
    pub(super) saved_cache: Money,
}

impl Stats {
    pub(super) fn add(&mut self, o: &Outcome) {
        self.done += 1;
        let price = o
            .price_rub
            .as_deref()
            .and_then(|p| Money::parse(p).ok())
            .unwrap_or(Money::ZERO);
        match o.source.as_str() {
            "cache" => {
                self.from_cache += 1;
                self.saved_cache = self.saved_cache.saturating_add(price);
            }
            _ => {
                self.provider_calls += 1;
                if o.billed == "charged" {
                    self.spent = self.spent.saturating_add(price);
                }
            }
        }
        if o.billed == "unknown" {
            self.unknown += 1;
        }
        if o.status != Status::Ok {
            self.errors += 1;
        }
    }

    pub(super) fn line(&self, total: u64, started: Instant) -> String {
        let rate = self.done as f64 / started.elapsed().as_secs_f64().max(0.001);
        format!(
            "{}/{total} done, {rate:.1}/s, {} RUB spent, {} from cache, {} errors",
            self.done, self.spent, self.from_cache, self.errors
        )
    }
}

pub(super) fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} {per_sec} ETA {eta} {msg}")
    {
        bar.set_style(style);
    }
    bar
}

/// Asks before paying more than `--confirm-above`; refuses when nobody can answer.
pub(super) fn confirm(max_total: Option<Money>, above: Money) -> Result<(), String> {
    let sum = max_total.map_or_else(|| "an unknown sum".to_owned(), |t| format!("{t} RUB"));
    if !std::io::stdin().is_terminal() {
        return Err(format!(
            "this batch may cost up to {sum} (above --confirm-above {above}); run again with --yes to pay, or --dry-run to look"
        ));
    }
    eprint!("this batch may cost up to {sum}. Send it? [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| e.to_string())?;
    if matches!(
        answer.trim().to_lowercase().as_str(),
        "y" | "yes" | "д" | "да"
    ) {
        Ok(())
    } else {
        Err("not confirmed: nothing sent".to_owned())
    }
}
