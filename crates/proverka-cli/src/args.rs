//! The command line's arguments for checks, batches and spend reports (clap).

use std::path::PathBuf;

use clap::Args;
use proverka_core::Money;

use crate::spend::SpendFormat;

#[derive(Debug, Args)]
pub(crate) struct SpendCmd {
    /// A Moscow month, YYYY-MM (default: this one).
    #[arg(long, conflicts_with_all = ["day", "from", "to"])]
    pub(crate) month: Option<String>,
    /// One Moscow day, YYYY-MM-DD.
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub(crate) day: Option<String>,
    /// The first day of a range, YYYY-MM-DD (with --to).
    #[arg(long, requires = "to")]
    pub(crate) from: Option<String>,
    /// The last day of a range, inclusive (with --from).
    #[arg(long, requires = "from")]
    pub(crate) to: Option<String>,
    /// csv, xlsx or json (default: by --out's extension, else csv).
    #[arg(long, value_enum)]
    pub(crate) format: Option<SpendFormat>,
    /// Where to write it (default: standard output; xlsx needs a file).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BatchCmd {
    /// The list: .csv (UTF-8 or Windows-1251; comma, semicolon or tab; with a header), .xlsx
    /// or .jsonl.
    #[arg(long, value_name = "FILE")]
    pub(crate) input: PathBuf,
    /// The CSV's encoding (default: detected: UTF-8, else Windows-1251).
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub(crate) encoding: Option<crate::table::Encoding>,
    /// The workbook's sheet to check (default: the first).
    #[arg(long, value_name = "NAME")]
    pub(crate) sheet: Option<String>,
    /// What to check on every row (one of the registry's checks).
    #[arg(long, value_name = "CHECK")]
    pub(crate) check: String,
    /// The result: every input column and row, plus result columns (.csv, .xlsx or .jsonl).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: PathBuf,
    /// Read a column as a parameter: `--map "Налоговый номер=inn"` (repeatable).
    #[arg(long, value_name = "COLUMN=PARAM", value_parser = parse_map)]
    pub(crate) map: Vec<(String, String)>,
    /// The region of rows without one, for a check whose region may be "all" (-1).
    #[arg(long, default_value = "-1", allow_hyphen_values = true)]
    pub(crate) region: String,
    /// Validate, collapse and estimate; send nothing, leave nothing behind.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// With --dry-run: write the invalid rows and why to this CSV file.
    #[arg(long, value_name = "FILE", requires = "dry_run")]
    pub(crate) report: Option<PathBuf>,
    /// Do not ask before paying.
    #[arg(long)]
    pub(crate) yes: bool,
    /// Ask before a batch that may cost more than this (rubles).
    #[arg(long, default_value = "1000", value_name = "RUB", value_parser = parse_rub)]
    pub(crate) confirm_above: Money,
    /// Provider calls at once (default: the check's own, as its provider allows).
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
    /// Send again the rows marked retry_later (free to retry) by an earlier run.
    #[arg(long)]
    pub(crate) retry_failed: bool,
    /// Send again the rows marked billed_unknown (they may have been paid already).
    #[arg(long)]
    pub(crate) retry_unknown: bool,
}

pub(crate) fn parse_map(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(c, p)| (c.trim().to_owned(), p.trim().to_owned()))
        .filter(|(c, p)| !c.is_empty() && !p.is_empty())
        .ok_or_else(|| "expected COLUMN=PARAM".to_owned())
}

pub(crate) fn parse_rub(s: &str) -> Result<Money, String> {
    Money::parse(s).map_err(|e| e.to_string())
}
