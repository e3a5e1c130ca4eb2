//! The language of what a batch writes for people (`--lang`, Russian by default): result column
//! names, statuses, how a row was billed and answered, the «Итог» sheet, and each refused row's
//! reason in plain words that say what is wrong and how to fix it (the provider's own text where
//! its page has one). What the store keeps is the same in both (a run in one language resumes in
//! the other).

use proverka_engine::Status;

use proverka_core::checks::ParamKind;

use crate::check::{Check, Invalid};

mod lines;

pub(crate) use lines::{Estimate, Summary};

/// `--lang`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Lang {
    /// Русский.
    #[default]
    Ru,
    /// English.
    En,
}

/// What proverka says in a row's note (or, for a ФИО it cannot split, as the row's error).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Note<'a> {
    /// An INN given its leading zeros back.
    RestoredInn {
        /// As the list had it.
        given: &'a str,
        /// As sent.
        restored: &'a str,
    },
    /// A two-word patronymic the provider cannot take.
    PatronymicNotSent {
        /// The patronymic.
        patronymic: &'a str,
    },
    /// The same query as an earlier row.
    Duplicate {
        /// That row's line.
        first: usize,
    },
    /// A ФИО that cannot be split without guessing.
    AmbiguousFio {
        /// The ФИО.
        fio: &'a str,
    },
}

/// The result columns of every check: (the English name, the Russian one). A check's own
/// columns are named in its declaration.
const COLUMNS: &[(&str, &str)] = &[
    ("status", "статус"),
    ("error_code", "код ошибки"),
    ("error_message", "ошибка"),
    ("billed", "оплата"),
    ("price_rub", "цена, ₽"),
    ("source", "источник"),
    ("note", "примечание"),
];

impl Lang {
    /// A result column's name: one of `check`'s own, or one every check adds.
    pub(crate) fn column(self, check: &Check, english: &str) -> String {
        match self {
            Self::En => english.to_owned(),
            Self::Ru => check
                .spec
                .columns
                .iter()
                .map(|c| (c.key, c.russian))
                .chain(COLUMNS.iter().copied())
                .find(|(en, _)| *en == english)
                .map_or(english, |(_, ru)| ru)
                .to_owned(),
        }
    }

