//! Values as people's lists hold them: an INN a spreadsheet stored as a number (its leading
//! zeros gone), one ФИО column where a provider wants a surname, a name and a patronymic.

use proverka_core::Inn;

/// An INN that lost its leading zeros as a number (9 or 11 digits, or 10 when a 12-digit one
/// lost two), given them back when its check digits then hold; `None` when it needs no
/// repair or none makes it valid.
pub(crate) fn restore_inn(value: &str) -> Option<String> {
    let digits = value.trim();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || Inn::parse(digits).is_ok() {
        return None;
    }
    [10usize, 12]
        .into_iter()
        .filter(|&width| digits.len() < width && width - digits.len() <= 2)
        .map(|width| format!("{digits:0>width$}"))
        .find(|padded| Inn::parse(padded).is_ok())
}

/// A person as a provider asks for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Person {
    /// Фамилия (a double one kept whole: «Петрова-Водкина»).
    pub(crate) lastname: String,
    /// Имя.
    pub(crate) firstname: String,
    /// Отчество, with «оглы»/«кызы» when the name has it.
    pub(crate) secondname: Option<String>,
}

/// The words that end a Turkic patronymic (Мамедов Рашид Али оглы).
const PATRONYMIC_ENDINGS: [&str; 4] = ["оглы", "кызы", "улы", "уулу"];

/// Splits «Фамилия Имя Отчество» as a person writes it: surname first; a missing patronymic;
/// «оглы»/«кызы» kept with the patronymic; a hyphenated surname is one word.
///
/// # Errors
/// A name that cannot be split without guessing: one word, or more words than surname, name
/// and patronymic explain.
pub(crate) fn split_fio(fio: &str) -> Result<Person, ()> {
    let words: Vec<&str> = fio.split_whitespace().collect();
    let ends_turkic = words
        .last()
        .is_some_and(|w| PATRONYMIC_ENDINGS.contains(&w.to_lowercase().as_str()));
    let person = |last: &str, first: &str, second: Option<String>| Person {
        lastname: last.to_owned(),
        firstname: first.to_owned(),
        secondname: second,
    };
    match (words.as_slice(), ends_turkic) {
        ([last, first], false) => Ok(person(last, first, None)),
        ([last, first, second], false) => Ok(person(last, first, Some((*second).to_owned()))),
        ([last, first, father, ending], true) => {
            Ok(person(last, first, Some(format!("{father} {ending}"))))
        }
        _ => Err(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 12-digit INN from its first ten digits (the tax service's check digits).
    fn with_check_digits(ten: &str) -> String {
        let d: Vec<u32> = ten.bytes().map(|b| u32::from(b - b'0')).collect();
        let digit = |weights: &[u32], d: &[u32]| {
            (weights.iter().zip(d).map(|(w, x)| w * x).sum::<u32>() % 11 % 10).to_string()
        };
        let eleventh = digit(&[7, 2, 4, 10, 3, 5, 9, 4, 6, 8], &d);
        let with11 = format!("{ten}{eleventh}");
        let d11: Vec<u32> = with11.bytes().map(|b| u32::from(b - b'0')).collect();
        format!(
            "{with11}{}",
            digit(&[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8], &d11)
        )
    }

    #[test]
    fn an_inn_that_lost_its_leading_zero_is_restored_only_when_its_digits_hold() {
        let inn = with_check_digits("0274123456");
        assert!(Inn::parse(&inn).is_ok(), "{inn}");
        // Stored as a number: the zero is gone.
        assert_eq!(restore_inn(&inn[1..]).as_deref(), Some(inn.as_str()));
        // A wrong check digit is not "restored" into something else.
        let mut broken = inn[1..].to_owned();
        let last = if broken.ends_with('0') { "1" } else { "0" };
        broken.replace_range(10.., last);
        assert_eq!(restore_inn(&broken), None);
        assert_eq!(restore_inn(&inn), None, "valid already");
        assert_eq!(restore_inn("123"), None);
        assert_eq!(
            restore_inn("2741234О6"),
            None,
            "a Cyrillic О is not a digit"
        );
    }

    #[test]
    fn names_split_as_people_write_them() {
        let p = split_fio("Петрова-Водкина  Анна Сергеевна").unwrap();
        assert_eq!(
            (
                p.lastname.as_str(),
                p.firstname.as_str(),
                p.secondname.as_deref()
            ),
            ("Петрова-Водкина", "Анна", Some("Сергеевна"))
        );
        let p = split_fio("Мамедов Рашид Али оглы").unwrap();
        assert_eq!(p.secondname.as_deref(), Some("Али оглы"));
        let p = split_fio("Ким Ирина").unwrap();
        assert_eq!((p.lastname.as_str(), p.secondname), ("Ким", None));
        assert_eq!(split_fio("Иванов"), Err(()));
        assert!(split_fio("Де Ла Крус Мария Хосе").is_err());
    }
}
