//! The column widths of an input workbook's sheets, so the results keep them: calamine reads
//! values, not layout, so the widths are read from the file itself (an `.xlsx` is a zip of
//! XML: `xl/workbook.xml` names the sheets, its relationships locate each sheet's XML, and a
//! sheet's `<cols><col min max width/>` holds the widths).

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::Event;

/// Widths of a sheet's columns: (first column, last column, width in characters), 0-based.
pub(crate) type Widths = Vec<(u16, u16, f64)>;

/// Every sheet's column widths, by sheet name; empty when the file cannot be read so (the
/// results are still written, with widths fitted to their text).
pub(crate) fn of_workbook(path: &Path) -> HashMap<String, Widths> {
    read(path).unwrap_or_default()
}

fn read(path: &Path) -> Option<HashMap<String, Widths>> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).ok()?).ok()?;
    let mut text = |name: &str| -> Option<String> {
        let mut s = String::new();
        zip.by_name(name).ok()?.read_to_string(&mut s).ok()?;
        Some(s)
    };
    let workbook = text("xl/workbook.xml")?;
    let rels = text("xl/_rels/workbook.xml.rels")?;
    let targets: HashMap<String, String> = elements(&rels, b"Relationship")
        .into_iter()
        .filter_map(|a| Some((a.get("Id")?.clone(), a.get("Target")?.clone())))
        .collect();
    let mut out = HashMap::new();
    for sheet in elements(&workbook, b"sheet") {
        let (Some(name), Some(id)) = (sheet.get("name"), sheet.get("id")) else {
            continue;
        };
        let Some(target) = targets.get(id) else {
            continue;
        };
        let file = match target.strip_prefix('/') {
            Some(absolute) => absolute.to_owned(),
            None => format!("xl/{target}"),
        };
        let Some(xml) = text(&file) else { continue };
        let widths: Widths = elements(&xml, b"col")
            .into_iter()
            .filter_map(|c| {
                let min: u16 = c.get("min")?.parse().ok()?;
                let max: u16 = c.get("max")?.parse().ok()?;
                let width: f64 = c.get("width")?.parse().ok()?;
                // 1-based in the file; a range to the last column (16384) is cut to the sheet.
                Some((min.checked_sub(1)?, max.min(16_384) - 1, width))
            })
            .collect();
        out.insert(name.clone(), widths);
    }
    Some(out)
}

/// The attributes (by local name) of every element named `name` in `xml`.
fn elements(xml: &str, name: &[u8]) -> Vec<HashMap<String, String>> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e) | Event::Empty(e)) if e.local_name().as_ref() == name => {
                let attributes = e
                    .attributes()
                    .flatten()
                    .filter_map(|a| {
                        let key = String::from_utf8(a.key.local_name().as_ref().to_vec()).ok()?;
                        let value = a
                            .decode_and_unescape_value(reader.decoder())
                            .ok()?
                            .into_owned();
                        Some((key, value))
                    })
                    .collect();
                out.push(attributes);
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_read_per_sheet() {
        let dir = std::env::temp_dir().join(format!("proverka-widths-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("w.xlsx");
        let mut book = rust_xlsxwriter::Workbook::new();
        let a = book.add_worksheet();
        a.set_name("Люди").unwrap();
        a.write_string(0, 0, "ФИО").unwrap();
        a.set_column_width(0, 42.0).unwrap();
        a.set_column_width(2, 7.5).unwrap();
        let b = book.add_worksheet();
        b.set_name("Прочее").unwrap();
        b.write_string(0, 0, "x").unwrap();
        book.save(&path).unwrap();
        let widths = of_workbook(&path);
        let people = &widths["Люди"];
        assert!(
            people
                .iter()
                .any(|(a, b, w)| (*a, *b) == (0, 0) && (*w - 42.0).abs() < 1.0),
            "{people:?}"
        );
        assert!(
            people
                .iter()
                .any(|(a, _, w)| *a == 2 && (*w - 7.5).abs() < 1.0),
            "{people:?}"
        );
        assert!(widths["Прочее"].is_empty());
        assert!(of_workbook(Path::new("/nonexistent.xlsx")).is_empty());
    }
}
