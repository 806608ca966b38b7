//! Ledger templates, imports (dry run, row errors, all or nothing, hostile
//! files) and exports (masked, formulas inert).

use std::io::Write;

use onegrid_tests::fixture::ID_A;
use onegrid_tests::{TestApp, World};
use serde_json::json;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[tokio::test]
async fn import_checks_every_row_then_writes_all_or_nothing() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let veterans = app.ledger_type_id(&t, "veterans").await;
    let template = app
        .get_as(
            &t,
            &format!("/api/v1/ledger-types/{veterans}/template?format=csv"),
        )
        .await;
    assert_eq!(template.status.as_u16(), 200);
    assert!(
        template
            .text
            .contains("id_number,service_branch,discharged_on,disability_grade,employment"),
        "{}",
        template.text
    );

    let csv = format!(
        "id_number,service_branch,discharged_on\n{ID_A},陆军,1995-07-01\n{},火箭兵,1995-07-01\n110105194912310021,海军,\n,陆军,\n",
        "150203198506011233"
    );
    let path = format!("/api/v1/ledger-types/{veterans}/import");
    let dry = app
        .post(&path)
        .bearer(&t)
        .raw("text/csv", csv.clone())
        .send()
        .await;
    let report = dry.ok(200).clone();
    assert_eq!(report["dry_run"], true);
    assert_eq!(report["rows"], 4);
    assert_eq!(report["valid"], 1);
    let errors = report["errors"].as_array().unwrap();
    let rows: Vec<(u64, &str)> = errors
        .iter()
        .map(|e| (e["row"].as_u64().unwrap(), e["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rows,
        [(3, "id_number"), (4, "id_number"), (5, "id_number")],
        "{report}"
    );
    assert!(
        !dry.text.contains("150203198506011233") && !dry.text.contains(ID_A),
        "reports never echo ID numbers"
    );
    assert_eq!(
        app.db.count("ledger_records").await,
        1,
        "a dry run writes nothing"
    );

    let real = app
        .post(&format!("{path}?dry_run=false"))
        .bearer(&t)
        .raw("text/csv", csv)
        .send()
        .await;
    assert_eq!(real.status.as_u16(), 422);
    assert_eq!(real.body["created"], 0);
    assert_eq!(
        app.db.count("ledger_records").await,
        1,
        "a failed import writes nothing"
    );

    // A bad choice is a row error on its column.
    let bad_choice = format!("id_number,service_branch\n{ID_A},火箭兵\n");
    let r = app
        .post(&path)
        .bearer(&t)
        .raw("text/csv", bad_choice)
        .send()
        .await;
    assert_eq!(r.ok(200)["errors"][0]["column"], "service_branch");

    let good = format!(
        "id_number,service_branch,discharged_on,employment\n{},陆军,1995-07-01,在职\n",
        ID_A.to_lowercase()
    );
    let done = app
        .post(&format!("{path}?dry_run=false"))
        .bearer(&t)
        .raw("text/csv", good)
        .send()
        .await;
    assert_eq!(done.ok(200)["created"], 1);
    let records = app
        .get_as(&t, &format!("/api/v1/ledger-types/{veterans}/records"))
        .await;
    let items = records.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["resident"]["id"], w.resident_a.to_string());
    assert_eq!(items[0]["data"]["employment"], "在职");

    // Unknown columns and files without the subject column are refused whole.
    app.post(&path)
        .bearer(&t)
        .raw("text/csv", "id_number,colour\n1,2\n")
        .send()
        .await
        .problem(422, "validation_failed");
    app.post(&path)
        .bearer(&t)
        .raw("text/csv", "service_branch\n陆军\n")
        .send()
        .await
        .problem(422, "validation_failed");
    app.post(&path)
        .bearer(&t)
        .raw("application/json", "{}")
        .send()
        .await
        .problem(415, "unsupported_media_type");
}

#[tokio::test]
async fn an_id_number_stored_as_an_excel_number_is_a_row_error() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let t = app.token("a1-admin").await;
    let veterans = app.ledger_type_id(&t, "veterans").await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "id_number").unwrap();
    sheet.write_string(0, 1, "service_branch").unwrap();
    sheet.write_number(1, 0, 110105194912310020.0).unwrap();
    sheet.write_string(1, 1, "陆军").unwrap();
    sheet.write_string(2, 0, ID_A).unwrap();
    sheet.write_string(2, 1, "海军").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let r = app
        .post(&format!("/api/v1/ledger-types/{veterans}/import"))
        .bearer(&t)
        .raw(XLSX, bytes)
        .send()
        .await;
    let report = r.ok(200).clone();
    assert_eq!(report["valid"], 1);
    assert_eq!(report["errors"][0]["row"], 2);
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("stored as a number"),
        "{report}"
    );
}

#[tokio::test]
async fn hostile_files_are_refused_quickly() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let t = app.token("a1-admin").await;
    let garages = app.ledger_type_id(&t, "garages").await;
    let path = format!("/api/v1/ledger-types/{garages}/import");
    // A zip bomb: 200 MB of zeros in a small archive.
    let mut bomb = Vec::new();
    {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(&mut bomb));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        zip.start_file("xl/worksheets/sheet1.xml", options).unwrap();
        let zeros = vec![0u8; 1024 * 1024];
        for _ in 0..200 {
            zip.write_all(&zeros).unwrap();
        }
        zip.finish().unwrap();
    }
    assert!(bomb.len() < 1024 * 1024);
    let started = std::time::Instant::now();
    let r = app.post(&path).bearer(&t).raw(XLSX, bomb).send().await;
    assert!(
        r.problem(422, "validation_failed")["detail"]
            .as_str()
            .unwrap()
            .contains("zip bomb")
    );
    assert!(started.elapsed().as_secs() < 5);
    app.post(&path)
        .bearer(&t)
        .raw(XLSX, b"PK not really".to_vec())
        .send()
        .await
        .problem(422, "validation_failed");
    // A 6 MiB body is refused from its Content-Length, before a byte of it
    // is read: the answer comes while the client has sent the headers only
    // (an HTTP client still writing the body may see the connection close).
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {t}\r\n\
         Content-Type: text/csv\r\nContent-Length: {}\r\n\r\n",
        6 * 1024 * 1024
    );
    let answer = raw_exchange(&app.base, head.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"code\":\"payload_too_large\""),
        "{answer}"
    );
    assert_eq!(app.db.count("ledger_records").await, 1);
}

