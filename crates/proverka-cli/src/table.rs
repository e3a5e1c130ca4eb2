//! Input and output tables as the people who keep lists have them: `.csv` (UTF-8 with or
//! without a BOM, or Windows-1251 as Russian Excel saves it; comma, semicolon or tab), `.xlsx`
//! (a chosen sheet, numbers and dates read as what they are), `.jsonl` (one object a line).
//!
//! Reading is strict where silence would lose a row: a line whose quote never closes, cells
//! beyond the header, two columns of one name are errors that name the line or the columns
//! and say what to do. Writing never lets a formula out (see [`write`]).

use std::io::BufRead;
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};
use proverka_core::Date;

mod csv_in;
mod widths;
pub(crate) mod write;

pub(crate) use csv_in::Encoding;

/// A file's format, by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// `.csv`.
    Csv,
    /// `.xlsx`.
    Xlsx,
    /// `.jsonl` (or `.ndjson`).
    Jsonl,
}

impl Format {
    /// The format of `path`, by its extension.
    pub(crate) fn of(path: &Path) -> Result<Self, String> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some("jsonl" | "ndjson") => Ok(Self::Jsonl),
            _ => Err(format!(
                "{}: unknown format (use .csv, .xlsx or .jsonl)",
                path.display()
            )),
        }
    }
}

/// One cell, as the input had it (a number stays a number, a date a date) or as a result
/// column gives it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A date (a spreadsheet's date cell).
    Date(Date),
    /// Yes or no (written да/нет).
    Bool(bool),
    /// Rubles (two decimals in text; a number in a workbook).
    Rubles(proverka_core::Money),
}

impl Cell {
    /// The cell as a parameter's text: whole numbers without a decimal part (an INN typed as
    /// a number), dates as `YYYY-MM-DD`.
    pub(crate) fn text(&self) -> String {
        match self {
            Self::Empty => String::new(),
            Self::Text(s) => s.clone(),
            Self::Number(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
            Self::Number(f) => f.to_string(),
            Self::Date(d) => d.to_iso(),
            Self::Bool(true) => "да".to_owned(),
            Self::Bool(false) => "нет".to_owned(),
            Self::Rubles(m) => m.to_string(),
        }
    }

    fn is_blank(&self) -> bool {
        match self {
            Self::Empty => true,
            Self::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// Where a table came from: what writing it back needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A CSV file, its delimiter.
    Csv {
        /// The delimiter read (written back the same way).
        delimiter: u8,
    },
    /// A sheet of a workbook.
    Xlsx {
        /// The sheet's name.
        sheet: String,
    },
    /// JSON lines.
    Jsonl,
}

/// A table with a header row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    /// Column names.
    pub(crate) headers: Vec<String>,
    /// Rows, each as long as `headers`, with the line (CSV, JSONL) or row (XLSX) number
    /// each came from, as a person finds it in the file.
    pub(crate) rows: Vec<(usize, Vec<Cell>)>,
    /// Where it came from.
    pub(crate) origin: Origin,
}

/// How to read an input (`--encoding`, `--sheet`).
#[derive(Debug, Clone, Default)]
pub(crate) struct ReadOptions {
    /// The CSV's encoding (detected when absent).
    pub(crate) encoding: Option<Encoding>,
    /// The workbook's sheet (the first when absent).
    pub(crate) sheet: Option<String>,
}

/// A column's letter as a spreadsheet names it (0 → A, 26 → AA).
pub(crate) fn column_letter(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + u8::try_from(index % 26).unwrap_or(0));
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

impl Table {
    /// Reads `path` in the format its extension names.
    ///
    /// # Errors
    /// What is wrong and where (the file, a line, the columns), and what to do.
    pub(crate) fn read(path: &Path, options: &ReadOptions) -> Result<Self, String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let table = match Format::of(path)? {
            Format::Csv => {
                let bytes = std::fs::read(path).map_err(|e| fail(&e))?;
                csv_in::read(&bytes, options.encoding).map_err(|e| fail(&e))?
            }
            Format::Xlsx => read_xlsx(path, options.sheet.as_deref()).map_err(|e| fail(&e))?,
            Format::Jsonl => read_jsonl(path).map_err(|e| fail(&e))?,
        };
        table.check_headers().map_err(|e| fail(&e))?;
        Ok(table)
    }

    /// Builds a table from its header and rows (numbered from the line after the header),
    /// refusing cells beyond the header and dropping blank rows.
    fn from_rows(
        headers: Vec<String>,
        rows: impl IntoIterator<Item = (usize, Vec<Cell>)>,
        origin: Origin,
    ) -> Result<Self, String> {
        let width = headers.len();
        let mut out = Vec::new();
        for (line, mut row) in rows {
            if let Some(extra) = row.iter().skip(width).position(|c| !c.is_blank()) {
                let column = width + extra;
                return Err(format!(
                    "line {line}: a value in column {} beyond the header's {width} columns ({}); a delimiter inside an unquoted value splits it: put the value in quotes, or give the column a name",
                    column_letter(column),
                    row[column].text()
                ));
            }
            row.resize(width, Cell::Empty);
            if row.iter().any(|c| !c.is_blank()) {
                out.push((line, row));
            }
        }
        Ok(Self {
            headers,
            rows: out,
            origin,
        })
    }

    /// Two columns of one name, or a column without a name that holds values: errors.
    fn check_headers(&self) -> Result<(), String> {
        for (i, h) in self.headers.iter().enumerate() {
            let key = h.trim().to_lowercase();
            if key.is_empty() {
                if self.rows.iter().any(|(_, r)| !r[i].is_blank()) {
                    return Err(format!(
                        "column {} has no name in the header but holds values: give it a name",
                        column_letter(i)
                    ));
                }
                continue;
            }
            if let Some(j) = self.headers[..i]
                .iter()
                .position(|o| o.trim().to_lowercase() == key)
            {
                return Err(format!(
                    "columns {} and {} are both named «{}»: rename one, or delete it",
                    column_letter(j),
                    column_letter(i),
                    h.trim()
                ));
            }
        }
        Ok(())
    }
}

/// A sheet of a workbook (`sheet`, or the first).
fn read_xlsx(path: &Path, sheet: Option<&str>) -> Result<Table, String> {
    let mut book: Xlsx<_> = open_workbook(path).map_err(|e: calamine::XlsxError| e.to_string())?;
    let names = book.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| format!("no sheet «{s}» (the sheets: {})", names.join(", ")))?,
        None => names
            .first()
            .cloned()
            .ok_or_else(|| "the workbook has no sheet".to_owned())?,
    };
    let range = book.worksheet_range(&name).map_err(|e| e.to_string())?;
    // Rows as the spreadsheet numbers them: the range may start below row 1.
    let first_row = range.start().map_or(0, |(r, _)| r as usize) + 1;
    let mut rows = range
        .rows()
        .enumerate()
        .map(|(i, r)| (first_row + i, r.iter().map(cell_of).collect::<Vec<_>>()));
    let headers = rows
        .next()
        .map(|(_, h)| h.iter().map(|c| c.text().trim().to_owned()).collect())
        .unwrap_or_default();
    Table::from_rows(headers, rows, Origin::Xlsx { sheet: name })
}

