//! [`CheckSpec`]: a provider's checks as the command line offers them, declared once in the
//! provider's crate ([`Adapter::checks`](crate::Adapter::checks)) and turned by the command
//! line into its subcommands and flags, a batch's `--check` values, the columns a batch reads
//! and adds, and the table a one-off check prints. The command line names no provider: a new
//! provider's checks appear in `proverka` and `proverka batch` from this declaration alone.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use serde_json::Value;

use crate::{Lookup, RefusedBy};

/// How a date parameter is written for the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateForm {
    /// `dd.mm.yyyy`.
    Dmy,
    /// `YYYY-MM-DD`.
    Iso,
}

/// What a parameter holds, so the command line can take it as people write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Sent as given.
    Text,
    /// A date, taken either way (`31.03.1980` or `1980-03-31`, as a spreadsheet's date cell
    /// reads) and sent in this form.
    Date(DateForm),
    /// An INN: one a spreadsheet stored as a number gets its leading zeros back when its check
    /// digits then hold. `person_only`: the provider takes a person's (12 digits) only.
    Inn {
        /// Only a person's INN (12 digits) is asked about.
        person_only: bool,
    },
    /// A switch: a flag without a value, sent as this value when given.
    Switch(&'static str),
}

/// The value of a parameter the caller leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamDefault {
    /// None: the parameter is not sent.
    None,
    /// This value.
    Value(&'static str),
    /// Today in Moscow, in the parameter's date form (resolved once, when the check is
    /// planned, and shown with the answer).
    Today,
}

/// One parameter of a check: a command-line flag (or the positional argument), and the batch
/// columns read as it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckParam {
    /// The provider's name for it (`lastname`, `nameLegal`).
    pub name: &'static str,
    /// The command-line flag (`--name`); the provider's name unless said otherwise.
    pub flag: &'static str,
    /// Given as the command's positional argument instead of a flag.
    pub positional: bool,
    /// One line for `--help`.
    pub help: &'static str,
    /// Whether a check cannot go without it.
    pub required: bool,
    /// Required unless this other parameter is given, and never with it.
    pub instead_of: Option<&'static str>,
    /// The value when left out.
    pub default: ParamDefault,
    /// What it holds.
    pub kind: ParamKind,
    /// The column headers (any case; Russian and English) a batch reads as it.
    pub headers: &'static [&'static str],
    /// How a list names its column, in Russian, for messages about its value («Фамилия»).
    pub label: &'static str,
}

impl CheckParam {
    /// An optional text parameter named `name` (flag, header and label alike).
    pub const fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            flag: name,
            positional: false,
            help,
            required: false,
            instead_of: None,
            default: ParamDefault::None,
            kind: ParamKind::Text,
            headers: &[],
            label: name,
        }
    }

    /// Required.
    #[must_use]
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Given as the positional argument (required).
    #[must_use]
    pub const fn positional(mut self) -> Self {
        self.positional = true;
        self.required = true;
        self
    }

    /// Its command-line flag, when not its name.
    #[must_use]
    pub const fn flag(mut self, flag: &'static str) -> Self {
        self.flag = flag;
        self
    }

    /// Required unless `other` is given, and never with it.
    #[must_use]
    pub const fn instead_of(mut self, other: &'static str) -> Self {
        self.instead_of = Some(other);
        self
    }

    /// Its value when left out.
    #[must_use]
    pub const fn default(mut self, default: ParamDefault) -> Self {
        self.default = default;
        self
    }

    /// What it holds.
    #[must_use]
    pub const fn kind(mut self, kind: ParamKind) -> Self {
        self.kind = kind;
        self
    }

    /// The batch column headers read as it, and its Russian label (the first header's way).
    #[must_use]
    pub const fn headers(mut self, label: &'static str, headers: &'static [&'static str]) -> Self {
        self.label = label;
        self.headers = headers;
        self
    }
}

/// What a result column holds, for a spreadsheet cell of the right type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Text.
    Text,
    /// A count.
    Number,
    /// `true` or `false`: yes or no.
    Bool,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// Rubles, `12.34`.
    Rubles,
}

/// A column a check adds to a batch's rows (and a line of a one-off check's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultColumn {
    /// Its key among the answer's fields, and its English header.
    pub key: &'static str,
    /// Its Russian header.
    pub russian: &'static str,
    /// What it holds.
    pub kind: ColumnKind,
    /// Filled from this parameter of the query as sent (a date resolved from "today"), not
    /// from the answer.
    pub from_param: Option<&'static str>,
}

impl ResultColumn {
    /// A column of the answer.
    pub const fn new(key: &'static str, russian: &'static str, kind: ColumnKind) -> Self {
        Self {
            key,
            russian,
            kind,
            from_param: None,
        }
    }

    /// A column showing the query's parameter `param` as sent.
    pub const fn from_param(
        key: &'static str,
        russian: &'static str,
        kind: ColumnKind,
        param: &'static str,
    ) -> Self {
        Self {
            key,
            russian,
            kind,
            from_param: Some(param),
        }
    }
}

/// The answer's fields, as text, by [`ResultColumn::key`]; a [`DetailSheet`]'s rows under its
/// name, as a JSON array.
pub type Fields = BTreeMap<String, String>;

