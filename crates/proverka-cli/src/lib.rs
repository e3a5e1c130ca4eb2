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
mod one_off;
mod spend;
mod table;
mod target;
mod watch;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::FromArgMatches;
use proverka_core::Secret;
use proverka_engine::Status;

use crate::args::{Global, Invocation, build, invocation};
use crate::batch::{BatchArgs, Ending};
use crate::check::Check;
use crate::one_off::{one_off, print_outcome};
use crate::spend::SpendArgs;
use crate::target::{Settings, SourceChoice, Target, source_flag};

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
    for (value, variable) in [
        (&mut global.proxy, "PROVERKA_PROXY"),
        (&mut global.key, "PROVERKA_KEY"),
        (&mut global.redis, "PROVERKA_REDIS_URL"),
        (&mut global.store, "PROVERKA_STORE"),
    ] {
        if value.is_none() {
            *value = environment::var(variable);
        }
    }
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
    let clock = match environment::clock() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("proverka: {e}");
            return ExitCode::from(2);
        }
    };
    let invocation = match invocation {
        Invocation::Watch(w) if !w.needs_engine() => {
            let store = match proverka_store::SqlStore::open(&store) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("proverka: --store: {e}");
                    return ExitCode::from(2);
                }
            };
            let ended = watch::manage(w, &store, &*clock, global.lang).await;
            let _ = proverka_store::Store::close(&store).await;
            return watch_exit(ended);
        }
        other => other,
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
        clock: Some(clock),
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
        Invocation::Watch(watch::WatchCmd::Run(r)) => {
            return watch_exit(watch::run(r, Arc::clone(&engine), lang).await);
        }
        // Answered before anything was built.
        Invocation::Spend(_) | Invocation::Watch(_) => return ExitCode::from(2),
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

/// A watch command's exit code: 0 done, 1 some rows or subjects failed, 2 could not run, 130
/// interrupted.
fn watch_exit(ended: Result<watch::Ending, String>) -> ExitCode {
    match ended {
        Ok(watch::Ending::Done) => ExitCode::SUCCESS,
        Ok(watch::Ending::SomeFailed) => ExitCode::from(1),
        Ok(watch::Ending::Interrupted) => ExitCode::from(130),
        Err(e) => {
            eprintln!("proverka: {e}");
            ExitCode::from(2)
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
