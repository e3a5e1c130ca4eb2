//! One row's parameters as the provider wants them, from the cells as people write them.

use proverka_core::checks::{ParamDefault, ParamKind};

use crate::check::{Check, FIO, Invalid, provider_value};
use crate::lang::{Lang, Note};

/// One row's parameters, and what proverka changed in them for the row to be read as meant.
#[derive(Debug, Default)]
pub(crate) struct RowParams {
    pub(crate) params: Vec<(String, String)>,
    /// Said in the row's `note` column.
    pub(crate) note: Option<String>,
    /// Why the row cannot be sent, found before validation (an ambiguous ФИО).
    pub(crate) refused: Option<Invalid>,
}

/// The parameter `--region` gives a default for, where the check has one.
const REGION: &str = "region";

/// One row's parameters, by the column mapping; dates converted to the provider's form (a
/// spreadsheet's date cell reads as `YYYY-MM-DD`); an INN whose leading zero a spreadsheet
/// dropped is given it back when its check digits then hold; one ФИО column is split for a
/// check that asks for a surname, a name and a patronymic; `region`, where the check has a
/// default for it, is `--region`'s. proverka's conveniences, each said in the row's note; the
/// value is otherwise sent as given.
pub(crate) fn row_params(
    check: &Check,
    headers: &[Option<String>],
    row: &[String],
    region: &str,
    lang: Lang,
) -> RowParams {
    let mut out = RowParams::default();
    let mut params: Vec<(String, String)> = headers
        .iter()
        .zip(row)
        .filter_map(|(p, v)| p.clone().map(|p| (p, v.trim().to_owned())))
        .filter(|(_, v)| !v.is_empty())
        .map(|(p, v)| {
            let kind = check.spec.param(&p).map(|d| d.kind);
            let v = match kind {
                Some(ParamKind::Date(_)) => provider_value(check, &p, v),
                Some(ParamKind::Inn { .. }) => match crate::names::restore_inn(&v) {
                    Some(restored) => {
                        out.note = Some(lang.note(&Note::RestoredInn {
                            given: &v,
                            restored: &restored,
                        }));
                        restored
                    }
                    None => v,
                },
                _ => v,
            };
            (p, v)
        })
        .collect();
    if check.spec.splits_fio
        && !params.iter().any(|(p, _)| p == "lastname")
        && let Some(i) = params.iter().position(|(p, _)| p == FIO)
    {
        let (_, fio) = params.remove(i);
        match crate::names::split_fio(&fio) {
            Ok(person) => {
                params.push(("lastname".into(), person.lastname));
                params.push(("firstname".into(), person.firstname));
                match person.secondname {
                    // A patronymic is letters, digits and "-" on the pages that split a name:
                    // a two-word one (Али оглы) cannot be sent, and a hyphen would be a guess
                    // that may miss the record. Searched without it, and said.
                    Some(s) if s.contains(char::is_whitespace) => {
                        out.note = Some(lang.note(&Note::PatronymicNotSent { patronymic: &s }));
                    }
                    Some(s) => params.push(("secondname".into(), s)),
                    None => {}
                }
            }
            Err(()) => {
                out.refused = Some(Invalid {
                    code: proverka_core::RefusedBy::MARKER.to_owned(),
                    message: lang.note(&Note::AmbiguousFio { fio: &fio }),
                    param: Some(FIO.to_owned()),
                });
            }
        }
    }
    let region_has_a_default = check
        .spec
        .param(REGION)
        .is_some_and(|p| matches!(p.default, ParamDefault::Value(_)));
    if region_has_a_default && !params.iter().any(|(p, _)| p == REGION) {
        params.push((REGION.to_owned(), region.to_owned()));
    }
    out.params = params;
    out
}