    /// A status as the `status` column shows it.
    pub(crate) fn status(self, status: Status) -> &'static str {
        match (self, status) {
            (Self::En, s) => s.as_str(),
            (Self::Ru, Status::Ok) => "готово",
            (Self::Ru, Status::Invalid) => "неверная строка",
            (Self::Ru, Status::Error) => "ошибка",
            (Self::Ru, Status::RetryLater) => "повторить позже",
            (Self::Ru, Status::BilledUnknown) => "оплата неизвестна",
            (Self::Ru, Status::Pending) => "не отправлена",
            (Self::Ru, _) => status.as_str(),
        }
    }

    /// How a row was billed (`free`, `charged`, `unknown`).
    pub(crate) fn billed(self, billed: &str) -> String {
        match (self, billed) {
            (Self::Ru, "free") => "бесплатно".to_owned(),
            (Self::Ru, "charged") => "оплачено".to_owned(),
            (Self::Ru, "unknown") => "неизвестно".to_owned(),
            (_, other) => other.to_owned(),
        }
    }

    /// Where a row's answer came from.
    pub(crate) fn source(self, source: &str) -> String {
        match (self, source) {
            (Self::Ru, "provider") => "провайдер".to_owned(),
            (Self::Ru, "cache") => "кэш".to_owned(),
            (Self::Ru, "local") => "проверка в proverka".to_owned(),
            (Self::En, s) if s.starts_with("дубль строки ") => {
                format!("duplicate of row {}", &s["дубль строки ".len()..])
            }
            (Self::Ru, s) if s.starts_with("дубль строки ") => s.to_owned(),
            (Self::Ru, "") => String::new(),
            (Self::Ru, "proxy") => "прокси".to_owned(),
            (Self::Ru, "proverka") => "proverka".to_owned(),
            // A provider's free source, by its registry name.
            (Self::Ru, free) => format!("{free} (бесплатный источник)"),
            (Self::En, other) => other.to_owned(),
        }
    }

    /// A note, in this language.
    pub(crate) fn note(self, note: &Note<'_>) -> String {
        match (self, *note) {
            (Self::Ru, Note::RestoredInn { given, restored }) => format!(
                "ИНН {given} восстановлен как {restored}: таблица потеряла ведущий ноль (контрольные цифры сходятся)"
            ),
            (Self::En, Note::RestoredInn { given, restored }) => format!(
                "INN {given} restored as {restored}: the spreadsheet dropped its leading zero (the check digits hold)"
            ),
            (Self::Ru, Note::PatronymicNotSent { patronymic }) => format!(
                "отчество «{patronymic}» не отправлено: провайдер не принимает пробел в отчестве; поиск по фамилии, имени и дате рождения"
            ),
            (Self::En, Note::PatronymicNotSent { patronymic }) => format!(
                "patronymic «{patronymic}» not sent: the provider takes no space in it; searched by surname, name and birth date"
            ),
            (Self::Ru, Note::Duplicate { first }) => {
                format!("тот же запрос, что в строке {first}: не отправлялся и не оплачивался")
            }
            (Self::En, Note::Duplicate { first }) => {
                format!("the same query as row {first}: not sent, not paid")
            }
            (Self::Ru, Note::AmbiguousFio { fio }) => format!(
                "ФИО «{fio}» не разделить на фамилию, имя и отчество без догадок: разнесите по колонкам Фамилия, Имя, Отчество"
            ),
            (Self::En, Note::AmbiguousFio { fio }) => format!(
                "ФИО «{fio}» cannot be split into surname, name and patronymic without guessing: split it into columns Фамилия, Имя, Отчество"
            ),
        }
    }

    /// Yes or no, in this language.
    pub(crate) fn yes_no(self, yes: bool) -> &'static str {
        match (self, yes) {
            (Self::Ru, true) => "да",
            (Self::Ru, false) => "нет",
            (Self::En, true) => "yes",
            (Self::En, false) => "no",
        }
    }

    /// The note of a paid row whose price nobody reported.
    pub(crate) fn unknown_price(self) -> &'static str {
        match self {
            Self::Ru => {
                "оплачено, цена неизвестна: провайдер её не сообщает, а прокси она не задана (price_rub)"
            }
            Self::En => {
                "paid, price unknown: the provider does not report it and the proxy has none configured (price_rub)"
            }
        }
    }

    /// A label of the summary sheet (written in Russian; English here).
    pub(crate) fn label(self, russian: &str) -> String {
        const LABELS: &[(&str, &str)] = &[
            ("Строк", "Rows"),
            ("Ответов", "Answered"),
            (
                "Неверных строк (не отправлялись)",
                "Invalid rows (not sent)",
            ),
            ("Ошибок", "Failed"),
            ("Ожидают отправки", "Pending"),
            (
                "Вызовов провайдера в этом запуске",
                "Provider calls this run",
            ),
            (
                "Возможно оплачено (ответ не прочитан)",
                "Possibly billed (unreadable)",
            ),
            ("Ответов из кэша", "From the cache"),
            ("Оплачено в этом запуске, ₽", "Paid this run, RUB"),
            ("Сэкономлено кэшем, ₽", "Saved by the cache, RUB"),
            ("Сэкономлено на дублях, ₽", "Saved on duplicates, RUB"),
            ("Показатель", "Item"),
            ("Значение", "Value"),
            ("Итог", "Summary"),
            ("Статус", "Status"),
            ("Проверка", "Checked"),
        ];
        match self {
            Self::Ru => russian.to_owned(),
            Self::En => LABELS
                .iter()
                .find(|(ru, _)| *ru == russian)
                .map_or(russian, |(_, en)| en)
                .to_owned(),
        }
    }

    /// Why a row was refused before any call, as a person reads it: what is wrong with which
    /// value, and how to fix it. English keeps the adapter's message.
    pub(crate) fn refusal(
        self,
        check: &Check,
        invalid: &Invalid,
        params: &[(String, String)],
    ) -> String {
        if invalid.message.chars().any(is_cyrillic) {
            return invalid.message.clone();
        }
        let about_inn = invalid.param.as_deref() == Some("inn") || invalid.message.contains("INN");
        if self == Self::En {
            let inn = params
                .iter()
                .find(|(k, _)| k == "inn")
                .map(|(_, v)| v.trim());
            return match inn {
                Some(inn) if about_inn && inn.chars().any(|c| matches!(c, 'О' | 'о')) => format!(
                    "INN «{inn}» has the Cyrillic letter «О» for the digit 0: fix it in the list"
                ),
                _ => invalid.message.clone(),
            };
        }
        let value = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let about = invalid.param.as_deref().unwrap_or_default();
        if about == "inn" || invalid.message.contains("INN") {
            let person_only = check
                .spec
                .param("inn")
                .is_some_and(|p| p.kind == ParamKind::Inn { person_only: true });
            return inn_problem(person_only, value("inn").unwrap_or_default());
        }
        if about == "birthdate" || invalid.message.starts_with("birthdate") {
            return format!(
                "дата рождения «{}» не читается как дата: нужна вида 31.03.1980 (или 1980-03-31)",
                value("birthdate").unwrap_or_default()
            );
        }
        if about == "date" || invalid.message.contains("Field date") {
            return if invalid.message.contains("future") {
                format!(
                    "дата проверки {} ещё не наступила",
                    value("date").unwrap_or_default()
                )
            } else {
                format!(
                    "дата проверки «{}» не читается как дата: нужна вида 01.03.2024 (или 2024-03-01)",
                    value("date").unwrap_or_default()
                )
            };
        }
        let field = check.spec.param(about).map_or(about, |p| p.label);
        // The provider's own words, where its page has them.
        let meaning = check
            .adapter
            .explain(&invalid.code)
            .map(|m| m.meaning.into_owned());
        match (meaning, value(about)) {
            (Some(m), Some(v)) if !about.is_empty() => format!("{field} «{v}»: {m}"),
            (Some(m), _) if !about.is_empty() => format!("{field}: {m}"),
            (Some(m), _) => m,
            (None, _) => invalid.message.clone(),
        }
    }
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

