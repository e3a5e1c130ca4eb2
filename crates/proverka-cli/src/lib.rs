//! The `proverka` command (`docs/cli.md`): one-off checks and batches of checks against the
//! paid Russian check APIs, straight to the providers (tokens from the environment) or through
//! a proverka proxy. Built from the registry ([`proverka::adapters`]): each provider's checks
//! ([`Adapter::checks`](proverka_core::Adapter::checks)) become its subcommands and
//! `batch --check` values; no check is named here. [`run`] runs it in process (a test, or a
//! build that registered a provider of another crate first).

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

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches};
use proverka_core::checks::{CheckParam, ParamKind};
use proverka_core::{CredentialStyle, Secret};

use proverka_engine::{Outcome, Status};

use crate::args::{BatchCmd, SpendCmd};
use crate::batch::{BatchArgs, Ending};
use crate::check::{Check, plan, provider_value};
use crate::spend::SpendArgs;
use crate::target::{Settings, SourceChoice, Target, bearer_variable, source_flag};

/// `--version`: the crate's version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PROVERKA_COMMIT"),
    ")"
);

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

/// What was asked.
#[derive(Debug)]
enum Invocation {
    /// One check of the registry, with its parameters (provider-style names).
    Check {
        check: Box<Check>,
        pairs: Vec<(String, String)>,
        bearer: Option<String>,
    },
    /// `batch`.
    Batch(BatchCmd),
    /// `spend`.
    Spend(SpendCmd),
}

/// The flag of the caller's bearer, on a check of a provider that takes one.
const BEARER: &str = "bearer";

/// The command line, built from `checks`: the global flags, a flag choosing each free
/// source's use, a subcommand for each check (in its provider's group where it has one),
/// `batch` and `spend`.
fn build(checks: &[Check]) -> clap::Command {
    // The flags first: their struct's doc comment would otherwise be the command's.
    // Shown after each command's own flags.
    let mut cmd = Global::augment_args(clap::Command::new("proverka").next_display_order(1000))
        .version(VERSION)
        .about("Checks against the registry's providers: one at a time or whole lists, never paying twice for the same answer")
        .subcommand_required(true)
        .arg_required_else_help(true);
    for source in proverka::free_sources() {
        let paid = source.paid();
        let (paid_name, free_name) = source.source_names();
        let (flag, variable) = source_flag(paid);
        cmd = cmd.arg(
            Arg::new(flag.clone())
                .long(flag)
                .global(true)
                .env(variable)
                .value_name("SOURCE")
                .value_parser(PossibleValuesParser::new(SourceChoice::NAMES))
                .help(format!(
                    "Where {paid} answers come from: `paid` ({paid_name}), `free` ({free_name} only) or `free-then-paid` (free while its queue is short). Default: paid. With --proxy, the proxy's configuration decides"
                )),
        );
    }
    // In the registry's order, a group where its first check is.
    let mut commands: Vec<clap::Command> = Vec::new();
    for check in checks {
        match check.spec.command {
            [name] => commands.push(check_command(check, name)),
            [group, name] => {
                let leaf = check_command(check, name);
                match commands.iter_mut().find(|g| g.get_name() == *group) {
                    Some(g) => *g = std::mem::take(g).subcommand(leaf),
                    None => commands.push(
                        clap::Command::new(*group)
                            .about(check.spec.group_about)
                            .subcommand_required(true)
                            .subcommand(leaf),
                    ),
                }
            }
            _ => {}
        }
    }
    cmd = cmd.subcommands(commands);
    let names: Vec<&'static str> = checks.iter().map(|c| c.spec.name).collect();
    cmd.subcommand(
        BatchCmd::augment_args(
            clap::Command::new("batch")
                .about("Check every row of a CSV, XLSX or JSONL file; resumable"),
        )
        .mut_arg("check", |a| {
            a.value_parser(PossibleValuesParser::new(names))
        }),
    )
    .subcommand(SpendCmd::augment_args(clap::Command::new("spend").about(
        "What was spent, per client, provider and kind: to reconcile with an invoice",
    )))
}

