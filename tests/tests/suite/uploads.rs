//! Uploads at the boundary: no body byte is read before the credential and
//! the permission are proven, and hostile spreadsheets (cells far apart, a
//! lying dimension, a lying count of shared strings, far too many rows) are
//! refused fast, off the request
//! threads, while the server keeps answering others.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use onegrid_tests::{TestApp, World};
use serde_json::json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A minimal xlsx whose first sheet is `sheet_data` (inside `<worksheet>`).
fn xlsx(sheet: &str) -> Vec<u8> {
    xlsx_with(sheet, &[])
}

/// As [`xlsx`], with more parts (name, body).
fn xlsx_with(sheet: &str, more: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut out));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        let parts = [
            (
                "[Content_Types].xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#.to_owned(),
            ),
            (
                "_rels/.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#.to_owned(),
            ),
            (
                "xl/workbook.xml",
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.to_owned(),
            ),
            (
                "xl/_rels/workbook.xml.rels",
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.to_owned(),
            ),
            (
                "xl/worksheets/sheet1.xml",
                format!(
                    r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet}</worksheet>"#
                ),
            ),
        ];
        let more = more.iter().map(|(n, b)| (*n, (*b).to_owned()));
        for (name, body) in parts.into_iter().chain(more) {
            zip.start_file(name, options).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
    }
    out
}

