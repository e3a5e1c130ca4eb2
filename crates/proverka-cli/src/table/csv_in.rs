//! CSV as Excel saves it: UTF-8 (with or without a BOM) or Windows-1251 (Russian Excel's «CSV
//! (разделители — запятые)»), detected unless `--encoding` says; the delimiter (`;`, `,` or
//! tab) counted in the header outside quotes; a quote that never closes is an error naming its
//! line, not a row silently swallowed.

use super::{Cell, Origin, Table};

/// A CSV file's encoding (`--encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Encoding {
    /// UTF-8 (a byte-order mark is skipped).
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// Windows-1251 (cp1251), Russian Excel's CSV.
    #[value(name = "windows-1251", alias = "cp1251")]
    Windows1251,
}

/// The text of a CSV file: `forced`, else UTF-8 when it is valid UTF-8, else Windows-1251
/// (every byte is a character there, so nothing is lost).
fn decode(bytes: &[u8], forced: Option<Encoding>) -> Result<String, String> {
    let without_bom = bytes.strip_prefix(b"\xEF\xBB\xBF");
    match (forced, without_bom) {
        (Some(Encoding::Windows1251), _) => Ok(encoding_rs::WINDOWS_1251
            .decode_without_bom_handling(bytes)
            .0
            .into_owned()),
        (_, Some(rest)) => String::from_utf8(rest.to_vec())
            .map_err(|e| format!("not UTF-8 after its byte-order mark ({e})")),
        (Some(Encoding::Utf8), None) => String::from_utf8(bytes.to_vec()).map_err(|e| {
            format!("not UTF-8 ({e}); a Russian Excel CSV is Windows-1251: --encoding windows-1251")
        }),
        (None, None) => Ok(String::from_utf8(bytes.to_vec()).unwrap_or_else(|e| {
            encoding_rs::WINDOWS_1251
                .decode_without_bom_handling(e.as_bytes())
                .0
                .into_owned()
        })),
    }
}

/// The delimiter of the header line: the most frequent of `;`, `,` and tab outside quotes
/// (a quoted header may hold another); `None` for a header of one column (its values may
/// hold any of them: an address has commas).
fn delimiter(text: &str) -> Option<u8> {
    let mut counts = [(b';', 0usize), (b',', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            c if !quoted => {
                if let Some(n) = counts.iter_mut().find(|(d, _)| u32::from(*d) == c as u32) {
                    n.1 += 1;
                }
            }
            _ => {}
        }
    }
    // The first of the most frequent: `;` wins a tie (Russian Excel's delimiter).
    let best = counts.iter().map(|(_, n)| *n).max().unwrap_or(0);
    counts
        .iter()
        .find(|(_, n)| *n == best && best > 0)
        .map(|(d, _)| *d)
}

/// What a one-column file is read with: a byte no text file holds, so a line is one cell.
const ONE_COLUMN: u8 = 0x1f;

/// Reads a CSV file's bytes into a table.
pub(super) fn read(bytes: &[u8], forced: Option<Encoding>) -> Result<Table, String> {
    let text = decode(bytes, forced)?;
    let found = delimiter(&text);
    let delimiter = found.unwrap_or(ONE_COLUMN);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(format!("line {line}: {e}"));
            }
        }
        let line = record.position().map_or(0, csv::Position::line) as usize;
        records.push((line, record.iter().map(str::to_owned).collect::<Vec<_>>()));
    }
    let Some((_, header)) = records.first().cloned() else {
        return Err("the file is empty: the first line must name the columns".to_owned());
    };
    let width = header.len();
    let d = char::from(delimiter);
    for (line, cells) in &records {
        // A quote that opens and never closes takes the lines after it into one cell: those
        // lines look like rows (as many delimiters as a row has).
        let swallowed = cells.iter().any(|c| {
            c.contains('\n')
                && width > 1
                && c.lines().skip(1).any(|l| l.matches(d).count() + 1 >= width)
        });
        if swallowed {
            return Err(format!(
                "line {line}: a quote («\"») opens in this line and does not close, so the rows after it would be read as one cell; close the quote or remove it (a quote inside a value is written twice: \"\")"
            ));
        }
    }
    let headers = header.iter().map(|h| h.trim().to_owned()).collect();
    let rows = records.into_iter().skip(1).map(|(line, cells)| {
        let row = cells
            .into_iter()
            .map(|c| {
                if c.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(c)
                }
            })
            .collect();
        (line, row)
    });
    // Written back with the delimiter read; a one-column list with Russian Excel's `;`.
    let delimiter = found.unwrap_or(b';');
    Table::from_rows(headers, rows, Origin::Csv { delimiter })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &Table) -> Vec<Vec<String>> {
        t.rows
            .iter()
            .map(|(_, r)| r.iter().map(Cell::text).collect())
            .collect()
    }

    #[test]
    fn russian_excel_csv_is_read_in_windows_1251() {
        let (bytes, _, _) =
            encoding_rs::WINDOWS_1251.encode("ФИО;ИНН\r\nИванов Иван;500100732259\r\n");
        let t = read(&bytes, None).unwrap();
        assert_eq!(t.headers, ["ФИО", "ИНН"]);
        assert_eq!(texts(&t), [["Иванов Иван", "500100732259"]]);
        assert_eq!(t.origin, Origin::Csv { delimiter: b';' });
        // Forced UTF-8 on it: a clear error that names the way out.
        let e = read(&bytes, Some(Encoding::Utf8)).unwrap_err();
        assert!(e.contains("--encoding windows-1251"), "{e}");
    }

    #[test]
    fn utf8_with_a_bom_and_a_quoted_header_holding_the_other_delimiter() {
        let t = read(
            "\u{feff}\"Фамилия, имя\";ИНН;Дата\n\"Петров, Пётр\";1;2\n".as_bytes(),
            None,
        )
        .unwrap();
        assert_eq!(t.headers, ["Фамилия, имя", "ИНН", "Дата"]);
        assert_eq!(texts(&t), [["Петров, Пётр", "1", "2"]]);
    }

    #[test]
    fn a_quote_that_never_closes_is_an_error_naming_its_line() {
        let e = read(
            "ИНН;ФИО;Комментарий\n1;Иванов;ok\n2;Петров;\"ООО Ромашка\n3;Сидоров;x\n4;Козлов;y\n"
                .as_bytes(),
            None,
        )
        .unwrap_err();
        assert!(e.starts_with("line 3: a quote"), "{e}");
        // A value that legitimately spans lines is kept.
        let t = read("ИНН;Адрес\n1;\"Москва,\nул. Ленина, 1\"\n".as_bytes(), None).unwrap();
        assert_eq!(texts(&t), [["1", "Москва,\nул. Ленина, 1"]]);
    }

    #[test]
    fn a_one_column_list_keeps_the_commas_of_its_values() {
        let t = read("Адрес\nКазань, Московская 1\n".as_bytes(), None).unwrap();
        assert_eq!(texts(&t), [["Казань, Московская 1"]]);
        assert_eq!(t.origin, Origin::Csv { delimiter: b';' });
    }

    #[test]
    fn extra_cells_are_an_error_and_trailing_empty_ones_are_not() {
        let e = read("ИНН,ФИО\n1,Иванов,Иван\n".as_bytes(), None).unwrap_err();
        assert!(e.starts_with("line 2: a value in column C"), "{e}");
        let t = read("ИНН,ФИО\n1,Иванов,,\n".as_bytes(), None).unwrap();
        assert_eq!(texts(&t), [["1", "Иванов"]]);
    }
}