/// One spreadsheet cell as what it is.
pub(crate) fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => excel_date(d.as_f64()).map_or(Cell::Number(d.as_f64()), Cell::Date),
    }
}

fn read_jsonl(path: &Path) -> Result<Table, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut headers: Vec<String> = Vec::new();
    let mut objects = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line.trim_start_matches('\u{feff}'))
                .map_err(|e| format!("line {}: {e}", n + 1))?;
        for k in value.keys() {
            if !headers.contains(k) {
                headers.push(k.clone());
            }
        }
        objects.push((n + 1, value));
    }
    let rows: Vec<(usize, Vec<Cell>)> = objects
        .iter()
        .map(|(line, o)| {
            let row = headers
                .iter()
                .map(|h| match o.get(h) {
                    None | Some(serde_json::Value::Null) => Cell::Empty,
                    Some(serde_json::Value::String(s)) => Cell::Text(s.clone()),
                    Some(serde_json::Value::Number(n)) => n
                        .as_f64()
                        .map_or_else(|| Cell::Text(n.to_string()), Cell::Number),
                    Some(serde_json::Value::Bool(b)) => Cell::Bool(*b),
                    Some(v) => Cell::Text(v.to_string()),
                })
                .collect();
            (*line, row)
        })
        .collect();
    Table::from_rows(headers, rows, Origin::Jsonl)
}

/// An Excel serial day (1900 system, with its phantom 29.02.1900) as a date.
fn excel_date(serial: f64) -> Option<Date> {
    // Days since 1970-01-01: serial 25569 is 1970-01-01 (after the phantom leap day).
    let days = serial.floor() as i64 - 25_569;
    let (y, m, d) = civil_from_days(days);
    Date::from_ymd(
        u16::try_from(y).ok()?,
        u8::try_from(m).ok()?,
        u8::try_from(d).ok()?,
    )
    .ok()
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let m = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_serial_days() {
        let iso = |s: f64| excel_date(s).map(|d| d.to_iso());
        assert_eq!(iso(25_569.0).as_deref(), Some("1970-01-01"));
        assert_eq!(iso(29_311.0).as_deref(), Some("1980-03-31"));
        assert_eq!(iso(45_352.5).as_deref(), Some("2024-03-01"));
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn cells_beyond_the_header_and_twin_columns_are_errors() {
        let t = |s: &str| Cell::Text(s.to_owned());
        let beyond = Table::from_rows(
            vec!["ИНН".into(), "ФИО".into()],
            [(2, vec![t("1"), t("Иванов"), t("Иван")])],
            Origin::Jsonl,
        )
        .unwrap_err();
        assert!(
            beyond.starts_with("line 2: a value in column C"),
            "{beyond}"
        );
        let twins = Table::from_rows(
            vec!["ИНН".into(), "инн".into()],
            [(2, vec![t("1"), t("2")])],
            Origin::Jsonl,
        )
        .unwrap()
        .check_headers()
        .unwrap_err();
        assert!(
            twins.contains("columns A and B are both named «инн»"),
            "{twins}"
        );
    }
}
