//! `proverka`: one-off checks and batches of checks against the paid Russian check APIs,
//! straight to the providers (tokens from the environment) or through a proverka proxy.
//! See `docs/cli.md`.

mod args;
mod batch;
mod check;
mod environment;
mod journal;
mod lang;
mod names;
mod spend;
mod table;
mod target;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use proverka_core::Secret;

use proverka_engine::{Outcome, Status};

use crate::args::{BatchCmd, Fssp, Person, SpendCmd};
use crate::batch::{BatchArgs, Ending};
use crate::check::{CheckKind, plan};
use crate::spend::SpendArgs;
use crate::target::{NpdSource, Settings, Target};

/// Checks against FSSP, court jurisdiction, NPD and Alfa-Bank: one at a time or whole lists,
/// never paying twice for the same answer.
#[derive(Debug, Parser)]
#[command(name = "proverka", version = concat!(env!("CARGO_PKG_VERSION"), " (", env!("PROVERKA_COMMIT"), ")"), about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Where checks go and how they are shown.
#[derive(Debug, Args)]
struct Global {
    /// Send checks through a proverka proxy (its cache, budgets and ledger apply).
    #[arg(long, global = true, env = "PROVERKA_PROXY", value_name = "URL")]
    proxy: Option<String>,
    /// The proxy's client key.
    #[arg(
        long,
        global = true,
        env = "PROVERKA_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    key: Option<String>,
    /// Run against the built-in simulators of the providers (no token, nothing leaves the
    /// machine).
    #[arg(long, global = true)]
    sandbox: bool,
    /// Share the cache with other runs and proxies through Redis (direct mode).
    #[arg(
        long,
        global = true,
        env = "PROVERKA_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    redis: Option<String>,
    /// At most this many provider calls a minute (default: no limit beyond --concurrency).
    #[arg(long, global = true, value_name = "N")]
    per_minute: Option<u32>,
    /// Where NPD answers come from: `paid` (api-assist), `free` (the tax service's free
    /// check only) or `free-then-paid` (free while its queue is short). Default: paid. With
    /// --proxy, the proxy's configuration decides.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "PROVERKA_NPD_SOURCE",
        value_name = "SOURCE"
    )]
    npd_source: Option<NpdSource>,
    /// The store of record (budgets, the ledger, batch state): a SQLite file, or a
    /// `postgres://` URL shared with proxies and other runs. Default: beside the output for
    /// a batch, a file of this user's otherwise.
    #[arg(
        long,
        global = true,
        env = "PROVERKA_STORE",
        value_name = "PATH|URL",
        hide_env_values = true
    )]
    store: Option<String>,
    /// Print the typed model as JSON instead of a table (one-off checks).
    #[arg(long, global = true)]
    json: bool,
    /// The language of a batch's result columns, statuses, summary and row errors: `ru`
    /// (default) or `en`.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "PROVERKA_LANG",
        default_value = "ru"
    )]
    lang: lang::Lang,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// FSSP (ФССП) debts: one query of a type.
    #[command(subcommand)]
    Fssp(Fssp),
    /// The court with jurisdiction over an address or a point (территориальная подсудность).
    Court {
        /// The address, to the building.
        #[arg(long, conflicts_with = "coords", required_unless_present = "coords")]
        address: Option<String>,
        /// "lon lat" (or "lat lon"), separated by a space.
        #[arg(long)]
        coords: Option<String>,
    },
    /// Whether an INN is a self-employed (НПД) tax payer on a date.
    Npd {
        /// The individual's 12-digit INN.
        #[arg(long)]
        inn: String,
        /// YYYY-MM-DD or dd.mm.yyyy; today in Moscow when absent.
        #[arg(long)]
        date: Option<String>,
    },
    /// An Alfa-Bank self-employed registry, every page.
    Alfa {
        /// The registry request's id.
        request_id: String,
        /// The bank's bearer token.
        #[arg(long, env = "PROVERKA_ALFA_BEARER", hide_env_values = true)]
        bearer: Option<String>,
    },
    /// Check every row of a CSV, XLSX or JSONL file; resumable.
    Batch(BatchCmd),
    /// What was spent, per client, provider and kind: to reconcile with an invoice.
    Spend(SpendCmd),
}

