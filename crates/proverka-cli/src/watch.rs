//! `proverka watch` (`docs/watch.md`): lists of subjects kept in the store of record and
//! checked again on a schedule; every answer kept per subject, each change between two answers
//! found as the subject's provider reads it ([`Lookup::changes`](proverka_core::Lookup::changes)),
//! a run that found changes posted, signed, to the list's webhook.
//!
//! What the store holds of a subject (its parameters, its answers' bytes, its changes, the
//! webhook URL) is sealed with the cache's encryption keys (`PROVERKA_CACHE_ENCRYPTION_KEY`,
//! or `…_KEYS` for a rotation) and bound to the list and the subject; a subject is named by
//! an HMAC of its parameters. A run is a batch of the store: it pays through the engine (budget
//! reservation and ledger record before each call), and a run that stops is taken up by the
//! next `watch run`, which sends nothing that may have been billed.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proverka_core::{Clock, Date};
use proverka_store::{Store, WatchList, WatchSubject};

use crate::check::{Check, plan};
use crate::lang::Lang;
use crate::spend::SpendFormat;
use crate::table::{Cell, ReadOptions, Table};

mod deliver;
mod evidence;
mod report;
mod run;
mod schedule;
mod vault;

pub(crate) use run::run;
use vault::{Vault, keyring};

use schedule::Schedule;

/// `proverka watch …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum WatchCmd {
    /// Add a file's rows to a list as its subjects (made on first use; `--every` and
    /// `--webhook` change its settings).
    Add(AddCmd),
    /// Remove a file's rows from a list, or the whole list (its history stays).
    Remove(RemoveCmd),
    /// The lists: check, schedule, subjects, subjects due, runs.
    List,
    /// Check every subject that is due, then exit (for a systemd timer or cron).
    Run(RunCmd),
    /// What changed, one row per change with before and after.
    Changes(ChangesCmd),
    /// For an audit: one subject's every answer, with its time, source, request id, ledger
    /// record and the SHA-256 of the provider's bytes (JSON, or a printable HTML page).
    Evidence(evidence::EvidenceCmd),
}

impl WatchCmd {
    /// Whether it needs the engine (a run, dry or not: it asks the cache); the rest reads and
    /// writes the store only.
    pub(crate) fn needs_engine(&self) -> bool {
        matches!(self, Self::Run(_))
    }
}

/// Where a list's subjects come from: the batch's input formats and column mapping.
#[derive(Debug, clap::Args)]
pub(crate) struct InputArgs {
    /// The subjects: .csv (UTF-8 or Windows-1251), .xlsx or .jsonl, with a header.
    #[arg(long, value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
    /// The CSV's encoding (default: detected).
    #[arg(long, value_enum, value_name = "ENCODING")]
    pub(crate) encoding: Option<crate::table::Encoding>,
    /// The workbook's sheet (default: the first).
    #[arg(long, value_name = "NAME")]
    pub(crate) sheet: Option<String>,
    /// Read a column as a parameter: `--map "Дата выплаты=date"` (repeatable).
    #[arg(long, value_name = "COLUMN=PARAM", value_parser = crate::check::parse_map)]
    pub(crate) map: Vec<(String, String)>,
    /// The region of rows without one, for a check whose region may be "all" (-1).
    #[arg(long, default_value = "-1", allow_hyphen_values = true)]
    pub(crate) region: String,
}

/// `watch add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddCmd {
    /// The list's name.
    #[arg(long, value_name = "NAME")]
    pub(crate) list: String,
    /// What its subjects get (one of the registry's checks); needed when the list is new.
    #[arg(long, value_name = "CHECK")]
    pub(crate) check: Option<String>,
    /// How often a subject is asked again: a number and s, m, h or d (`1d`, `12h`).
    /// Default for a new list: 1d.
    #[arg(long, value_name = "INTERVAL", value_parser = parse_every, conflicts_with = "cron")]
    pub(crate) every: Option<String>,
    /// When subjects are asked again, as a cron expression in Moscow time: five fields,
    /// `"0 9 * * Mon-Fri"` (a subject is due at the first time it names after its answer).
    #[arg(long, value_name = "EXPR", value_parser = parse_cron)]
    pub(crate) cron: Option<String>,
    /// Post each run's changes here (signed with `PROVERKA_WEBHOOK_SECRET`).
    #[arg(long, value_name = "URL")]
    pub(crate) webhook: Option<String>,
    /// Through a proxy, this list's runs pay as this client (its key: its budget and spend),
    /// not as the run's `--key`. Kept sealed.
    #[arg(
        long,
        value_name = "KEY",
        env = "PROVERKA_LIST_KEY",
        hide_env_values = true
    )]
    pub(crate) proxy_key: Option<String>,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `watch remove`.
#[derive(Debug, clap::Args)]
pub(crate) struct RemoveCmd {
    /// The list's name.
    #[arg(long, value_name = "NAME")]
    pub(crate) list: String,
    #[command(flatten)]
    pub(crate) input: InputArgs,
}

