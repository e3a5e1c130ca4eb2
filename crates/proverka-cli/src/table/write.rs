//! Writing results as a spreadsheet user needs them, through a temporary file renamed into
//! place (an interrupted write never leaves half a file):
//!
//! - **CSV**: UTF-8 with a byte-order mark (so Excel reads Cyrillic), the input's delimiter,
//!   and no formula: a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
//!   gets a leading `'` (OWASP's rule against CSV injection), whether it came from the input or
//!   from a provider.
//! - **XLSX**: numbers as numbers, dates as dates, yes/no as да/нет; text is always written as
//!   text, never as a formula. An input workbook's other sheets are kept (their values, in
//!   order, under their names), the checked sheet keeps its name, and sheets such as «Итог»
//!   are added.
//! - **JSONL**: one object a row, numbers and booleans as JSON has them.

use std::borrow::Cow;
use std::io::Write;
use std::path::Path;

use calamine::{Reader, Xlsx, open_workbook};
use rust_xlsxwriter::{ExcelDateTime, Format as CellFormat, Workbook, Worksheet};

use super::{Cell, Format, Origin, cell_of};

/// One sheet to write.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sheet {
    /// Its name.
    pub(crate) name: String,
    /// Column names.
    pub(crate) headers: Vec<String>,
    /// Rows.
    pub(crate) rows: Vec<Vec<Cell>>,
}

/// What a batch writes: the checked table with its result columns, and the sheets added to a
/// workbook (to a CSV: none; each is written beside it by the caller if it wants).
#[derive(Debug)]
pub(crate) struct Output<'a> {
    /// The checked rows.
    pub(crate) main: Sheet,
    /// Where the input came from (its delimiter; its workbook's other sheets).
    pub(crate) origin: &'a Origin,
    /// The input file, when it is a workbook whose other sheets are kept.
    pub(crate) input: &'a Path,
    /// Sheets added after the checked one (XLSX only).
    pub(crate) added: Vec<Sheet>,
}

/// A cell as CSV text no spreadsheet evaluates.
pub(crate) fn csv_safe(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Refuses an output that is the input (it would be overwritten, its other sheets lost).
///
/// # Errors
/// The two paths are one file.
pub(crate) fn not_the_input(input: &Path, out: &Path) -> Result<(), String> {
    let same = match (std::fs::canonicalize(input), std::fs::canonicalize(out)) {
        (Ok(a), Ok(b)) => a == b,
        _ => std::path::absolute(input).ok() == std::path::absolute(out).ok(),
    };
    if same {
        return Err(format!(
            "--out {} is the input file: the results go to a new file (the input is never overwritten); give another name",
            out.display()
        ));
    }
    Ok(())
}

impl Output<'_> {
    /// Writes it to `path` in the format its extension names.
    ///
    /// # Errors
    /// The file cannot be written (the message names it).
    pub(crate) fn write(&self, path: &Path) -> Result<(), String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let format = Format::of(path)?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("out");
        // The writers name their own file type: the temporary file keeps the extension.
        let tmp = path.with_extension(format!("part.{ext}"));
        match format {
            Format::Csv => self.write_csv(&tmp).map_err(|e| fail(&e))?,
            Format::Xlsx => self.write_xlsx(&tmp).map_err(|e| fail(&e))?,
            Format::Jsonl => self.write_jsonl(&tmp).map_err(|e| fail(&e))?,
        }
        std::fs::rename(&tmp, path).map_err(|e| fail(&e))
    }

    fn write_csv(&self, tmp: &Path) -> Result<(), String> {
        let delimiter = match self.origin {
            Origin::Csv { delimiter } => *delimiter,
            // Russian Excel opens `;` by default.
            _ => b';',
        };
        write_csv_sheet(&self.main, delimiter, tmp)
    }

    fn write_jsonl(&self, tmp: &Path) -> Result<(), String> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(tmp).map_err(|e| e.to_string())?);
        for row in &self.main.rows {
            let object: serde_json::Map<String, serde_json::Value> = self
                .main
                .headers
                .iter()
                .zip(row)
                .map(|(h, c)| {
                    let v = match c {
                        Cell::Empty => serde_json::Value::Null,
                        // A count stays an integer (`0`, not `0.0`).
                        Cell::Number(n) if n.fract() == 0.0 && n.abs() < 9e15 => {
                            serde_json::json!(*n as i64)
                        }
                        Cell::Number(n) => serde_json::json!(n),
                        Cell::Bool(b) => serde_json::Value::Bool(*b),
                        other => serde_json::Value::String(other.text()),
                    };
                    (h.clone(), v)
                })
                .collect();
            let line = serde_json::to_string(&object).map_err(|e| e.to_string())?;
            writeln!(f, "{line}").map_err(|e| e.to_string())?;
        }
        f.flush().map_err(|e| e.to_string())
    }

    fn write_xlsx(&self, tmp: &Path) -> Result<(), String> {
        let mut book = Workbook::new();
        let kept = match self.origin {
            Origin::Xlsx { sheet } => Some((other_sheets(self.input)?, sheet.clone())),
            _ => None,
        };
        // The input's column widths, sheet by sheet (the result columns are fitted).
        let widths = match self.origin {
            Origin::Xlsx { .. } => super::widths::of_workbook(self.input),
            _ => std::collections::HashMap::new(),
        };
        let keep_widths = |sheet: &mut Worksheet, name: &str| -> Result<(), String> {
            for (first, last, width) in widths.get(name).into_iter().flatten() {
                // The file's width includes Excel's 5-pixel padding (5/7 of a character);
                // the writer adds it again.
                let characters = (width - 5.0 / 7.0).max(0.0);
                for c in *first..=*last {
                    sheet
                        .set_column_width(c, characters)
                        .map_err(|e| e.to_string())?;
                }
            }
            Ok(())
        };
        let date = CellFormat::new().set_num_format("dd.mm.yyyy");
        let bold = CellFormat::new().set_bold();
        let mut main_written = false;
        let write_main = |book: &mut Workbook| -> Result<(), String> {
            let sheet = book.add_worksheet();
            write_sheet(sheet, &self.main, &date, &bold)?;
            keep_widths(sheet, &self.main.name)
        };
        if let Some((sheets, checked)) = &kept {
            // The workbook's sheets in their order, the checked one replaced by its results.
            for other in sheets {
                if other.name == *checked {
                    write_main(&mut book)?;
                    main_written = true;
                } else {
                    let sheet = book.add_worksheet();
                    write_sheet(sheet, other, &date, &bold)?;
                    keep_widths(sheet, &other.name)?;
                }
            }
        }
        if !main_written {
            write_main(&mut book)?;
        }
        for added in &self.added {
            let sheet = book.add_worksheet();
            write_sheet(sheet, added, &date, &bold)?;
        }
        book.save(tmp).map_err(|e| e.to_string())
    }
}