/// Writes `request` to the server at `base` and reads what it answers
/// within ten seconds (until it closes or a full body arrives).
async fn raw_exchange(base: &str, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    let read = async {
        loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            answer.extend_from_slice(buf.get(..n).unwrap_or_default());
            if String::from_utf8_lossy(&answer).contains("\"code\":") {
                break;
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("the server answers before the body is sent");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn exports_are_masked_and_formulas_inert() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let garages = app.ledger_type_id(&t, "garages").await;
    let veterans = app.ledger_type_id(&t, "veterans").await;
    app.post_as(&t, &format!("/api/v1/ledger-types/{garages}/records"), &json!({"grid_id": w.grid_a1_1, "data": {"number": "=HYPERLINK(\"http://evil\",\"点我\")", "actual_use": "仓储", "contact": "+86 138"}})).await
        .ok(201);
    app.post_as(
        &t,
        &format!("/api/v1/ledger-types/{veterans}/records"),
        &json!({"resident_id": w.resident_a, "data": {"service_branch": "陆军"}}),
    )
    .await
    .ok(201);
    let csv = app
        .get_as(
            &t,
            &format!("/api/v1/ledger-types/{garages}/export?format=csv"),
        )
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(csv.text.contains("\"'=HYPERLINK("), "{}", csv.text);
    assert!(csv.text.contains("'+86 138"));
    assert!(csv.text.contains("150203001001001"));
    let vets = app
        .get_as(
            &t,
            &format!("/api/v1/ledger-types/{veterans}/export?format=csv"),
        )
        .await;
    assert!(
        vets.text.contains("1***************2X") && !vets.text.contains(ID_A),
        "{}",
        vets.text
    );
    let xlsx = app
        .get_as(&t, &format!("/api/v1/ledger-types/{veterans}/export"))
        .await;
    assert_eq!(xlsx.header("content-type"), Some(XLSX));
    // Exports of audited ledgers are audited reads.
    assert!(app.db.count("audit_log WHERE action = 'ledger.read'").await >= 2);
    // A query export.
    let q = app.post_as(&t, "/api/v1/ledger-queries/export", &json!({"query": {"ledger": "veterans", "conditions": [{"field": "age", "op": "gte", "value": 60}]}, "format": "csv"})).await;
    assert_eq!(q.status.as_u16(), 200);
    assert_eq!(q.text.lines().count(), 2, "{}", q.text);
    // Street B exports nothing of street A.
    let b = app.token("b-admin").await;
    let none = app
        .get_as(
            &b,
            &format!("/api/v1/ledger-types/{garages}/export?format=csv"),
        )
        .await;
    assert_eq!(none.text.lines().count(), 1);
}

#[tokio::test]
async fn a_large_import_writes_every_row_with_its_first_version() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a1-admin").await;
    let organisations = app.ledger_type_id(&t, "organisations").await;
    // 2,500 rows: three multi-row statements of records, three of versions.
    let mut csv = String::from("grid_code,name,kind,contact_person,member_of_joint_committee\n");
    for i in 0..2_500 {
        let grid = if i % 2 == 0 {
            "150203001001001"
        } else {
            "150203001001002"
        };
        csv.push_str(&format!("{grid},商户{i:04},商铺,负责人{i},否\n"));
    }
    let before = app.db.count("ledger_records").await;
    let done = app
        .post(&format!(
            "/api/v1/ledger-types/{organisations}/import?dry_run=false"
        ))
        .bearer(&t)
        .raw("text/csv", csv)
        .send()
        .await;
    let report = done.ok(200).clone();
    assert_eq!(
        (report["rows"].as_i64(), report["created"].as_i64()),
        (Some(2_500), Some(2_500))
    );
    assert_eq!(app.db.count("ledger_records").await, before + 2_500);
    let imported =
        format!("SELECT count(*) FROM ledger_records WHERE ledger_type_id = '{organisations}'");
    assert_eq!(app.db.scalar(&imported).await, 2_500);
    let first_versions = format!(
        "SELECT count(*) FROM ledger_record_versions v JOIN ledger_records r \
           ON r.street_id = v.street_id AND r.id = v.record_id \
         WHERE r.ledger_type_id = '{organisations}' AND v.version = 1 AND v.change = 'created' \
           AND v.data = r.data AND v.grid_id = r.grid_id"
    );
    assert_eq!(app.db.scalar(&first_versions).await, 2_500);
    let in_first_grid = format!(
        "SELECT count(*) FROM ledger_records WHERE ledger_type_id = '{organisations}' \
         AND grid_id = '{}' AND data->>'name' LIKE '商户%' AND created_by = '{}'",
        w.grid_a1_1,
        w.user("a1-admin")
    );
    assert_eq!(app.db.scalar(&in_first_grid).await, 1_250);
}
