//! An ID number sent in any wrong shape is in no response and no log.

use std::process::Stdio;

use super::{command, free_port, terminate_and_wait, wait_ready};
use onegrid_tests::TestApp;

/// A valid ID number (GB 11643 check digit) made only of digits, so that it
/// also fits a JSON number.
const ID_NUMBER: &str = "150203196802193028";

/// Where in request bodies the spec puts an ID number or a phone, as paths
/// (`[0]` for an array's item), found by walking the committed document.
fn sensitive_fields() -> Vec<(String, String, Vec<String>)> {
    fn walk(
        schemas: &serde_json::Value,
        s: &serde_json::Value,
        path: &[String],
        depth: usize,
        out: &mut Vec<Vec<String>>,
    ) {
        if depth > 6 {
            return;
        }
        if let Some(r) = s["$ref"].as_str() {
            let name = r.rsplit('/').next().unwrap();
            return walk(schemas, &schemas[name], path, depth + 1, out);
        }
        for k in ["allOf", "oneOf", "anyOf"] {
            for x in s[k].as_array().into_iter().flatten() {
                walk(schemas, x, path, depth + 1, out);
            }
        }
        if s.get("items").is_some() {
            let mut p = path.to_vec();
            p.push("[0]".into());
            walk(schemas, &s["items"], &p, depth + 1, out);
        }
        for (name, p) in s["properties"].as_object().into_iter().flatten() {
            let mut here = path.to_vec();
            here.push(name.clone());
            if name == "id_number" || name == "phone" {
                out.push(here.clone());
            }
            walk(schemas, p, &here, depth + 1, out);
        }
    }
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("../openapi/openapi.json").unwrap()).unwrap();
    let schemas = &spec["components"]["schemas"];
    let mut found = Vec::new();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let body = &op["requestBody"]["content"]["application/json"]["schema"];
            if body.is_null() {
                continue;
            }
            let mut fields = Vec::new();
            walk(schemas, body, &[], 0, &mut fields);
            for f in fields {
                found.push((method.to_uppercase(), path.clone(), f));
            }
        }
    }
    found
}

/// `value` placed at `path` in an otherwise empty body.
fn body_with(path: &[String], value: serde_json::Value) -> serde_json::Value {
    match path.split_first() {
        None => value,
        Some((head, rest)) if head == "[0]" => serde_json::json!([body_with(rest, value)]),
        Some((head, rest)) => serde_json::json!({ head.as_str(): body_with(rest, value) }),
    }
}

/// Nothing echoes: a valid ID number sent in every wrong shape, to every
/// operation whose body takes an ID number or a phone (from the spec), and in
/// query strings, paths and headers, is in no response and no log line of the
/// real `onegrid serve` process logging at debug level.
#[tokio::test]
async fn an_id_number_in_any_wrong_shape_is_in_no_response_and_no_log() {
    let (app, w) = TestApp::with_world().await;
    let log_path = std::env::temp_dir().join(format!("onegrid-echo-{}.log", app.db.name));
    let port = free_port();
    let mut api = command("onegrid", &app.db)
        .arg("serve")
        .env("ONEGRID_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "debug")
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .stdout(Stdio::from(
            std::fs::File::create(log_path.with_extension("out")).unwrap(),
        ))
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&format!("{base}/readyz")).await;
    let client = reqwest::Client::new();
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "a1-admin", "password": onegrid_tests::PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_owned();
    let number: u64 = ID_NUMBER.parse().unwrap();
    let shapes = [
        serde_json::json!(number),
        serde_json::json!([ID_NUMBER]),
        serde_json::json!({ "value": ID_NUMBER }),
        serde_json::json!([number]),
        serde_json::json!(f64::from(u32::MAX) * 1e9 + number as f64),
    ];
    let fill = |path: &str| {
        path.replace("{grid_id}", &w.grid_a1_1.to_string())
            .replace("{resident_id}", &w.resident_a.to_string())
    };
    let fields = sensitive_fields();
    assert!(fields.len() >= 5, "{fields:?}");
    let mut answers = Vec::new();
    let mut send = async |req: reqwest::RequestBuilder| {
        let r = req.bearer_auth(&token).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = format!("{:?}", r.headers());
        let text = r.text().await.unwrap();
        answers.push((status, format!("{headers} {text}")));
    };
    for (method, path, field) in &fields {
        let url = format!("{base}{}", fill(path));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut bodies: Vec<serde_json::Value> =
            shapes.iter().map(|s| body_with(field, s.clone())).collect();
        // The number as a key where the field belongs.
        let mut parent = field.clone();
        parent.pop();
        bodies.push(body_with(&parent, serde_json::json!({ ID_NUMBER: 1 })));
        for body in bodies {
            send(
                client
                    .request(method.clone(), &url)
                    .header("if-match", "\"1\"")
                    .json(&body),
            )
            .await;
        }
    }
    let grid = w.grid_a1_1;
    for url in [
        format!("{base}/api/v1/grids/{grid}/residents?limit={ID_NUMBER}"),
        format!("{base}/api/v1/grids/{grid}/residents?cursor={ID_NUMBER}"),
        format!("{base}/api/v1/grids/{grid}/residents?{ID_NUMBER}=1"),
        format!("{base}/api/v1/residents/{ID_NUMBER}"),
        format!("{base}/api/v1/grids/{ID_NUMBER}/residents"),
        format!("{base}/api/v1/audit?actor_id={ID_NUMBER}"),
    ] {
        send(client.get(&url)).await;
    }
    send(
        client
            .patch(format!("{base}/api/v1/residents/{}", w.resident_a))
            .header("if-match", format!("\"{ID_NUMBER}\""))
            .json(&serde_json::json!({"name": "张三"})),
    )
    .await;
    send(
        client
            .post(format!("{base}/api/v1/residents/search"))
            .header("content-type", "text/plain")
            .body(ID_NUMBER),
    )
    .await;
    assert!(terminate_and_wait(&mut api).success());
    let log = std::fs::read_to_string(&log_path).unwrap()
        + &std::fs::read_to_string(log_path.with_extension("out")).unwrap();
    assert!(log.contains("\"route\""), "the process logged its requests");
    for (status, answer) in &answers {
        assert!((400..500).contains(status), "{status}: {answer}");
        assert!(!answer.contains(ID_NUMBER), "echoed: {answer}");
        assert!(
            !answer.contains(&ID_NUMBER[..17]),
            "echoed in part: {answer}"
        );
    }
    for line in log.lines() {
        assert!(!line.contains(&ID_NUMBER[..17]), "logged: {line}");
    }
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_file(log_path.with_extension("out"));
}