/// One check's subcommand: a flag (or the positional argument) for each parameter, and
/// `--bearer` for a provider that takes the caller's.
fn check_command(check: &Check, name: &'static str) -> clap::Command {
    let mut cmd = clap::Command::new(name).about(check.spec.about);
    for param in check.spec.params {
        cmd = cmd.arg(param_arg(param));
    }
    if check.adapter.credential() == CredentialStyle::CallerBearer {
        cmd = cmd.arg(
            Arg::new(BEARER)
                .long(BEARER)
                .env(bearer_variable(check.provider()))
                .hide_env_values(true)
                .help(format!("The bearer token {} gave you", check.provider())),
        );
    }
    cmd
}

fn param_arg(param: &CheckParam) -> Arg {
    let arg = Arg::new(param.name).help(param.help);
    let arg = if param.positional {
        arg.required(true)
    } else {
        arg.long(param.flag)
    };
    let arg = arg.value_name(param.flag.to_uppercase());
    if let ParamKind::Switch(_) = param.kind {
        return arg.action(ArgAction::SetTrue);
    }
    let mut arg = arg.allow_hyphen_values(true).required(param.required);
    if let proverka_core::checks::ParamDefault::Value(v) = param.default {
        arg = arg.default_value(v);
    }
    if let Some(other) = param.instead_of {
        arg = arg.required_unless_present(other).conflicts_with(other);
    }
    arg
}

/// What was asked, from the matches.
fn invocation(checks: &[Check], matches: &ArgMatches) -> Result<Invocation, clap::Error> {
    let Some((name, sub)) = matches.subcommand() else {
        return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand));
    };
    match name {
        "batch" => return BatchCmd::from_arg_matches(sub).map(Invocation::Batch),
        "spend" => return SpendCmd::from_arg_matches(sub).map(Invocation::Spend),
        _ => {}
    }
    let (words, leaf) = match sub.subcommand() {
        Some((inner, leaf)) => (vec![name, inner], leaf),
        None => (vec![name], sub),
    };
    let Some(check) = checks.iter().find(|c| c.spec.command == words.as_slice()) else {
        return Err(clap::Error::new(clap::error::ErrorKind::InvalidSubcommand));
    };
    let mut pairs = Vec::new();
    for param in check.spec.params {
        match param.kind {
            ParamKind::Switch(sent_as) => {
                if leaf.get_flag(param.name) {
                    pairs.push((param.name.to_owned(), sent_as.to_owned()));
                }
            }
            _ => {
                if let Some(v) = leaf.get_one::<String>(param.name) {
                    // Dates either way (31.03.1980 or 1980-03-31), as in a batch.
                    pairs.push((
                        param.name.to_owned(),
                        provider_value(check, param.name, v.clone()),
                    ));
                }
            }
        }
    }
    let bearer = (check.adapter.credential() == CredentialStyle::CallerBearer)
        .then(|| leaf.get_one::<String>(BEARER).cloned())
        .flatten();
    Ok(Invocation::Check {
        check: Box::new(check.clone()),
        pairs,
        bearer,
    })
}

/// The command line, as `--help` shows it: built from the registry's checks.
pub fn command() -> clap::Command {
    build(&Check::all())
}

/// Runs `proverka` with this process's arguments.
pub fn main() -> ExitCode {
    run(std::env::args_os())
}

