//! Declarative validation: a body's rules are its type's schema, published
//! in the OpenAPI document and enforced before the body is read, with every
//! broken rule reported at once and none of the values echoed.

use onegrid_tests::TestApp;
use serde_json::{Value, json};

#[tokio::test]
async fn every_broken_rule_comes_back_at_once_and_nothing_is_written() {
    let (app, _w) = TestApp::with_world().await;
    let t = app.token("d-admin").await;
    let before = app.db.count("streets").await;

    let bad = app
        .post_as(
            &t,
            "/api/v1/streets",
            &json!({"code": "98x7", "name": " 秘密街道", "mayor": "张三丰"}),
        )
        .await;
    let problem = bad.problem(422, "validation_failed");
    let mut errors: Vec<(String, String)> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    assert_eq!(
        errors,
        [
            ("body".to_owned(), "unknown field `mayor`".to_owned()),
            ("code".to_owned(), "must match `^[0-9]{9}$`".to_owned()),
            (
                "name".to_owned(),
                "must not start or end with white space or hold control characters".to_owned()
            ),
        ]
    );
    // Nothing echoes: the values sent appear nowhere in the answer.
    for sent in ["98x7", "秘密", "张三丰"] {
        assert!(!bad.text.contains(sent), "{sent} echoed: {}", bad.text);
    }
    assert_eq!(app.db.count("streets").await, before);

    // A missing field and a name one character too long, together.
    let long = app
        .post_as(&t, "/api/v1/streets", &json!({"name": "街".repeat(101)}))
        .await;
    let fields: Vec<(&str, &str)> = long.problem(422, "validation_failed")["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(fields.len(), 2, "{}", long.text);
    assert!(fields.contains(&("code", "required")), "{}", long.text);
    assert!(
        fields.contains(&("name", "at most 100 characters")),
        "{}",
        long.text
    );
    assert_eq!(app.db.count("streets").await, before);

    // At the limit, the same body is accepted.
    let ok = app
        .post_as(
            &t,
            "/api/v1/streets",
            &json!({"code": "150203009", "name": "街".repeat(100)}),
        )
        .await;
    assert_eq!(ok.ok(201)["name"], "街".repeat(100));
    assert_eq!(app.db.count("streets").await, before + 1);
}

#[tokio::test]
async fn the_rules_enforced_are_the_rules_published() {
    let app = TestApp::start().await;
    let spec: Value = app
        .get("/api-docs/openapi.json")
        .send()
        .await
        .ok(200)
        .clone();
    let schemas = &spec["components"]["schemas"];
    let street = &schemas["NewStreet"];
    assert_eq!(street["properties"]["code"]["pattern"], "^[0-9]{9}$");
    assert_eq!(street["additionalProperties"], false);
    assert_eq!(
        street["properties"]["name"]["$ref"],
        "#/components/schemas/Name100"
    );
    let name = &schemas["Name100"];
    assert_eq!(
        (&name["minLength"], &name["maxLength"]),
        (&json!(1), &json!(100))
    );
    assert_eq!(name["pattern"], onegrid_domain::text::NAME_PATTERN);
}
