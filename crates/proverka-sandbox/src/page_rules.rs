//! What the providers refuse, written from their pages (`shared/seeds/`), not from the
//! adapters' validation: so a sandbox answer can catch an adapter that refuses too much or
//! too little. Each rule quotes the page line it follows.

use proverka_fssp::QueryType;
use serde_json::json;

use crate::Reply;

/// Named parameters of a query string, first value of a name wins.
pub(crate) fn get<'a>(pairs: &[(&str, &'a str)], names: &[&str]) -> Option<&'a str> {
    names
        .iter()
        .find_map(|n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.trim()))
        .filter(|v| !v.is_empty())
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, 'А'..='я' | 'Ё' | 'ё')
}

/// "Разрешено: кирилица, латиница, цифры, знак "-"" (ё allowed since 29.04.2022).
fn word(c: char) -> bool {
    is_cyrillic(c) || c.is_ascii_alphanumeric() || c == '-'
}

fn fssp_error(code: &str, message: &str) -> Reply {
    Reply::json(200, json!({"error": code, "message": message}))
}

/// 888: "ИМЯ передаваемой переменной: forbidden symbols present".
fn forbidden(param: &str) -> Reply {
    fssp_error("888", &format!("{param}: forbidden symbols present"))
}

fn chars(pairs: &[(&str, &str)], param: &str, ok: impl Fn(char) -> bool) -> Result<(), Reply> {
    match get(pairs, &[param]) {
        Some(v) if !v.chars().all(ok) => Err(forbidden(param)),
        _ => Ok(()),
    }
}

fn required<'a>(
    pairs: &[(&str, &'a str)],
    names: &[&str],
    code: &str,
    message: &str,
) -> Result<&'a str, Reply> {
    get(pairs, names).ok_or_else(|| fssp_error(code, message))
}

/// The FSSP page's parameter rules per `type`; the query type when they hold.
pub(crate) fn fssp(pairs: &[(&str, &str)]) -> Result<QueryType, Reply> {
    let missing_type = || fssp_error("500", "MISSING_REQUIRED_TYPE_PARAMETER");
    let kind = get(pairs, &["type"])
        .and_then(QueryType::parse)
        .ok_or_else(missing_type)?;
    // region: "Разрешено: цифры, знак "-"" (legal: "кирилица, латиница, цифры, знак "-"").
    let region_digits = |c: char| c.is_ascii_digit() || c == '-';
    let region = |pairs: &[(&str, &str)], ok: &dyn Fn(char) -> bool| {
        required(
            pairs,
            &["region"],
            "103",
            "MISSING_REQUIRED_region_PARAMETER",
        )?;
        chars(pairs, "region", ok)
    };
    match kind {
        QueryType::RegionsList => {}
        QueryType::Physical | QueryType::Alim => {
            let last = required(
                pairs,
                &["lastname"],
                "101",
                "MISSING_REQUIRED_lastname_PARAMETER",
            )?;
            let first = required(
                pairs,
                &["firstname"],
                "100",
                "MISSING_REQUIRED_firstname_PARAMETER",
            )?;
            for p in ["lastname", "firstname", "secondname"] {
                chars(pairs, p, word)?;
            }
            // "birthdate - Дата рождения в формате дд.мм.гггг Разрешено: цифры, знак ".""
            let birth = required(
                pairs,
                &["birthdate"],
                "104",
                "MISSING_REQUIRED_birthdate_PARAMETER",
            )?;
            chars(pairs, "birthdate", |c| c.is_ascii_digit() || c == '.')?;
            let parts: Vec<&str> = birth.split('.').collect();
            if !matches!(parts.as_slice(), [d, m, y] if d.len() == 2 && m.len() == 2 && y.len() == 4)
            {
                return Err(fssp_error("104", "MISSING_REQUIRED_birthdate_PARAMETER"));
            }
            if proverka_core::Date::parse_dmy(birth).is_err() {
                return Err(fssp_error("15", "DATE_ERROR"));
            }
            region(pairs, &region_digits)?;
            // 01.03.2024: "Фамилия (lastname) и Имя (firstname) должны различаться" (107).
            if last.to_lowercase() == first.to_lowercase() {
                return Err(fssp_error("107", "CONFLICT_LASTNAME_FIRSTNAME"));
            }
        }
        QueryType::Legal => {
            // The table says nameLegal/address, the example URL name/adress ("аптека 23": a
            // space in the page's own example).
            required(
                pairs,
                &["nameLegal", "name"],
                "105",
                "MISSING_REQUIRED_nameLegal_PARAMETER",
            )?;
            for p in ["nameLegal", "name", "address", "adress"] {
                chars(pairs, p, |c| word(c) || c == ' ')?;
            }
            region(pairs, &word)?;
        }
        QueryType::Ip => {
            // "number - Номер исполнительного документа в формате n…n/yy/dd/rr или
            // n…n/yy/ddddd-ИП Разрешено: кирилица, латиница, цифры, знак "-/"" (the rows of
            // ip and id are swapped on the page: this one follows the ip example).
            required(
                pairs,
                &["number"],
                "102",
                "MISSING_REQUIRED_number_PARAMETER",
            )?;
            chars(pairs, "number", |c| word(c) || c == '/')?;
        }
        QueryType::Id => {
            // Document numbers as the page's own sample writes them: "ФС 039022227".
            required(
                pairs,
                &["number"],
                "106",
                "MISSING_REQUIRED_number_PARAMETER",
            )?;
            chars(pairs, "number", |c| {
                word(c) || matches!(c, '/' | ' ' | '№' | '.')
            })?;
            region(pairs, &region_digits)?;
            // "typeid - ID типа исполнительного документ … Разрешено: цифры" (the table: 1–16
            // without 9).
            chars(pairs, "typeid", |c| c.is_ascii_digit())?;
            if let Some(t) = get(pairs, &["typeid"])
                && !matches!(t.parse::<u8>(), Ok(1..=8 | 10..=16))
            {
                return Err(fssp_error("107", "TYPEID_NOT_CORRECTED"));
            }
        }
        QueryType::Inn => {
            // "inn - ИНН организации Разрешено: цифры".
            required(pairs, &["inn"], "766", "MISSING_MANDATORY_PARAMETER")?;
            chars(pairs, "inn", |c| c.is_ascii_digit())?;
            region(pairs, &region_digits)?;
        }
        QueryType::Wanted => {
            // "fio - ФИО розыскиваемого Маска: [A-Za-zА-ЯЁа-яё0-9-\s]", "region … Маска: [0-9-]".
            required(pairs, &["fio"], "766", "MISSING_MANDATORY_PARAMETER")?;
            chars(pairs, "fio", |c| word(c) || c.is_whitespace())?;
            chars(pairs, "region", region_digits)?;
        }
        _ => return Err(missing_type()),
    }
    Ok(kind)
}