/// Rows an answer holds several of (FSSP's proceedings, «Производства»): a sheet of their own
/// in a workbook (a file beside a CSV), each row linked to its input row, and one line each
/// under a one-off check's table. No personal data of the subject belongs in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetailSheet {
    /// The field holding them, and the suffix of the file beside a CSV (`debts.proceedings.csv`).
    pub name: &'static str,
    /// The sheet's Russian name.
    pub russian: &'static str,
    /// The sheet's English name.
    pub english: &'static str,
    /// Its columns (keys of each row's JSON object).
    pub columns: &'static [ResultColumn],
}

/// A check whose answer comes in pages: the command line walks them and joins their items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    /// The page size parameter.
    pub limit: &'static str,
    /// The parameter of how many items to skip.
    pub offset: &'static str,
    /// The page size asked.
    pub size: u32,
    /// A JSON pointer to the items of a page (in the typed model).
    pub items: &'static str,
    /// A JSON pointer to the total number of items, where the answer gives one.
    pub total: &'static str,
}

/// Why a check was refused before any call: the provider's own code (or
/// [`RefusedBy::MARKER`] for a rule of proverka's) and message, and the parameter at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The provider's code (`888`, `40000`, the court's error text) or `proverka`.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The parameter at fault, as the provider names it, when known.
    pub param: Option<String>,
}

impl Refusal {
    /// A refusal with the provider's `code`, or proverka's marker when `refused_by` says the
    /// rule is proverka's.
    pub fn new(
        refused_by: RefusedBy,
        code: impl Into<String>,
        message: impl Into<String>,
        param: Option<&str>,
    ) -> Self {
        Self {
            code: if refused_by == RefusedBy::Proverka {
                RefusedBy::MARKER.to_owned()
            } else {
                code.into()
            },
            message: message.into(),
            param: param.map(str::to_owned),
        }
    }
}

/// Validates a check's parameters (its fixed ones included) as of `now`: the query, or the
/// provider's refusal of it. Nothing is sent.
pub type Plan = fn(pairs: &[(&str, &str)], now: SystemTime) -> Result<Arc<dyn Lookup>, Refusal>;

/// One check the command line offers: `proverka <command…> [flags]` and
/// `proverka batch --check <name>`.
#[derive(Debug, Clone, Copy)]
pub struct CheckSpec {
    /// Its name for `batch --check` (`fssp-physical`).
    pub name: &'static str,
    /// The one-off command's words (`["fssp", "physical"]`): one, or a group and a command.
    pub command: &'static [&'static str],
    /// One line for `--help`.
    pub about: &'static str,
    /// For a command in a group, the group's line for `--help`.
    pub group_about: &'static str,
    /// Parameters the check always sends (FSSP's `type`).
    pub fixed: &'static [(&'static str, &'static str)],
    /// Its parameters.
    pub params: &'static [CheckParam],
    /// The parameter that is the typed route's path tail (`/v1/fssp/{type}`), for a route
    /// that is a prefix.
    pub tail: Option<&'static str>,
    /// Whether one ФИО column is split into `lastname`, `firstname` and `secondname` (a
    /// convenience of the command line's, said in the row's note).
    pub splits_fio: bool,
    /// Calls at once a batch makes by default.
    pub concurrency: usize,
    /// The columns it adds.
    pub columns: &'static [ResultColumn],
    /// The answer's fields (the typed model as JSON): each column's text, and the detail rows.
    pub fields: fn(&Value) -> Fields,
    /// Rows the answer holds several of.
    pub details: Option<DetailSheet>,
    /// How its answer is paged, when it is.
    pub paging: Option<Paging>,
    /// Validates its parameters.
    pub plan: Plan,
    /// What each kind of change its answers show ([`Change::what`](crate::Change::what)) is
    /// called in Russian (a watch list's report): `("self_employed", "Статус самозанятого")`.
    /// A kind not listed is shown as it is.
    pub changes: &'static [(&'static str, &'static str)],
}

impl CheckSpec {
    /// The Russian name of a kind of change its answers show, when it declares one.
    pub fn change_in_russian(&self, what: &str) -> Option<&'static str> {
        self.changes
            .iter()
            .find(|(w, _)| *w == what)
            .map(|(_, russian)| *russian)
    }

    /// What the provider (or proverka, for it) refuses of these parameters (the fixed ones
    /// included) as of `now`; `None` for a query it would send.
    pub fn refusal(&self, pairs: &[(&str, &str)], now: SystemTime) -> Option<Refusal> {
        (self.plan)(pairs, now).err()
    }

    /// A parameter by its provider's name.
    pub fn param(&self, name: &str) -> Option<&'static CheckParam> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// A JSON value as a cell's text: a string as it is, `null` as nothing, anything else as JSON.
pub fn field_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a [`Plan`] returns for a query its provider's validation gave: the query, or its
/// refusal made a [`Refusal`] by `refused`.
///
/// # Errors
/// The refusal.
pub fn planned<Q: Lookup + 'static, E>(
    query: Result<Q, E>,
    refused: impl FnOnce(E) -> Refusal,
) -> Result<Arc<dyn Lookup>, Refusal> {
    query
        .map(|q| Arc::new(q) as Arc<dyn Lookup>)
        .map_err(refused)
}