/// What is wrong with an INN, and how to fix it.
fn inn_problem(person_only: bool, inn: &str) -> String {
    let inn = inn.trim();
    if inn.is_empty() {
        return "ИНН не указан: заполните колонку ИНН".to_owned();
    }
    if inn.chars().any(|c| matches!(c, 'О' | 'о' | 'O' | 'o')) {
        return format!("в ИНН «{inn}» буква «О» вместо цифры 0: исправьте в таблице");
    }
    if !inn.chars().all(|c| c.is_ascii_digit()) {
        return format!("ИНН «{inn}» должен состоять только из цифр");
    }
    let digits = inn.len();
    let wanted = if person_only {
        "ИНН физлица — 12 цифр"
    } else {
        "ИНН — 10 цифр (организация) или 12 (физлицо)"
    };
    match digits {
        10 if person_only => {
            format!(
                "ИНН «{inn}» — 10 цифр, это ИНН организации; самозанятость проверяется по ИНН физлица (12 цифр)"
            )
        }
        10 | 12 => format!("ИНН «{inn}» не проходит проверку контрольных цифр: опечатка в номере"),
        n => format!("{wanted}, в «{inn}» их {n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(code: &str, message: &str, param: Option<&str>) -> Invalid {
        Invalid {
            code: code.to_owned(),
            message: message.to_owned(),
            param: param.map(str::to_owned),
        }
    }

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect()
    }

    #[test]
    fn refusals_say_what_is_wrong_in_plain_russian() {
        let ru = Lang::Ru;
        let check = crate::check::tests::sample();
        let e = invalid(
            "proverka",
            "Field inn is invalid: INN must be 12 digits",
            None,
        );
        assert_eq!(
            ru.refusal(&check, &e, &params(&[("inn", "5003О0732259")])),
            "в ИНН «5003О0732259» буква «О» вместо цифры 0: исправьте в таблице"
        );
        // The sample check asks about a person's INN only.
        assert!(
            ru.refusal(&check, &e, &params(&[("inn", "7707083893")]))
                .contains("это ИНН организации")
        );
        let forbidden = invalid(
            "7",
            "person: contains characters the provider forbids (provider code 7)",
            Some("person"),
        );
        // The provider's own words for its code, and the column as the list names it.
        assert_eq!(
            ru.refusal(&check, &forbidden, &params(&[("person", "Ив@нов")])),
            "Человек «Ив@нов»: В переменной присутствуют запрещенные символы"
        );
        // English keeps the adapter's message.
        assert_eq!(Lang::En.refusal(&check, &forbidden, &[]), forbidden.message);
    }

    #[test]
    fn proverka_s_own_failures_say_whether_they_were_paid() {
        let unknown = Lang::Ru.own_failure("transport", "unknown").unwrap();
        assert!(unknown.contains("мог его оплатить") && unknown.contains("--retry-unknown"));
        let free = Lang::Ru.own_failure("transport", "free").unwrap();
        assert!(free.contains("не оплачен"));
        assert_eq!(Lang::En.own_failure("transport", "free"), None);
        assert_eq!(
            Lang::Ru.own_failure("456", "free"),
            None,
            "a provider's code"
        );
    }

    #[test]
    fn sources_in_russian() {
        assert_eq!(Lang::Ru.source("provider"), "провайдер");
        assert_eq!(Lang::Ru.source(""), "", "a row not sent yet");
        assert_eq!(Lang::Ru.source("дубль строки 4"), "дубль строки 4");
        assert_eq!(Lang::En.source("дубль строки 4"), "duplicate of row 4");
        for source in proverka::free_sources() {
            let name = source.source_names().1;
            assert_eq!(
                Lang::Ru.source(name),
                format!("{name} (бесплатный источник)")
            );
        }
    }

    #[test]
    fn every_result_column_has_a_russian_name() {
        for check in crate::check::Check::all() {
            let own = check.spec.columns.iter().map(|c| c.key);
            for column in own.chain(COLUMNS.iter().map(|(en, _)| *en)) {
                assert_ne!(Lang::Ru.column(&check, column), column, "{column}");
            }
        }
        assert_eq!(Lang::Ru.status(Status::Ok), "готово");
    }
}
