//! One row's parameters as the provider wants them, from the cells as people write them.

use crate::check::{CheckKind, Invalid};
use crate::lang::{Lang, Note};

/// One row's parameters, and what proverka changed in them for the row to be read as meant.
#[derive(Debug, Default)]
pub(super) struct RowParams {
    pub(super) params: Vec<(String, String)>,
    /// Said in the row's `note` column.
    pub(super) note: Option<String>,
    /// Why the row cannot be sent, found before validation (an ambiguous ФИО).
    pub(super) refused: Option<Invalid>,
}

/// One row's parameters, by the column mapping; dates converted to the provider's format
/// (a spreadsheet's date cell reads as `YYYY-MM-DD`; FSSP wants `dd.mm.yyyy`, NPD
/// `YYYY-MM-DD`); an INN whose leading zero a spreadsheet dropped is given it back when its
/// check digits then hold; one ФИО column is split for the FSSP person checks. proverka's
/// conveniences, each said in the row's note; the value is otherwise sent as given.
pub(super) fn row_params(
    kind: CheckKind,
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
            let v = match (p.as_str(), kind) {
                ("birthdate" | "date", _) => crate::names::provider_date(kind, &p, v),
                ("inn", _) => match crate::names::restore_inn(&v) {
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
    if kind.takes_a_person()
        && !params.iter().any(|(p, _)| p == "lastname")
        && let Some(i) = params.iter().position(|(p, _)| p == "fio")
    {
        let (_, fio) = params.remove(i);
        match crate::names::split_fio(&fio) {
            Ok(person) => {
                params.push(("lastname".into(), person.lastname));
                params.push(("firstname".into(), person.firstname));
                match person.secondname {
                    // The page allows letters, digits and "-" in secondname: a two-word
                    // patronymic (Али оглы) cannot be sent, and a hyphen would be a guess
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
                    param: Some("fio".to_owned()),
                });
            }
        }
    }
    let needs_region =
        kind.fssp_type().is_some() && !matches!(kind, CheckKind::FsspIp | CheckKind::FsspWanted);
    if needs_region && !params.iter().any(|(p, _)| p == "region") {
        params.push(("region".to_owned(), region.to_owned()));
    }
    out.params = params;
    out
}