/// One sheet as CSV (UTF-8 with a BOM, no formula) at `path`.
pub(crate) fn write_csv_sheet(sheet: &Sheet, delimiter: u8, path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    file.write_all(b"\xEF\xBB\xBF").map_err(|e| e.to_string())?;
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(std::io::BufWriter::new(file));
    let header: Vec<Cow<'_, str>> = sheet.headers.iter().map(|h| csv_safe(h)).collect();
    w.write_record(header.iter().map(|h| h.as_bytes()))
        .map_err(|e| e.to_string())?;
    for row in &sheet.rows {
        let texts: Vec<String> = row
            .iter()
            .map(|c| csv_safe(&c.text()).into_owned())
            .collect();
        w.write_record(&texts).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// Every sheet of an input workbook, as values.
fn other_sheets(input: &Path) -> Result<Vec<Sheet>, String> {
    let mut book: Xlsx<_> = open_workbook(input).map_err(|e: calamine::XlsxError| e.to_string())?;
    let mut out = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| e.to_string())?;
        // Kept where it was: rows and columns before the range stay empty.
        let (top, left) = range
            .start()
            .map_or((0, 0), |(r, c)| (r as usize, c as usize));
        let mut rows: Vec<Vec<Cell>> = vec![Vec::new(); top];
        rows.extend(range.rows().map(|r| {
            let mut row = vec![Cell::Empty; left];
            row.extend(r.iter().map(cell_of));
            row
        }));
        let mut rows = rows.into_iter();
        let headers = rows
            .next()
            .map(|h| h.iter().map(Cell::text).collect())
            .unwrap_or_default();
        out.push(Sheet {
            name,
            headers,
            rows: rows.collect(),
        });
    }
    Ok(out)
}

fn write_sheet(
    sheet: &mut Worksheet,
    data: &Sheet,
    date: &CellFormat,
    bold: &CellFormat,
) -> Result<(), String> {
    let money = &CellFormat::new().set_num_format("0.00");
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    sheet.set_name(&data.name).map_err(e)?;
    for (c, h) in data.headers.iter().enumerate() {
        let c = u16::try_from(c).map_err(|e| e.to_string())?;
        sheet.write_string_with_format(0, c, h, bold).map_err(e)?;
    }
    for (r, row) in data.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(|e| e.to_string())?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(|e| e.to_string())?;
            match cell {
                Cell::Empty => {}
                Cell::Text(s) => {
                    sheet.write_string(r, c, s).map_err(e)?;
                }
                Cell::Number(n) => {
                    sheet.write_number(r, c, *n).map_err(e)?;
                }
                Cell::Date(d) => {
                    let day = ExcelDateTime::from_ymd(d.year(), d.month(), d.day()).map_err(e)?;
                    sheet
                        .write_datetime_with_format(r, c, &day, date)
                        .map_err(e)?;
                }
                Cell::Bool(_) => {
                    sheet.write_string(r, c, cell.text()).map_err(e)?;
                }
                Cell::Rubles(m) => {
                    let rubles = m.kopecks() as f64 / 100.0;
                    sheet
                        .write_number_with_format(r, c, rubles, money)
                        .map_err(e)?;
                }
            }
        }
    }
    sheet.autofit();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cell_starts_a_formula() {
        for hostile in ["=1+1", "+7 495", "-2", "@SUM(A1:A9)", "\tx", "\rx"] {
            assert!(csv_safe(hostile).starts_with('\''), "{hostile:?}");
        }
        assert_eq!(csv_safe("Иванов"), "Иванов");
        assert_eq!(csv_safe("1.50"), "1.50");
    }
}
