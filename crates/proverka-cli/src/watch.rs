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

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use proverka_core::seal::{EncryptionKey, Keyring};
use proverka_core::{Change, Clock, Date, Money, RawAnswer};
use proverka_engine::{Batch, Outcome, RowTask, RowView, Status};
use proverka_store::{RunStart, Store, WatchAnswer, WatchChange, WatchList, WatchSubject};
use tokio::task::JoinSet;

use crate::check::{Check, Planned, plan};
use crate::lang::Lang;
use crate::spend::SpendFormat;
use crate::table::{Cell, ReadOptions, Table};
use crate::target::Target;

mod deliver;
mod evidence;
mod report;
mod schedule;

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

/// The keys that seal what the store keeps of a subject: the cache's
/// (`PROVERKA_CACHE_ENCRYPTION_KEYS`, the one that seals first, or `…_KEY`).
///
/// # Errors
/// No key (the store would hold personal data in the clear), or one that is not 64 hex digits.
pub(crate) fn keyring() -> Result<Keyring, String> {
    let texts: Vec<String> = match crate::environment::var("PROVERKA_CACHE_ENCRYPTION_KEYS") {
        Some(list) => list.split(',').map(|k| k.trim().to_owned()).collect(),
        None => crate::environment::var("PROVERKA_CACHE_ENCRYPTION_KEY")
            .into_iter()
            .collect(),
    };
    if texts.is_empty() {
        return Err("watch lists keep personal data, sealed: set PROVERKA_CACHE_ENCRYPTION_KEY (64 hex digits, `openssl rand -hex 32`; the proxy's, to share its keys)".into());
    }
    let keys = texts
        .iter()
        .map(|t| EncryptionKey::from_hex(t))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("PROVERKA_CACHE_ENCRYPTION_KEY(S): {e}"))?;
    Keyring::new(keys).map_err(|e| format!("PROVERKA_CACHE_ENCRYPTION_KEYS: {e}"))
}

/// Sealing and naming for one list.
struct Vault<'a> {
    keys: &'a Keyring,
    list: &'a str,
}