/// `watch run`.
#[derive(Debug, clap::Args)]
pub(crate) struct RunCmd {
    /// Only this list (default: every list).
    #[arg(long, value_name = "NAME")]
    pub(crate) list: Option<String>,
    /// Show what is due, how many calls and at most how many rubles; send nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Provider calls at once (default: the check's own).
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
}

/// `watch changes`.
#[derive(Debug, clap::Args)]
pub(crate) struct ChangesCmd {
    /// The list's name.
    #[arg(long, value_name = "NAME")]
    pub(crate) list: String,
    /// Changes found on this Moscow day (YYYY-MM-DD) or later (default: all).
    #[arg(long, value_name = "DATE")]
    pub(crate) since: Option<String>,
    /// csv, xlsx or json (default: by --out's extension, else csv).
    #[arg(long, value_enum)]
    pub(crate) format: Option<SpendFormat>,
    /// Where to write it (default: standard output; xlsx needs a file).
    #[arg(long, value_name = "FILE")]
    pub(crate) out: Option<PathBuf>,
}

/// `--every`, checked.
fn parse_every(text: &str) -> Result<String, String> {
    Schedule::every(text).map(|_| text.trim().to_owned())
}

/// `--cron`, checked; kept as the store keeps it.
fn parse_cron(text: &str) -> Result<String, String> {
    Schedule::cron(text).map(|_| format!("cron:{}", text.trim()))
}

/// A subject's parameters (provider-style names).
type Params = Vec<(String, String)>;

/// A row refused: its line, and why.
type Refused = (usize, String);

/// A line on standard output (what a command answers; progress and warnings go to standard
/// error).
fn say(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// How a watch command ended (its exit code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Done.
    Done,
    /// Done, with rows refused or subjects that failed (said on standard error).
    SomeFailed,
    /// Stopped by Ctrl-C: what was answered is kept; the next run takes the rest up.
    Interrupted,
}

async fn list_named(store: &dyn Store, name: &str) -> Result<Option<WatchList>, String> {
    Ok(store
        .watch_lists()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|l| l.name == name))
}

/// The subjects a file gives for `check`: valid rows' parameters, and the refused rows
/// (line, code, message).
fn subjects_of(
    check: &Check,
    input: &InputArgs,
    lang: Lang,
    now: SystemTime,
) -> Result<(Vec<Params>, Vec<Refused>), String> {
    let Some(path) = &input.input else {
        return Err("--input FILE: the subjects".into());
    };
    let table = Table::read(
        path,
        &ReadOptions {
            encoding: input.encoding,
            sheet: input.sheet.clone(),
        },
    )?;
    let params = check.columns(&table.headers, &input.map, path)?;
    let (mut valid, mut refused) = (Vec::new(), Vec::new());
    for (line, row) in &table.rows {
        let texts: Vec<String> = row.iter().map(Cell::text).collect();
        let prepared = crate::batch::row_params(check, &params, &texts, &input.region, lang);
        let checked = match prepared.refused {
            Some(r) => Err(r),
            None => plan(check, &prepared.params, now).map(|_| ()),
        };
        match checked {
            // In one order, whatever the file's: the same person from another file is the
            // same subject.
            Ok(()) => {
                let mut params = prepared.params;
                params.sort();
                valid.push(params);
            }
            Err(e) => refused.push((*line, format!("{}: {}", e.code, e.message))),
        }
    }
    Ok((valid, refused))
}