/// Runs `proverka` with `args` (the first is the program's name): the exit code the command
/// would end with (0 done, 1 a refusal, a provider error or failed rows, 2 could not run,
/// 130 interrupted).
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    if let Err(e) = environment::load() {
        eprintln!("proverka: {e}");
        return ExitCode::from(2);
    }
    let checks = Check::all();
    let parsed = build(&checks).try_get_matches_from(args).and_then(|m| {
        let global = Global::from_arg_matches(&m)?;
        Ok((global, invocation(&checks, &m)?, m))
    });
    let (mut global, invocation, matches) = match parsed {
        Ok(p) => p,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // clap reads the plain variables; their `_FILE` forms come from the files.
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
    let mut sources = Vec::new();
    for source in proverka::free_sources() {
        let (flag, variable) = source_flag(source.paid());
        let Some(text) = matches
            .get_one::<String>(&flag)
            .cloned()
            .or_else(|| environment::var(&variable))
        else {
            continue;
        };
        match SourceChoice::parse(&text) {
            Some(choice) => sources.push((source.paid(), choice)),
            None => {
                eprintln!(
                    "proverka: {variable}_FILE: {text:?} is not one of {}",
                    SourceChoice::NAMES.join(", ")
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
    runtime.block_on(run_parsed(global, sources, invocation))
}

async fn run_parsed(
    global: Global,
    sources: Vec<(proverka_core::Provider, SourceChoice)>,
    invocation: Invocation,
) -> ExitCode {
    // A batch keeps its state beside its output unless told otherwise; the rest, in this
    // user's store.
    let mut dry_run_store: Option<TempDir> = None;
    let store = match (&global.store, &invocation) {
        (Some(s), _) => s.clone(),
        // A dry run leaves nothing behind: a store of its own, removed at the end, unless the
        // batch has one already (its answered rows count in the estimate).
        (None, Invocation::Batch(b))
            if b.dry_run && !std::path::Path::new(&beside(&b.out)).exists() =>
        {
            let dir = std::env::temp_dir().join(format!("proverka-dry-run-{}", std::process::id()));
            let _ = std::fs::create_dir_all(&dir);
            dry_run_store.get_or_insert(TempDir(dir.clone()));
            dir.join("store.sqlite").display().to_string()
        }
        (None, Invocation::Batch(b)) => beside(&b.out),
        (None, _) => match user_store() {
            Ok(p) => p,
            Err(e) => {
                eprintln!("proverka: {e}");
                return ExitCode::from(2);
            }
        },
    };
    if let Invocation::Spend(s) = invocation {
        let args = SpendArgs {
            month: s.month,
            day: s.day,
            from: s.from,
            to: s.to,
            format: s.format,
            out: s.out,
        };
        let proxy = global
            .proxy
            .clone()
            .map(|p| (p, global.key.clone().map(Secret::new)));
        return match spend::run(args, &store, proxy).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("proverka: {e}");
                ExitCode::from(2)
            }
        };
    }
    let bearer = match &invocation {
        Invocation::Check { bearer, .. } => bearer.clone().map(Secret::new),
        _ => None,
    };
    let settings = Settings {
        proxy: global.proxy.clone(),
        key: global.key.clone().map(Secret::new),
        redis: global.redis.clone(),
        sandbox: global.sandbox,
        per_minute: global.per_minute,
        bearer,
        sources,
        store,
    };
    let engine = match Target::new(settings).await {
        Ok(e) => Arc::new(e),
        Err(e) => {
            eprintln!("proverka: {e}");
            return ExitCode::from(2);
        }
    };
    let code = execute(invocation, Arc::clone(&engine), global.json, global.lang).await;
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
async fn execute(
    invocation: Invocation,
    engine: Arc<Target>,
    json: bool,
    lang: lang::Lang,
) -> ExitCode {
    let (check, pairs) = match invocation {
        Invocation::Batch(b) => {
            let Some(check) = Check::named(&b.check) else {
                eprintln!("proverka: --check {}: no such check", b.check);
                return ExitCode::from(2);
            };
            let args = BatchArgs {
                input: b.input,
                read: table::ReadOptions {
                    encoding: b.encoding,
                    sheet: b.sheet,
                },
                report: b.report,
                lang,
                out: b.out,
                check,
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
        Invocation::Check { check, pairs, .. } => (*check, pairs),
        // Answered before anything was built.
        Invocation::Spend(_) => return ExitCode::from(2),
    };
    let outcome = match one_off(&check, &pairs, &engine).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("proverka: {e}");
            return ExitCode::from(2);
        }
    };
    print_outcome(&check, &outcome, json);
    if outcome.status == Status::Ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The most pages a paged answer is walked for, when it gives no total.
const MAX_PAGES: u32 = 1000;

/// One check, every page of it where its answer is paged (the pages' items joined into the
/// first page's answer).
async fn one_off(
    check: &Check,
    pairs: &[(String, String)],
    engine: &Target,
) -> Result<Outcome, target::Fatal> {
    let now = std::time::SystemTime::now();
    let ask = |pairs: Vec<(String, String)>| async move {
        Ok(match plan(check, &pairs, now) {
            Err(e) => (Outcome::invalid(e.code, e.message), None),
            Ok(planned) => {
                let mut o = engine.check(check, &planned, None, &one_off_id()).await?;
                check::show_params(check, &planned, &mut o);
                (o, Some(planned))
            }
        })
    };
    let Some(paging) = check.spec.paging else {
        return ask(pairs.to_vec()).await.map(|(o, _)| o);
    };
    let page = |offset: u32| {
        let mut p: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != paging.limit && k != paging.offset)
            .cloned()
            .collect();
        p.push((paging.limit.to_owned(), paging.size.to_string()));
        p.push((paging.offset.to_owned(), offset.to_string()));
        p
    };
    let (mut first, _) = ask(page(0)).await?;
    let mut pages = 1;
    loop {
        let Some(result) = first.result.as_mut().filter(|_| first.status == Status::Ok) else {
            return Ok(first);
        };
        let got = result
            .pointer(paging.items)
            .and_then(|v| v.as_array())
            .map_or(0, Vec::len);
        let total = result
            .pointer(paging.total)
            .and_then(serde_json::Value::as_u64);
        let whole = match total {
            Some(t) => got as u64 >= t,
            None => got < paging.size as usize,
        };
        if whole || pages >= MAX_PAGES {
            if !whole {
                return Ok(Outcome::failed(
                    Status::Error,
                    "incomplete",
                    format!(
                        "{pages} pages read and the answer is not whole: its total was not reached"
                    ),
                    &first.billed,
                    &first.source,
                ));
            }
            first.fields = check.fields(result);
            return Ok(first);
        }
        let (next, _) = ask(page(u32::try_from(got).unwrap_or(u32::MAX))).await?;
        pages += 1;
        let items = next
            .result
            .as_ref()
            .filter(|_| next.status == Status::Ok)
            .and_then(|r| r.pointer(paging.items))
            .and_then(|v| v.as_array())
            .cloned();
        match items {
            Some(more) if !more.is_empty() => {
                if let Some(list) = result
                    .pointer_mut(paging.items)
                    .and_then(|v| v.as_array_mut())
                {
                    list.extend(more);
                }
            }
            // A page that failed is the answer; an empty page before the total, a short list.
            Some(_) => {
                return Ok(Outcome::failed(
                    Status::Error,
                    "incomplete",
                    format!("page {pages} was empty before the total: the list is not whole"),
                    &next.billed,
                    &next.source,
                ));
            }
            None => return Ok(next),
        }
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

/// A one-off answer: a readable table (the check's columns, then one line for each detail
/// row), or the typed model as JSON.
#[allow(clippy::print_stdout)] // The command's output.
fn print_outcome(check: &Check, o: &Outcome, json: bool) {
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
    for c in check.spec.columns {
        rows.push((
            c.key.into(),
            o.fields.get(c.key).cloned().unwrap_or_default(),
        ));
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
    let Some(detail) = check.spec.details else {
        return;
    };
    let list: Vec<serde_json::Value> = o
        .fields
        .get(detail.name)
        .and_then(|j| serde_json::from_str(j).ok())
        .unwrap_or_default();
    for row in list {
        let cells: Vec<String> = detail
            .columns
            .iter()
            .map(|c| proverka_core::checks::field_text(&row[c.key]))
            .collect();
        println!("  {}", cells.join(" | "));
    }
}