fn main() -> ExitCode {
    if let Err(e) = environment::load() {
        eprintln!("proverka: {e}");
        return ExitCode::from(2);
    }
    let mut cli = Cli::parse();
    // clap reads the plain variables; their `_FILE` forms come from the files.
    let global = &mut cli.global;
    global.proxy = global
        .proxy
        .take()
        .or_else(|| environment::var("PROVERKA_PROXY"));
    global.key = global
        .key
        .take()
        .or_else(|| environment::var("PROVERKA_KEY"));
    global.redis = global
        .redis
        .take()
        .or_else(|| environment::var("PROVERKA_REDIS_URL"));
    global.store = global
        .store
        .take()
        .or_else(|| environment::var("PROVERKA_STORE"));
    if global.npd_source.is_none()
        && let Some(text) = environment::var("PROVERKA_NPD_SOURCE")
    {
        match <NpdSource as clap::ValueEnum>::from_str(&text, true) {
            Ok(source) => global.npd_source = Some(source),
            Err(_) => {
                eprintln!(
                    "proverka: PROVERKA_NPD_SOURCE_FILE: {text:?} is not one of paid, free, free-then-paid"
                );
                return ExitCode::from(2);
            }
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("proverka: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> ExitCode {
    let bearer = match &cli.command {
        Command::Alfa { bearer, .. } => bearer
            .clone()
            .or_else(|| environment::var("PROVERKA_ALFA_BEARER"))
            .map(Secret::new),
        _ => environment::var("PROVERKA_ALFA_BEARER").map(Secret::new),
    };
    // A batch keeps its state beside its output unless told otherwise; the rest, in this
    // user's store.
    let mut dry_run_store: Option<TempDir> = None;
    let store = match (&cli.global.store, &cli.command) {
        (Some(s), _) => s.clone(),
        // A dry run leaves nothing behind: a store of its own, removed at the end, unless the
        // batch has one already (its answered rows count in the estimate).
        (None, Command::Batch(b))
            if b.dry_run && !std::path::Path::new(&beside(&b.out)).exists() =>
        {
            let dir = std::env::temp_dir().join(format!("proverka-dry-run-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            dry_run_store.get_or_insert(TempDir(dir.clone()));
            dir.join("store.sqlite").display().to_string()
        }
        (None, Command::Batch(b)) => beside(&b.out),
        (None, _) => match user_store() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("proverka: {e}");
                return ExitCode::from(2);
            }
        },
    };
    if let Command::Spend(s) = cli.command {
        let args = SpendArgs {
            month: s.month,
            day: s.day,
            from: s.from,
            to: s.to,
            format: s.format,
            out: s.out,
        };
        let proxy = cli
            .global
            .proxy
            .clone()
            .map(|p| (p, cli.global.key.clone().map(Secret::new)));
        return match spend::run(args, &store, proxy).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("proverka: {e}");
                ExitCode::from(2)
            }
        };
    }
    let settings = Settings {
        proxy: cli.global.proxy.clone(),
        key: cli.global.key.clone().map(Secret::new),
        redis: cli.global.redis.clone(),
        sandbox: cli.global.sandbox,
        per_minute: cli.global.per_minute,
        alfa_bearer: bearer,
        npd_source: cli.global.npd_source,
        store,
    };
    let engine = match Target::new(settings).await {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("proverka: {e}");
            return ExitCode::from(2);
        }
    };
    let json = cli.global.json;
    let code = command(cli.command, Arc::clone(&engine), json, cli.global.lang).await;
    // This run leaves the store: what waited for it is written, and a later run on another
    // host need not wait for its heartbeat to go stale.
    engine.finish().await;
    // The store's file made whole (SQLite's write-ahead log folded in, its `-wal` and `-shm`
    // removed): the output and its store are all a user needs to copy to resume elsewhere.
    if let Err(e) = engine.presence().store().close().await {
        eprintln!("proverka: warning: closing the store of record: {e}");
    }
    code
}

/// Runs one command on `engine`.
#[allow(clippy::print_stdout)] // `proverka alfa` prints the registry: the command's output.
async fn command(command: Command, engine: Arc<Target>, json: bool, lang: lang::Lang) -> ExitCode {
    let (kind, pairs) = match command {
        Command::Batch(b) => {
            let args = BatchArgs {
                input: b.input,
                read: table::ReadOptions {
                    encoding: b.encoding,
                    sheet: b.sheet,
                },
                report: b.report,
                lang,
                out: b.out,
                check: b.check,
                map: b.map,
                region: b.region,
                dry_run: b.dry_run,
                yes: b.yes,
                confirm_above: b.confirm_above,
                concurrency: b.concurrency,
                retry_failed: b.retry_failed,
                retry_unknown: b.retry_unknown,
            };
            return match batch::run(args, Arc::clone(&engine)).await {
                Ok(Ending::Done) => ExitCode::SUCCESS,
                Ok(Ending::SomeFailed) => ExitCode::from(1),
                Ok(Ending::Interrupted) => ExitCode::from(130),
                Err(e) => {
                    eprintln!("proverka: {e}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Alfa { request_id, .. } => {
            return match engine.alfa(&request_id).await {
                Ok(v) => {
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("proverka: {e}");
                    ExitCode::from(1)
                }
            };
        }
        Command::Npd { inn, date } => {
            let mut p = vec![("inn", inn)];
            p.extend(date.map(|d| ("date", d)));
            (CheckKind::Npd, p)
        }
        Command::Court { address, coords } => {
            let p = match (address, coords) {
                (_, Some(c)) => vec![("coords", c)],
                (Some(a), None) => vec![("address", a)],
                (None, None) => Vec::new(),
            };
            (CheckKind::Court, p)
        }
        Command::Fssp(f) => fssp_pairs(f),
        // Answered above, before anything was built.
        Command::Spend(_) => return ExitCode::from(2),
    };
    // Dates either way (31.03.1980 or 1980-03-31), as in a batch.
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), names::provider_date(kind, k, v)))
        .collect();
    let outcome = match plan(kind, &pairs) {
        Err(e) => Outcome::invalid(e.code, e.message),
        Ok(planned) => match engine.check(kind, &planned, None, &one_off_id()).await {
            Ok(mut o) => {
                // NPD's day is the query's (resolved when it was planned).
                if kind == CheckKind::Npd
                    && let Some((_, day)) = planned.pairs.iter().find(|(k, _)| k == "date")
                {
                    o.fields.insert("checked_on".to_owned(), day.clone());
                }
                o
            }
            Err(e) => {
                eprintln!("proverka: {e}");
                return ExitCode::from(2);
            }
        },
    };
    print_outcome(kind, &outcome, json);
    if outcome.status == Status::Ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// A folder removed when dropped (a dry run's store).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The store of a batch: beside its output (`OUT.proverka.sqlite`).
fn beside(out: &std::path::Path) -> String {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".proverka.sqlite");
    out.with_file_name(name).display().to_string()
}

