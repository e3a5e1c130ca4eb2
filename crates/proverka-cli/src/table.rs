//! Input and output tables: `.csv` (UTF-8, comma or semicolon, with a header), `.xlsx` (the
//! first sheet), `.jsonl` (one object a line). Every cell is text here.

use std::io::{BufRead, Write};
use std::path::Path;

use calamine::{Data, Reader, Xlsx, open_workbook};

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

/// A table of text cells with a header row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Table {
    /// Column names.
    pub(crate) headers: Vec<String>,
    /// Rows, each as long as `headers`.
    pub(crate) rows: Vec<Vec<String>>,
    /// The CSV delimiter read (written back the same way).
    pub(crate) delimiter: u8,
}

impl Table {
    /// Reads `path` in the format its extension names.
    pub(crate) fn read(path: &Path) -> Result<Self, String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let mut table = match Format::of(path)? {
            Format::Csv => {
                let text = std::fs::read_to_string(path).map_err(|e| fail(&e))?;
                let text = text.trim_start_matches('\u{feff}');
                let first = text.lines().next().unwrap_or_default();
                let delimiter = if first.matches(';').count() > first.matches(',').count() {
                    b';'
                } else {
                    b','
                };
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .flexible(true)
                    .from_reader(text.as_bytes());
                let headers = reader
                    .headers()
                    .map_err(|e| fail(&e))?
                    .iter()
                    .map(|h| h.trim().to_owned())
                    .collect();
                let mut rows = Vec::new();
                for record in reader.records() {
                    let record = record.map_err(|e| fail(&e))?;
                    rows.push(record.iter().map(str::to_owned).collect());
                }
                Self {
                    headers,
                    rows,
                    delimiter,
                }
            }
            Format::Xlsx => {
                let mut book: Xlsx<_> = open_workbook(path).map_err(|e| fail(&e))?;
                let range = book
                    .worksheet_range_at(0)
                    .ok_or_else(|| fail(&"the workbook has no sheet"))?
                    .map_err(|e| fail(&e))?;
                let mut rows = range.rows().map(|r| r.iter().map(cell).collect::<Vec<_>>());
                let headers = rows
                    .next()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|h| h.trim().to_owned())
                    .collect();
                Self {
                    headers,
                    rows: rows.collect(),
                    delimiter: b',',
                }
            }
            Format::Jsonl => {
                let file = std::fs::File::open(path).map_err(|e| fail(&e))?;
                let mut headers: Vec<String> = Vec::new();
                let mut objects = Vec::new();
                for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
                    let line = line.map_err(|e| fail(&e))?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let value: serde_json::Map<String, serde_json::Value> =
                        serde_json::from_str(line.trim_start_matches('\u{feff}'))
                            .map_err(|e| fail(&format!("line {}: {e}", n + 1)))?;
                    for k in value.keys() {
                        if !headers.contains(k) {
                            headers.push(k.clone());
                        }
                    }
                    objects.push(value);
                }
                let rows = objects
                    .iter()
                    .map(|o| {
                        headers
                            .iter()
                            .map(|h| match o.get(h) {
                                None | Some(serde_json::Value::Null) => String::new(),
                                Some(serde_json::Value::String(s)) => s.clone(),
                                Some(v) => v.to_string(),
                            })
                            .collect()
                    })
                    .collect();
                Self {
                    headers,
                    rows,
                    delimiter: b',',
                }
            }
        };
        let width = table.headers.len();
        for row in &mut table.rows {
            row.resize(width, String::new());
        }
        table
            .rows
            .retain(|r| r.iter().any(|c| !c.trim().is_empty()));
        Ok(table)
    }

    /// Writes the table to `path` in the format its extension names, through a temporary
    /// file renamed into place (an interrupted write never leaves half a file).
    pub(crate) fn write(&self, path: &Path) -> Result<(), String> {
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
        let format = Format::of(path)?;
        let tmp = path.with_extension(format!(
            "{}.part",
            path.extension().and_then(|e| e.to_str()).unwrap_or("out")
        ));
        match format {
            Format::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .delimiter(self.delimiter)
                    .from_path(&tmp)
                    .map_err(|e| fail(&e))?;
                w.write_record(&self.headers).map_err(|e| fail(&e))?;
                for row in &self.rows {
                    w.write_record(row).map_err(|e| fail(&e))?;
                }
                w.flush().map_err(|e| fail(&e))?;
            }
            Format::Xlsx => {
                let mut book = rust_xlsxwriter::Workbook::new();
                let sheet = book.add_worksheet();
                for (c, h) in self.headers.iter().enumerate() {
                    let c = u16::try_from(c).map_err(|e| fail(&e))?;
                    sheet.write_string(0, c, h).map_err(|e| fail(&e))?;
                }
                for (r, row) in self.rows.iter().enumerate() {
                    let r = u32::try_from(r + 1).map_err(|e| fail(&e))?;
                    for (c, v) in row.iter().enumerate() {
                        let c = u16::try_from(c).map_err(|e| fail(&e))?;
                        sheet.write_string(r, c, v).map_err(|e| fail(&e))?;
                    }
                }
                // The writer names its own file type: a `.part` name would be refused.
                let tmp_xlsx = tmp.with_extension("part.xlsx");
                book.save(&tmp_xlsx).map_err(|e| fail(&e))?;
                std::fs::rename(&tmp_xlsx, &tmp).map_err(|e| fail(&e))?;
            }
            Format::Jsonl => {
                let mut f =
                    std::io::BufWriter::new(std::fs::File::create(&tmp).map_err(|e| fail(&e))?);
                for row in &self.rows {
                    let object: serde_json::Map<String, serde_json::Value> = self
                        .headers
                        .iter()
                        .zip(row)
                        .map(|(h, v)| (h.clone(), serde_json::Value::String(v.clone())))
                        .collect();
                    let line = serde_json::to_string(&object).map_err(|e| fail(&e))?;
                    writeln!(f, "{line}").map_err(|e| fail(&e))?;
                }
                f.flush().map_err(|e| fail(&e))?;
            }
        }
        std::fs::rename(&tmp, path).map_err(|e| fail(&e))
    }
}

/// One spreadsheet cell as text: whole numbers without a decimal part (an INN typed as a
/// number), dates as `YYYY-MM-DD`.
fn cell(data: &Data) -> String {
    match data {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => excel_date(d.as_f64()),
    }
}

/// An Excel serial day (1900 system, with its phantom 29.02.1900) as `YYYY-MM-DD`.
fn excel_date(serial: f64) -> String {
    // Days since 1970-01-01: serial 25569 is 1970-01-01 (after the phantom leap day).
    let days = serial.floor() as i64 - 25_569;
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
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
        assert_eq!(excel_date(25_569.0), "1970-01-01");
        assert_eq!(excel_date(29_311.0), "1980-03-31");
        assert_eq!(excel_date(45_352.5), "2024-03-01");
    }
}