impl Vault<'_> {
    fn aad(&self, subject: &str, run: Option<i64>) -> Vec<u8> {
        let mut aad = format!("proverka-watch\0{}\0{subject}", self.list).into_bytes();
        if let Some(run) = run {
            aad.extend_from_slice(format!("\0{run}").as_bytes());
        }
        aad
    }

    fn seal(&self, plaintext: &[u8], subject: &str, run: Option<i64>) -> String {
        base64::engine::general_purpose::STANDARD
            .encode(self.keys.seal(plaintext, &self.aad(subject, run)))
    }

    fn open(&self, sealed: &str, subject: &str, run: Option<i64>) -> Option<Vec<u8>> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(sealed)
            .ok()?;
        self.keys.open(&bytes, &self.aad(subject, run))
    }

    /// A subject's name: an HMAC of the list and its parameters (no personal data).
    fn subject_id(&self, pairs: &[(String, String)]) -> String {
        use hmac::Mac as _;
        let mut mac =
            <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(self.keys.naming_key())
                .expect("HMAC takes a key of any length");
        mac.update(b"proverka-watch-subject\0");
        mac.update(self.list.as_bytes());
        mac.update(b"\0");
        mac.update(serde_json::to_string(pairs).unwrap_or_default().as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    fn pairs(&self, s: &WatchSubject) -> Option<Vec<(String, String)>> {
        serde_json::from_slice(&self.open(&s.sealed, &s.id, None)?).ok()
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A provider's answer as the store keeps it (sealed).
#[derive(serde::Serialize, serde::Deserialize)]
struct KeptAnswer {
    status: u16,
    content_type: Option<String>,
    body: String,
}

impl KeptAnswer {
    fn of(raw: &RawAnswer) -> Self {
        Self {
            status: raw.status,
            content_type: raw.content_type.clone(),
            body: base64::engine::general_purpose::STANDARD.encode(&raw.body),
        }
    }

    fn raw(self) -> Option<RawAnswer> {
        Some(RawAnswer {
            status: self.status,
            content_type: self.content_type,
            body: base64::engine::general_purpose::STANDARD
                .decode(self.body)
                .ok()?
                .into(),
        })
    }
}

/// A change as the store keeps it (sealed) and a report shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct KeptChange {
    pub(crate) what: String,
    pub(crate) item: Option<String>,
    pub(crate) before: Option<String>,
    pub(crate) after: Option<String>,
}

impl From<&Change> for KeptChange {
    fn from(c: &Change) -> Self {
        Self {
            what: c.what.to_string(),
            item: c.item.clone(),
            before: c.before.clone(),
            after: c.after.clone(),
        }
    }
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

/// The most answers one transaction of a run writes.
const RECORDS_PER_COMMIT: usize = 256;

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
            store
                .watch_list_put(&WatchList {
                    name: add.list.clone(),
                    check: check_name,
                    every_s,
                    schedule,
                    webhook_sealed,
                    options: "{}".into(),
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

/// What a run did to one list.
#[derive(Debug, Default)]
struct RunTally {
    /// Stopped by Ctrl-C (SIGINT): the calls in flight were recorded, the run is not finished.
    interrupted: bool,
    asked: u64,
    calls: u64,
    from_cache: u64,
    changes: u64,
    failed: u64,
    spent: Money,
}

/// `watch run`: every list (or one), its due subjects checked through the engine.
///
/// # Errors
/// Through a proxy (not yet), an unknown list, a missing key, the store's failure.
pub(crate) async fn run(cmd: RunCmd, target: Arc<Target>, lang: Lang) -> Result<Ending, String> {
    let _ = lang;
    let keys = keyring()?;
    let presence = Arc::clone(target.presence());
    let store = Arc::clone(presence.store());
    let mut lists = store.watch_lists().await.map_err(|e| e.to_string())?;
    if let Some(only) = &cmd.list {
        lists.retain(|l| &l.name == only);
        if lists.is_empty() {
            return Err(format!("no list {only}"));
        }
    }
    let mut ending = Ending::Done;
    for list in lists {
        let Some(check) = Check::named(&list.check) else {
            eprintln!(
                "list {}: no check {} in this build; skipped",
                list.name, list.check
            );
            ending = Ending::SomeFailed;
            continue;
        };
        // One run of a list at a time, whichever host runs it.
        let lock = Batch::claim(
            Arc::clone(&presence),
            format!("watch-{}", short_hash(&list.name)),
            &format!("watch list {}", list.name),
        )
        .await
        .map_err(|e| format!("list {}: {e}", list.name))?;
        let ran = run_list(&cmd, &list, &check, &target, &keys).await;
        lock.release().await;
        match ran {
            Ok((tally, _)) if tally.interrupted => {
                eprintln!(
                    "list {}: interrupted after {} subjects; the next watch run takes the run up without paying twice",
                    list.name, tally.asked
                );
                return Ok(Ending::Interrupted);
            }
            Ok((tally, failed)) => {
                eprintln!(
                    "list {}: {} subjects asked, {} provider calls, {} from the cache, {} changes, {} failed, {} RUB",
                    list.name,
                    tally.asked,
                    tally.calls,
                    tally.from_cache,
                    tally.changes,
                    tally.failed,
                    tally.spent
                );
                if failed {
                    ending = Ending::SomeFailed;
                }
            }
            Err(e) => return Err(format!("list {}: {e}", list.name)),
        }
    }
    Ok(ending)
}

fn short_hash(text: &str) -> String {
    use sha2::Digest as _;
    hex(&sha2::Sha256::digest(text.as_bytes())[..8])
}

/// One list's run: `(what it did, whether something failed)`.
async fn run_list(
    cmd: &RunCmd,
    list: &WatchList,
    check: &Check,
    target: &Arc<Target>,
    keys: &Keyring,
) -> Result<(RunTally, bool), String> {
    let presence = Arc::clone(target.presence());
    let store = Arc::clone(presence.store());
    let clock = Arc::clone(presence.clock());
    let vault = Vault {
        keys,
        list: &list.name,
    };
    let now = clock.now();
    if list.webhook_sealed.is_some() && !cmd.dry_run {
        deliver::secret()?;
    }
    let subjects = store
        .watch_subjects(&list.name)
        .await
        .map_err(|e| e.to_string())?;
    let due: Vec<&WatchSubject> = subjects.iter().filter(|s| s.due <= now).collect();
    let mut planned: Vec<(&WatchSubject, Planned)> = Vec::new();
    let mut unreadable = 0u64;
    for s in &due {
        let Some(pairs) = vault.pairs(s) else {
            unreadable += 1;
            continue;
        };
        match plan(check, &pairs, now) {
            Ok(p) => planned.push((s, p)),
            Err(_) => unreadable += 1,
        }
    }
    if unreadable > 0 {
        eprintln!(
            "list {}: {unreadable} subjects cannot be read (sealed under a key no longer configured, or no longer valid): skipped",
            list.name
        );
    }
    if cmd.dry_run {
        let mut cached = 0u64;
        for (_, p) in &planned {
            cached += u64::from(target.is_cached(p).await);
        }
        let calls = planned.len() as u64 - cached;
        let price = target.max_price(check, planned.first().map(|(_, p)| p));
        let at_most = price.map_or_else(
            || "an unknown amount (no price configured)".to_owned(),
            |p| format!("{} RUB", Money::from_kopecks(p.kopecks() * calls as i64)),
        );
        let concurrency = cmd.concurrency.unwrap_or(check.spec.concurrency).max(1);
        let how_long = match target.estimated_time(check, calls, concurrency).await {
            Some(t) => format!("about {} s at {concurrency} at once", t.as_secs().max(1)),
            None if calls == 0 => "no time".to_owned(),
            None => "a time not known until the ledger has a call to its provider".to_owned(),
        };
        say(&format!(
            "list {}: {} subjects due of {}; {} answered from the cache; at most {calls} provider calls, at most {at_most}, {how_long}",
            list.name,
            planned.len(),
            subjects.len(),
            cached
        ));
        return Ok((RunTally::default(), false));
    }
    if planned.is_empty() {
        // Nothing due; a notification an earlier run could not deliver is sent again.
        let mut undelivered = false;
        if let Some(sealed_url) = &list.webhook_sealed {
            undelivered =
                !deliver::after_run(&*store, &vault, list, None, sealed_url, &*clock).await?;
        }
        return Ok((RunTally::default(), unreadable > 0 || undelivered));
    }
    let start = store
        .watch_run_start(&list.name, now)
        .await
        .map_err(|e| e.to_string())?;
    let run = start.run().clone();
    if let RunStart::Resumed(r) = &start {
        eprintln!(
            "list {}: taking up run {} (interrupted); nothing it may have paid for is sent again",
            list.name, r.id
        );
    }
    let batch = Batch::claim(
        Arc::clone(&presence),
        format!("watch-{}-run-{}", short_hash(&list.name), run.id),
        &format!("watch list {} run {}", list.name, run.id),
    )
    .await
    .map_err(|e| e.to_string())?;
    let concurrency = cmd.concurrency.unwrap_or(check.spec.concurrency).max(1);
    let ran = run_claimed(
        list,
        check,
        target,
        &vault,
        &batch,
        &run,
        planned,
        concurrency,
    )
    .await;
    batch.release().await;
    let (tally, failed) = ran?;
    if tally.interrupted {
        return Ok((tally, true));
    }
    store
        .watch_run_finish(run.id, clock.now())
        .await
        .map_err(|e| e.to_string())?;
    let mut undelivered = false;
    if let Some(sealed_url) = &list.webhook_sealed {
        undelivered =
            !deliver::after_run(&*store, &vault, list, Some(&run), sealed_url, &*clock).await?;
    }
    Ok((tally, failed || unreadable > 0 || undelivered))
}

/// The calls of a run, and what each answer is recorded as.
#[allow(clippy::too_many_arguments)]
async fn run_claimed(
    list: &WatchList,
    check: &Check,
    target: &Arc<Target>,
    vault: &Vault<'_>,
    batch: &Batch,
    run: &proverka_store::WatchRun,
    planned: Vec<(&WatchSubject, Planned)>,
    concurrency: usize,
) -> Result<(RunTally, bool), String> {
    let presence = target.presence();
    let store = Arc::clone(presence.store());
    let clock = Arc::clone(presence.clock());
    let schedule = Schedule::parse(&list.schedule).map_err(|e| format!("its schedule: {e}"))?;
    let every = schedule.interval(clock.now());
    let earlier = batch.rows().await.map_err(|e| e.to_string())?;
    let latest: HashMap<String, WatchAnswer> = store
        .watch_latest(&list.name)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|a| (a.subject.clone(), a))
        .collect();
    let mut tally = RunTally::default();
    let mut failed = false;
    let summarize: proverka_engine::Summarizer = Arc::new(check.spec.fields);
    // Calls go out as permits allow; each answer is recorded as it comes, while the next calls
    // are in flight (the store's writes overlap the provider's latency).
    let (tx, mut rx) =
        tokio::sync::mpsc::unbounded_channel::<(usize, String, Result<Outcome, String>)>();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut to_send = Vec::new();
    for (i, (subject, p)) in planned.iter().enumerate() {
        let key = p.key();
        let request_id = format!("watch-{}-{}", run.id, &subject.id[..12]);
        let send_again = match earlier.get(&key) {
            Some(RowView::Done(o)) => {
                let _ = tx.send((i, request_id, Ok((**o).clone())));
                continue;
            }
            Some(RowView::Unsent) | None => true,
            // Sent through a proxy by a run that stopped: asked again (a hit, or its flight
            // joined) unless the proxy's ledger says it may have been billed.
            Some(RowView::ViaProxy(sent_as)) => target.may_ask_again(p, sent_as).await,
            Some(_) => false,
        };
        if send_again {
            to_send.push((
                i,
                request_id,
                p.clone(),
                RowTask::new(batch.row(&key), Arc::clone(&summarize)),
            ));
            continue;
        }
        let known = abandoned();
        let _ = tx.send((i, request_id, Ok(known)));
    }
    let dispatcher = {
        let (target, check, stop, tx) = (
            Arc::clone(target),
            check.clone(),
            Arc::clone(&stop),
            tx.clone(),
        );
        let limit = Arc::new(tokio::sync::Semaphore::new(concurrency));
        tokio::spawn(async move {
            let mut calls = JoinSet::new();
            for (i, request_id, p, row) in to_send {
                let Ok(permit) = Arc::clone(&limit).acquire_owned().await else {
                    break;
                };
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let (target, check, tx) = (Arc::clone(&target), check.clone(), tx.clone());
                calls.spawn(async move {
                    let outcome = ask(&target, &check, &p, row, &request_id, every).await;
                    drop(permit);
                    let _ = tx.send((i, request_id, outcome));
                });
            }
            while calls.join_next().await.is_some() {}
        })
    };
    drop(tx);
    // Ctrl-C (or the service's stop): no new calls; the calls in flight are paid, so their
    // answers are waited for and recorded; the next run takes the rest up.
    let interrupted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let listener = {
        let (stop, interrupted) = (Arc::clone(&stop), Arc::clone(&interrupted));
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                interrupted.store(true, std::sync::atomic::Ordering::SeqCst);
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                eprintln!(
                    "interrupted: no new calls; waiting for the calls in flight (they are paid: their answers are kept)"
                );
            }
        })
    };
    let mut fatal: Option<String> = None;
    // Answers are written in groups: what came in while the last group was being written
    // goes in the next one, in one transaction (one commit to disk for many answers). A run
    // that dies loses no money state by this: each row's outcome was recorded with its call.
    let mut records: Vec<proverka_store::WatchRecord> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut arrived = vec![first];
        while arrived.len() < RECORDS_PER_COMMIT
            && let Ok(more) = rx.try_recv()
        {
            arrived.push(more);
        }
        for (i, request_id, outcome) in arrived {
            let outcome = match outcome {
                Ok(o) => o,
                // The run cannot go on (no credential, …): no new calls, nothing recorded for this
                // subject (it stays due).
                Err(message) => {
                    stop.store(true, std::sync::atomic::Ordering::SeqCst);
                    fatal.get_or_insert(message);
                    continue;
                }
            };
            let (subject, p) = &planned[i];
            let at = clock.now();
            if outcome.source == "provider" {
                tally.calls += 1;
            }
            if outcome.source == "cache" {
                tally.from_cache += 1;
            }
            if outcome.billed == "charged"
                && let Some(price) = outcome
                    .price_rub
                    .as_deref()
                    .and_then(|t| Money::parse(t).ok())
            {
                tally.spent = tally.spent.saturating_add(price);
            }
            let mut changes = Vec::new();
            if outcome.status == Status::Ok
                && !run.baseline
                && let Some(after) = &outcome.raw
                && let Some(before) = latest.get(&subject.id).and_then(|a| {
                    let sealed = a.sealed.as_deref()?;
                    let kept: KeptAnswer =
                        serde_json::from_slice(&vault.open(sealed, &subject.id, Some(a.run))?)
                            .ok()?;
                    kept.raw()
                })
            {
                changes = p.lookup.changes(&before, after);
            }
            tally.changes += changes.len() as u64;
            let ok = outcome.status == Status::Ok;
            if !ok {
                failed = true;
                tally.failed += 1;
                // What went wrong, for the first few (the subject by its id, never its data).
                if tally.failed <= 5 {
                    eprintln!(
                        "list {}: subject {}: {} {}: {}",
                        list.name,
                        &subject.id[..12],
                        outcome.status.as_str(),
                        outcome.error_code.as_deref().unwrap_or_default(),
                        outcome.error_message.as_deref().unwrap_or_default()
                    );
                }
            }
            let answer = WatchAnswer {
                subject: subject.id.clone(),
                run: run.id,
                at,
                status: outcome.status.as_str().to_owned(),
                source: outcome.source.clone(),
                billed: outcome.billed.clone(),
                price: outcome
                    .price_rub
                    .as_deref()
                    .and_then(|t| Money::parse(t).ok()),
                request_id,
                body_sha256: outcome.raw.as_ref().map(|r| {
                    use sha2::Digest as _;
                    hex(&sha2::Sha256::digest(&r.body))
                }),
                sealed: outcome.raw.as_ref().map(|r| {
                    vault.seal(
                        &serde_json::to_vec(&KeptAnswer::of(r)).unwrap_or_default(),
                        &subject.id,
                        Some(run.id),
                    )
                }),
            };
            let kept: Vec<WatchChange> = changes
                .iter()
                .map(|c| WatchChange {
                    subject: subject.id.clone(),
                    run: run.id,
                    at,
                    what: c.what.to_string(),
                    sealed: vault.seal(
                        &serde_json::to_vec(&KeptChange::from(c)).unwrap_or_default(),
                        &subject.id,
                        Some(run.id),
                    ),
                })
                .collect();
            // A failure that may succeed later and cost nothing is asked again next run.
            let next_due = if outcome.status == Status::RetryLater {
                at
            } else {
                schedule.next_after(at)
            };
            records.push(proverka_store::WatchRecord {
                answer,
                changes: kept,
                next_due,
            });
        }
        let written = store
            .watch_record(&list.name, &records)
            .await
            .map_err(|e| e.to_string())?;
        tally.asked += written.iter().filter(|w| **w).count() as u64;
        records.clear();
    }
    let _ = dispatcher.await;
    listener.abort();
    if let Some(message) = fatal {
        return Err(message);
    }
    tally.interrupted = interrupted.load(std::sync::atomic::Ordering::SeqCst);
    Ok((tally, failed))
}