fn text_cell(at: &str, text: &str) -> String {
    format!(r#"<c r="{at}" t="inlineStr"><is><t>{text}</t></is></c>"#)
}

/// `/healthz` asked every 50 ms until stopped; returns the slowest answer.
fn keep_asking(app: &TestApp, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<Duration> {
    let (client, url) = (app.client.clone(), format!("{}/healthz", app.base));
    tokio::spawn(async move {
        let mut slowest = Duration::ZERO;
        while !stop.load(Ordering::Relaxed) {
            let started = Instant::now();
            let r = client.get(&url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            slowest = slowest.max(started.elapsed());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        slowest
    })
}

/// Sends `body` as an import and expects a 4xx problem within 2 s while the
/// server keeps answering `/healthz`; returns the problem's detail.
async fn refused_fast(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Vec<u8>,
    status: u16,
) -> String {
    let stop = Arc::new(AtomicBool::new(false));
    let asking = keep_asking(app, stop.clone());
    let started = Instant::now();
    let r = app.post(path).bearer(token).raw(XLSX, body).send().await;
    let took = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let slowest = asking.await.unwrap();
    let detail = r.problem(status, "validation_failed")["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(took < Duration::from_secs(2), "took {took:?}: {detail}");
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz stalled {slowest:?}"
    );
    detail
}

#[tokio::test]
async fn hostile_sheets_are_refused_fast_while_others_are_served() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let t = app.token("a1-admin").await;
    let garages = app.ledger_type_id(&t, "garages").await;
    let path = format!("/api/v1/ledger-types/{garages}/import");

    // Cells at A1 and at the sheet's last cell (XFD1048576), 1.5 KB in all.
    let sparse = xlsx(&format!(
        r#"<dimension ref="A1:XFD1048576"/><sheetData><row r="1">{}</row><row r="1048576">{}</row></sheetData>"#,
        text_cell("A1", "number"),
        text_cell("XFD1048576", "x")
    ));
    assert!(sparse.len() < 2048, "{}", sparse.len());
    let detail = refused_fast(&app, &t, &path, sparse, 422).await;
    assert!(detail.contains("more than 100 columns"), "{detail}");

    // The same far apart in one column: refused by its row, not by its width.
    let tall = xlsx(&format!(
        r#"<sheetData><row r="1">{}</row><row r="1048576">{}</row></sheetData>"#,
        text_cell("A1", "number"),
        text_cell("A1048576", "x")
    ));
    let detail = refused_fast(&app, &t, &path, tall, 422).await;
    assert!(detail.contains("more than 20000 rows"), "{detail}");

    // A dimension that claims the whole sheet over two honest rows: read as
    // the two rows it has (here: a header without the subject column).
    let lying = xlsx(&format!(
        r#"<dimension ref="A1:XFD1048576"/><sheetData><row r="1">{}</row><row r="2">{}</row></sheetData>"#,
        text_cell("A1", "actual_use"),
        text_cell("A2", "仓储")
    ));
    let detail = refused_fast(&app, &t, &path, lying, 422).await;
    assert!(detail.contains("lacks the"), "{detail}");

    // Shared strings declaring ten billion strings (the reader would reserve
    // 240 GB for them before reading one), 1 KB in all.
    let counted = xlsx_with(
        &format!(
            r#"<sheetData><row r="1">{}</row></sheetData>"#,
            text_cell("A1", "number")
        ),
        &[(
            "xl/sharedStrings.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="10000000000" uniqueCount="10000000000"><si><t>x</t></si></sst>"#,
        )],
    );
    assert!(counted.len() < 2048, "{}", counted.len());
    let detail = refused_fast(&app, &t, &path, counted, 422).await;
    assert!(detail.contains("declare more than"), "{detail}");

    // 100,000 honest rows (4 MB of XML): refused at row 20,001.
    let mut rows = String::from(
        r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>number</t></is></c></row>"#,
    );
    for r in 2..=100_001 {
        rows.push_str(&format!(r#"<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>"#));
    }
    rows.push_str("</sheetData>");
    let long = xlsx(&rows);
    assert!(long.len() < 5 * 1024 * 1024);
    let detail = refused_fast(&app, &t, &path, long, 422).await;
    assert!(detail.contains("more than 20000 rows"), "{detail}");

    // 1.5 million CSV lines (3 MB).
    let mut csv = String::from("number\n");
    csv.push_str(&"1\n".repeat(1_500_000));
    let stop = Arc::new(AtomicBool::new(false));
    let asking = keep_asking(&app, stop.clone());
    let started = Instant::now();
    let r = app.post(&path).bearer(&t).raw("text/csv", csv).send().await;
    assert!(started.elapsed() < Duration::from_secs(2));
    stop.store(true, Ordering::Relaxed);
    assert!(asking.await.unwrap() < Duration::from_secs(1));
    let detail = r.problem(422, "validation_failed")["detail"].clone();
    assert!(
        detail.as_str().unwrap().contains("more than 20000 rows"),
        "{detail}"
    );

    // Nothing was written by any of them.
    assert_eq!(app.db.count("ledger_records").await, 1);
}

/// A body that trickles in one byte a second for a minute: a server that
/// read it before checking the caller would answer after a minute.
fn trickle() -> reqwest::Body {
    let chunks = futures_util::stream::unfold(0u32, |n| async move {
        if n >= 60 {
            return None;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        Some((Ok::<_, std::io::Error>(vec![b'x']), n + 1))
    });
    reqwest::Body::wrap_stream(chunks)
}

#[tokio::test]
async fn no_byte_is_read_before_the_caller_and_permission_are_proven() {
    let (app, w) = TestApp::with_world().await;
    let admin = app.token("a1-admin").await;
    let worker = app.token("a1-worker").await;
    let auditor = app.token("d-auditor").await;
    let garages = app.ledger_type_id(&admin, "garages").await;
    let noise = app.case_category(&worker, "03.02").await;
    let case = app
        .file_case(
            &worker,
            &json!({"channel": "patrol", "category_id": noise, "grid_id": w.grid_a1_1, "title": "井盖破损", "description": "见照片"}),
        )
        .await;
    let import = format!("/api/v1/ledger-types/{garages}/import");
    let attach = format!("/api/v1/cases/{}/attachments", case["id"].as_str().unwrap());
    let made_up = format!("ogk_{}_x", uuid::Uuid::now_v7());

    for (path, content_type) in [(&import, XLSX), (&attach, "image/jpeg")] {
        // A made-up API key of the right shape: 401 at once.
        let started = Instant::now();
        let r = app
            .post(path)
            .header("x-api-key", &made_up)
            .raw(content_type, trickle())
            .send()
            .await;
        r.problem(401, "invalid_token");
        assert!(started.elapsed() < Duration::from_secs(2), "{path}");
        // A real user without the permission: 403 at once.
        let started = Instant::now();
        let r = app
            .post(path)
            .bearer(&auditor)
            .raw(content_type, trickle())
            .send()
            .await;
        r.problem(403, "forbidden");
        assert!(started.elapsed() < Duration::from_secs(2), "{path}");
    }
    // Another street's case: 404 at once, as for any id.
    let b_worker = app.token("b1-worker").await;
    let started = Instant::now();
    app.post(&attach)
        .bearer(&b_worker)
        .raw("image/jpeg", trickle())
        .send()
        .await
        .problem(404, "not_found");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(app.db.count("case_attachments").await, 0);
}