/// This user's store: `$XDG_STATE_HOME/proverka/store.sqlite` (`~/.local/state/…`), or
/// `%LOCALAPPDATA%\proverka\store.sqlite` on Windows; the folder is made when missing.
fn user_store() -> Result<String, String> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("LOCALAPPDATA").map(PathBuf::from))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .ok_or("no home folder for the store: give --store PATH (or PROVERKA_STORE)")?;
    let dir = base.join("proverka");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir.join("store.sqlite").display().to_string())
}

/// A request id for a one-off check (the ledger names the request that led each call).
fn one_off_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("cli-{}-{now}", std::process::id())
}

fn fssp_pairs(f: Fssp) -> (CheckKind, Vec<(&'static str, String)>) {
    let person = |p: Person| {
        let mut v = vec![
            ("lastname", p.lastname),
            ("firstname", p.firstname),
            ("birthdate", p.birthdate),
            ("region", p.region),
        ];
        v.extend(p.secondname.map(|s| ("secondname", s)));
        if p.only_actual {
            v.push(("onlyActual", "1".to_owned()));
        }
        v
    };
    match f {
        Fssp::Physical(p) => (CheckKind::FsspPhysical, person(p)),
        Fssp::Alim(p) => (CheckKind::FsspAlim, person(p)),
        Fssp::Legal {
            name,
            address,
            region,
        } => {
            let mut v = vec![("nameLegal", name), ("region", region)];
            v.extend(address.map(|a| ("address", a)));
            (CheckKind::FsspLegal, v)
        }
        Fssp::Ip { number } => (CheckKind::FsspIp, vec![("number", number)]),
        Fssp::Id {
            number,
            region,
            typeid,
        } => {
            let mut v = vec![("number", number), ("region", region)];
            v.extend(typeid.map(|t| ("typeid", t)));
            (CheckKind::FsspId, v)
        }
        Fssp::Inn { inn, region } => (CheckKind::FsspInn, vec![("inn", inn), ("region", region)]),
        Fssp::Wanted { fio, region } => {
            let mut v = vec![("fio", fio)];
            v.extend(region.map(|r| ("region", r)));
            (CheckKind::FsspWanted, v)
        }
    }
}

/// A one-off answer: a readable table, or the typed model as JSON.
#[allow(clippy::print_stdout)] // The command's output.
fn print_outcome(kind: CheckKind, o: &Outcome, json: bool) {
    if json {
        let value = serde_json::json!({
            "status": o.status.as_str(),
            "billed": o.billed,
            "price_rub": o.price_rub,
            "source": o.source,
            "error": o.error_code.as_ref().map(|c| serde_json::json!({"code": c, "message": o.error_message})),
            "result": o.result,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&value).unwrap_or_default()
        );
        return;
    }
    let mut rows: Vec<(String, String)> = vec![("status".into(), o.status.as_str().into())];
    for f in kind.result_columns() {
        rows.push(((*f).into(), o.fields.get(*f).cloned().unwrap_or_default()));
    }
    if let Some(c) = &o.error_code {
        rows.push(("error".into(), c.clone()));
        rows.push((
            "message".into(),
            o.error_message.clone().unwrap_or_default(),
        ));
    }
    rows.push((
        "billed".into(),
        match &o.price_rub {
            Some(p) => format!("{} ({p} RUB)", o.billed),
            None => o.billed.clone(),
        },
    ));
    rows.push(("source".into(), o.source.clone()));
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    for (k, v) in &rows {
        println!("{k:width$}  {v}");
    }
    if let Some(records) = o.result.as_ref().and_then(|r| r["records"].as_array()) {
        for r in records {
            let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
            println!(
                "  {} | {} | {} | {}",
                text("process_title"),
                text("debtor_name"),
                text("sum"),
                text("subject")
            );
        }
    }
}