/// One subject asked. Straight to a provider the engine records its row with the call's
/// settlement; through a proxy the row is marked as sent first (a run that stops then leaves
/// it to the proxy's cache and ledger, not to a second payment) and recorded after.
async fn ask(
    target: &Target,
    check: &Check,
    planned: &Planned,
    row: RowTask,
    request_id: &str,
    max_age: Duration,
) -> Result<Outcome, String> {
    let presence = target.presence();
    if target.via_proxy() {
        let now = presence.clock().now();
        presence
            .store()
            .row_sending(&row.row, request_id, now)
            .await
            .map_err(|e| format!("the store of record: {e}"))?;
        let outcome = target
            .check(check, planned, None, request_id, Some(max_age), true)
            .await
            .map_err(|fatal| fatal.0)?;
        presence
            .store()
            .row_done(&row.row, &outcome.to_json(), false, presence.clock().now())
            .await
            .map_err(|e| format!("the store of record: {e}"))?;
        return Ok(outcome);
    }
    target
        .check(check, planned, Some(row), request_id, Some(max_age), true)
        .await
        .map_err(|fatal| fatal.0)
}

/// A subject sent by a run that stopped before recording the answer: it may have been billed,
/// and is not sent again in this run.
fn abandoned() -> Outcome {
    Outcome::failed(
        Status::BilledUnknown,
        "interrupted",
        "a run that stopped before recording the answer had sent it: the provider may have billed it",
        "unknown",
        "provider",
    )
}

/// The start of a Moscow day.
pub(crate) fn moscow_day_start(day: Date) -> SystemTime {
    let secs = day.days_since_epoch() * 86_400 - 3 * 3600;
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}