/// `watch add`, `remove`, `list`, `changes`: the store only.
///
/// # Errors
/// A missing key, an unreadable input, an unknown list or check, the store's failure.
pub(crate) async fn manage(
    cmd: WatchCmd,
    store: &dyn Store,
    clock: &dyn Clock,
    lang: Lang,
) -> Result<Ending, String> {
    let now = clock.now();
    match cmd {
        WatchCmd::Add(add) => {
            let keys = keyring()?;
            let existing = list_named(store, &add.list).await?;
            let check_name = match (&add.check, &existing) {
                (Some(c), Some(l)) if *c != l.check => {
                    return Err(format!(
                        "list {}: its check is {}, not {c} (a list has one check: use another list)",
                        add.list, l.check
                    ));
                }
                (Some(c), _) => c.clone(),
                (None, Some(l)) => l.check.clone(),
                (None, None) => return Err(format!("list {} is new: --check CHECK", add.list)),
            };
            let check = Check::named(&check_name)
                .ok_or_else(|| format!("--check {check_name}: no such check"))?;
            let vault = Vault {
                keys: &keys,
                list: &add.list,
            };
            let schedule = add
                .every
                .clone()
                .or_else(|| add.cron.clone())
                .or_else(|| existing.as_ref().map(|l| l.schedule.clone()))
                .unwrap_or_else(|| "1d".to_owned());
            let every_s = i64::try_from(Schedule::parse(&schedule)?.interval(now).as_secs())
                .unwrap_or(i64::MAX);
            let webhook_sealed = match &add.webhook {
                Some(url) => {
                    let parsed = url::Url::parse(url).map_err(|e| format!("--webhook: {e}"))?;
                    if !matches!(parsed.scheme(), "http" | "https") {
                        return Err("--webhook: an http(s) URL".into());
                    }
                    Some(vault.seal(url.as_bytes(), "webhook", None))
                }
                None => existing.as_ref().and_then(|l| l.webhook_sealed.clone()),
            };
            let (valid, refused) = match add.input.input {
                Some(_) => subjects_of(&check, &add.input, lang, now)?,
                None if existing.is_some() => (Vec::new(), Vec::new()),
                None => return Err("--input FILE: the list's subjects".into()),
            };
            let mut options = existing
                .as_ref()
                .map_or_else(|| "{}".to_owned(), |l| l.options.clone());
            if let Some(key) = &add.proxy_key {
                options = vault.with_proxy_key(&options, key);
            }
            store
                .watch_list_put(&WatchList {
                    name: add.list.clone(),
                    check: check_name,
                    every_s,
                    schedule,
                    webhook_sealed,
                    options,
                    created: existing.as_ref().map_or(now, |l| l.created),
                })
                .await
                .map_err(|e| e.to_string())?;
            let subjects: Vec<WatchSubject> = valid
                .iter()
                .map(|pairs| {
                    let id = vault.subject_id(pairs);
                    let sealed = vault.seal(
                        serde_json::to_string(pairs).unwrap_or_default().as_bytes(),
                        &id,
                        None,
                    );
                    WatchSubject {
                        id,
                        sealed,
                        added: now,
                        due: now,
                    }
                })
                .collect();
            let added = store
                .watch_subjects_add(&add.list, &subjects)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "list {}: {added} subjects added, {} already there, {} rows refused",
                add.list,
                subjects.len() as u64 - added,
                refused.len()
            );
            report_refused(&refused)
        }
        WatchCmd::Remove(remove) => {
            let Some(list) = list_named(store, &remove.list).await? else {
                return Err(format!("no list {}", remove.list));
            };
            if remove.input.input.is_none() {
                store
                    .watch_list_remove(&list.name)
                    .await
                    .map_err(|e| e.to_string())?;
                eprintln!(
                    "list {} removed (its history stays in the store: watch changes)",
                    list.name
                );
                return Ok(Ending::Done);
            }
            let keys = keyring()?;
            let vault = Vault {
                keys: &keys,
                list: &list.name,
            };
            let check = Check::named(&list.check)
                .ok_or_else(|| format!("list {}: no check {}", list.name, list.check))?;
            let (valid, refused) = subjects_of(&check, &remove.input, lang, now)?;
            let ids: Vec<String> = valid.iter().map(|p| vault.subject_id(p)).collect();
            let removed = store
                .watch_subjects_remove(&list.name, &ids)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "list {}: {removed} subjects removed, {} were not in it",
                list.name,
                ids.len() as u64 - removed
            );
            report_refused(&refused)
        }
        WatchCmd::List => {
            say("list\tcheck\tevery\tsubjects\tdue\truns\tlast run");
            for l in store.watch_lists().await.map_err(|e| e.to_string())? {
                let subjects = store
                    .watch_subjects(&l.name)
                    .await
                    .map_err(|e| e.to_string())?;
                let due = subjects.iter().filter(|s| s.due <= now).count();
                let runs = store.watch_runs(&l.name).await.map_err(|e| e.to_string())?;
                let last = runs.last().map_or_else(
                    || "-".to_owned(),
                    |r| match r.finished {
                        Some(f) => report::moscow_time(f),
                        None => "interrupted: watch run resumes it".to_owned(),
                    },
                );
                say(&format!(
                    "{}\t{}\t{}\t{}\t{due}\t{}\t{last}",
                    l.name,
                    l.check,
                    l.schedule.strip_prefix("cron:").unwrap_or(&l.schedule),
                    subjects.len(),
                    runs.len()
                ));
            }
            Ok(Ending::Done)
        }
        WatchCmd::Changes(c) => report::changes(c, store, lang).await,
        WatchCmd::Evidence(e) => evidence::run(e, store).await,
        WatchCmd::Run(_) => Err("watch run needs the engine".into()),
    }
}

fn report_refused(refused: &[Refused]) -> Result<Ending, String> {
    for (line, why) in refused.iter().take(20) {
        eprintln!("  line {line}: {why}");
    }
    if refused.len() > 20 {
        eprintln!("  … and {} more", refused.len() - 20);
    }
    Ok(if refused.is_empty() {
        Ending::Done
    } else {
        Ending::SomeFailed
    })
}

/// The start of a Moscow day.
pub(crate) fn moscow_day_start(day: Date) -> SystemTime {
    let secs = day.days_since_epoch() * 86_400 - 3 * 3600;
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}
