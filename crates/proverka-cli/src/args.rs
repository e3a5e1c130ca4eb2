//! The command line's arguments (clap): the global flags, a subcommand for each check of the
//! registry (built from its declaration), batches and spend reports; and what was asked.

use std::path::PathBuf;

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgAction, ArgMatches, Args, FromArgMatches};
use proverka_core::CredentialStyle;
use proverka_core::checks::{CheckParam, ParamKind};

use crate::check::{Check, provider_value};
use crate::target::{SourceChoice, bearer_variable, source_flag};
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
    #[arg(long, value_name = "COLUMN=PARAM", value_parser = crate::check::parse_map)]
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

pub(crate) fn parse_rub(s: &str) -> Result<Money, String> {
    Money::parse(s).map_err(|e| e.to_string())
}

/// `--version`: the crate's version and the commit it was built from.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("PROVERKA_COMMIT"),
    ")"
);

/// Where checks go and how they are shown.
#[derive(Debug, Args)]
pub(crate) struct Global {
    /// Send checks through a proverka proxy (its cache, budgets and ledger apply).
    #[arg(long, global = true, env = "PROVERKA_PROXY", value_name = "URL")]
    pub(crate) proxy: Option<String>,
    /// The proxy's client key.
    #[arg(
        long,
        global = true,
        env = "PROVERKA_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub(crate) key: Option<String>,
    /// Run against the built-in simulators of the providers (no token, nothing leaves the
    /// machine).
    #[arg(long, global = true)]
    pub(crate) sandbox: bool,
    /// Share the cache with other runs and proxies through Redis (direct mode).
    #[arg(
        long,
        global = true,
        env = "PROVERKA_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub(crate) redis: Option<String>,
    /// At most this many provider calls a minute (default: no limit beyond --concurrency).
    #[arg(long, global = true, value_name = "N")]
    pub(crate) per_minute: Option<u32>,
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
    pub(crate) store: Option<String>,
    /// Print the typed model as JSON instead of a table (one-off checks).
    #[arg(long, global = true)]
    pub(crate) json: bool,
    /// The language of a batch's result columns, statuses, summary and row errors: `ru`
    /// (default) or `en`.
    #[arg(
        long,
        global = true,
        value_enum,
        env = "PROVERKA_LANG",
        default_value = "ru"
    )]
    pub(crate) lang: crate::lang::Lang,
}

/// What was asked.
#[derive(Debug)]
pub(crate) enum Invocation {
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
    /// `watch …`.
    Watch(crate::watch::WatchCmd),
}

/// The flag of the caller's bearer, on a check of a provider that takes one.
const BEARER: &str = "bearer";

/// The command line, built from `checks`: the global flags, a flag choosing each free
/// source's use, a subcommand for each check (in its provider's group where it has one),
/// `batch` and `spend`.
pub(crate) fn build(checks: &[Check]) -> clap::Command {
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
            a.value_parser(PossibleValuesParser::new(names.clone()))
        }),
    )
    .subcommand(SpendCmd::augment_args(clap::Command::new("spend").about(
        "What was spent, per client, provider and kind: to reconcile with an invoice",
    )))
    .subcommand(
        <crate::watch::WatchCmd as clap::Subcommand>::augment_subcommands(
            clap::Command::new("watch")
                .about("Watch lists: check their subjects again on a schedule, keep every answer, report what changed")
                .subcommand_required(true),
        )
        .mut_subcommand("add", |add| {
            add.mut_arg("check", |a| a.value_parser(PossibleValuesParser::new(names.clone())))
        }),
    )
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
pub(crate) fn invocation(
    checks: &[Check],
    matches: &ArgMatches,
) -> Result<Invocation, clap::Error> {
    let Some((name, sub)) = matches.subcommand() else {
        return Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand));
    };
    match name {
        "batch" => return BatchCmd::from_arg_matches(sub).map(Invocation::Batch),
        "spend" => return SpendCmd::from_arg_matches(sub).map(Invocation::Spend),
        "watch" => return crate::watch::WatchCmd::from_arg_matches(sub).map(Invocation::Watch),
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