/// A point as the court API reads `coords=`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Point {
    pub(crate) latitude: f64,
    pub(crate) longitude: f64,
}

/// The court page: "Формат координат принимается с разделителем - пробелом" ("Non-correct
/// recording of coordinates" otherwise); neither coordinates nor an address: "Coords or address
/// params not assigned"; "При наличии и адреса и координат … будут использоваться координаты".
pub(crate) fn court(pairs: &[(&str, &str)]) -> Result<Option<Point>, Reply> {
    let error = |text: &str| {
        Reply::json(
            200,
            json!({"data": {"status": 0, "error": text, "last": 0}}),
        )
    };
    if let Some(coords) = get(pairs, &["coords"]) {
        let numbers: Vec<f64> = coords
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| error("Non-correct recording of coordinates"))?;
        let [first, second] = numbers.as_slice() else {
            return Err(error("Non-correct recording of coordinates"));
        };
        // The page's samples send longitude first ("49.108795 55.796289" for Kazan); a first
        // number that cannot be a longitude paired with a latitude is read the other way.
        let point = if second.abs() <= 90.0 && first.abs() <= 180.0 {
            Point {
                longitude: *first,
                latitude: *second,
            }
        } else {
            Point {
                latitude: *first,
                longitude: *second,
            }
        };
        return Ok(Some(point));
    }
    match get(pairs, &["address"]) {
        Some(_) => Ok(None),
        None => Err(error("Coords or address params not assigned")),
    }
}

/// Whether the court base knows a point: Russia, roughly (41°–82° N, 19° E–180°, and
/// Chukotka past 180°), less Kazakhstan's box south of 51° N between 46° and 87° E. With this,
/// the page's own example holds: "не находит c "55.794340 49.099524", но найдет c
/// "49.099524 55.794340"" (read longitude first, the former is in Kazakhstan).
pub(crate) fn in_russia(p: Point) -> bool {
    let russia = (41.0..=82.0).contains(&p.latitude)
        && ((19.0..=180.0).contains(&p.longitude) || (-180.0..=-169.0).contains(&p.longitude));
    let kazakhstan = (40.5..51.0).contains(&p.latitude) && (46.0..=87.0).contains(&p.longitude);
    russia && !kazakhstan
}

/// The NPD page: "`Field inn is required` - не указан ИНН", "`Field date is invalid` - неверный
/// формат даты" ("date — … в формате YYYY-MM-DD").
pub(crate) fn npd(pairs: &[(&str, &str)]) -> Result<(), Reply> {
    let error = |text: &str| Reply::json(400, json!({"error": text, "error_code": 40000}));
    get(pairs, &["inn"]).ok_or_else(|| error("Field inn is required"))?;
    if let Some(date) = get(pairs, &["date"]) {
        let shape = date.len() == 10
            && date.char_indices().all(|(i, c)| {
                if i == 4 || i == 7 {
                    c == '-'
                } else {
                    c.is_ascii_digit()
                }
            });
        if !shape || proverka_core::Date::parse_iso(date).is_err() {
            return Err(error("Field date is invalid"));
        }
    }
    Ok(())
}

/// The Alfa-Bank page: `limit` and `offset` are "integer optional"; a wrong input parameter is
/// `400 invalid_request`. `requestId` is a "string required".
pub(crate) fn alfa(pairs: &[(&str, &str)]) -> Result<(Option<usize>, Option<usize>), Reply> {
    let number = |name: &str| {
        match get(pairs, &[name]) {
        None => Ok(None),
        Some(v) => v.parse::<usize>().map(Some).map_err(|_| {
            Reply::json(
                400,
                json!({"error": "invalid_request", "error_description": format!("{name} must be an integer")}),
            )
        }),
    }
    };
    Ok((number("limit")?, number("offset")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_court_page_s_own_coordinate_example() {
        let at = |s: &str| court(&[("coords", s)]).unwrap().unwrap();
        assert!(in_russia(at("49.099524 55.794340")));
        assert!(!in_russia(at("55.794340 49.099524")));
        // Vladivostok both ways.
        assert!(in_russia(at("131.885 43.115")));
        assert!(in_russia(at("43.115 131.885")));
    }
}
