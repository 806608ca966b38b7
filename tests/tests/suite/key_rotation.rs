//! Field-key rotation: a new current key seals new values, retired keys still
//! open and match lookups, `rekey-fields` re-seals everything (resumably, and
//! without touching versions), after which the retired key can go.

use diesel::sql_types::{Bytea, Integer};
use diesel_async::RunQueryDsl;
use onegrid_config::DEMO_FIELD_KEY;
use onegrid_store::crypto::FieldKeys;
use onegrid_tests::fixture::{ID_A, PHONE_A};
use onegrid_tests::{TestApp, World};
use serde_json::json;

/// base64 of 32 bytes "0123456789abcdef0123456789abcdef".
const NEW_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

#[derive(diesel::QueryableByName)]
struct Sealed {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = diesel::sql_types::Nullable<Bytea>)]
    id_number_enc: Option<Vec<u8>>,
    #[diesel(sql_type = diesel::sql_types::Nullable<Bytea>)]
    phone_enc: Option<Vec<u8>>,
    #[diesel(sql_type = Integer)]
    version: i32,
}

async fn sealed_rows(app: &TestApp) -> Vec<Sealed> {
    let mut owner = app.db.owner().await;
    diesel::sql_query("SELECT id, id_number_enc, phone_enc, version FROM residents ORDER BY id")
        .load(&mut owner)
        .await
        .unwrap()
}

/// The key ids of every ciphertext in the residents table.
async fn key_ids(app: &TestApp) -> Vec<String> {
    sealed_rows(app)
        .await
        .iter()
        .flat_map(|r| [r.id_number_enc.as_deref(), r.phone_enc.as_deref()])
        .flatten()
        .map(|s| FieldKeys::key_id(s).unwrap().to_owned())
        .collect()
}

async fn search_id_number(app: &TestApp, token: &str, id_number: &str) -> Vec<String> {
    let found = app
        .post_as(
            token,
            "/api/v1/residents/search",
            &json!({"id_number": id_number}),
        )
        .await;
    found
        .ok(200)
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn reveal(app: &TestApp, token: &str, resident: &str, field: &str) -> String {
    let reply = app
        .post_as(
            token,
            &format!("/api/v1/residents/{resident}/reveal"),
            &json!({"field": field, "purpose": "密钥轮换后核对"}),
        )
        .await;
    reply.ok(200)["value"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_rotated_key_keeps_every_value_readable_and_findable_until_and_after_rekey() {
    let (app, w) = TestApp::with_world().await;
    let before = sealed_rows(&app).await;
    assert!(!before.is_empty());
    assert!(key_ids(&app).await.iter().all(|k| k == "demo"));
    // A webhook endpoint whose secret was rotated once: two sealed secrets.
    let a_admin = app.token("a-admin").await;
    let endpoint = app
        .post_as(
            &a_admin,
            "/api/v1/webhook-endpoints",
            &json!({"url": "https://hooks.example.cn/a", "street_id": w.street_a}),
        )
        .await;
    let endpoint_id = endpoint.created_id();
    let rotate = format!("/api/v1/webhook-endpoints/{endpoint_id}/rotate-secret");
    app.post(&rotate).bearer(&a_admin).send().await.ok(200);

    // Rotate: k2 is current, the demo key is retired but still configured.
    let retired = format!("demo:{DEMO_FIELD_KEY}");
    let rotated = [
        ("ONEGRID_FIELD_KEY_ID", "k2"),
        ("ONEGRID_FIELD_KEY", NEW_KEY),
        ("ONEGRID_PREVIOUS_FIELD_KEYS", retired.as_str()),
    ];
    let app = app.restart_with(&rotated).await;
    let admin = app.token("a-admin").await;
    let resident_a = w.resident_a.to_string();
    // Old values open and are found by their old blind index.
    assert_eq!(
        search_id_number(&app, &admin, ID_A).await,
        [resident_a.as_str()]
    );
    assert_eq!(reveal(&app, &admin, &resident_a, "id_number").await, ID_A);
    assert_eq!(reveal(&app, &admin, &resident_a, "phone").await, PHONE_A);
    // An ID number sealed under the retired key is still taken.
    let duplicate = app
        .post_as(
            &admin,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            &json!({"name": "重复", "id_number": ID_A}),
        )
        .await;
    assert_eq!(
        duplicate.problem(409, "conflict")["errors"][0]["field"],
        "id_number"
    );
    // New values are sealed under k2 and found too.
    let created = app
        .post_as(
            &admin,
            &format!("/api/v1/grids/{}/residents", w.grid_a1_1),
            &json!({"name": "宋金伟", "id_number": "150203196503151231", "phone": "13900001111"}),
        )
        .await;
    let new_id = created.created_id();
    let new_row = sealed_rows(&app)
        .await
        .into_iter()
        .find(|r| r.id.to_string() == new_id)
        .unwrap();
    assert_eq!(
        FieldKeys::key_id(new_row.id_number_enc.as_deref().unwrap()),
        Some("k2")
    );
    assert_eq!(
        search_id_number(&app, &admin, "150203196503151231").await,
        [new_id.as_str()]
    );

    // Re-seal everything under k2; a second run has nothing left to do.
    let keys = onegrid_api::server::field_keys(&app.state.config);
    let resealed = onegrid_api::maintenance::rekey_fields(&mut app.system().await, &keys)
        .await
        .unwrap();
    assert_eq!(
        resealed,
        before.len(),
        "every resident sealed under the demo key"
    );
    assert!(
        key_ids(&app).await.iter().all(|k| k == "k2"),
        "{:?}",
        key_ids(&app).await
    );
    assert_eq!(
        onegrid_api::maintenance::rekey_fields(&mut app.system().await, &keys)
            .await
            .unwrap(),
        0
    );
    // The webhook secrets too, the current and the rotated-out one.
    let on_k2: i64 = app
        .db
        .scalar("SELECT count(*) FROM webhook_endpoints WHERE substring(secret_sealed FROM 2 FOR 2) = 'k2'::bytea AND substring(previous_secret_sealed FROM 2 FOR 2) = 'k2'::bytea")
        .await;
    assert_eq!(on_k2, 1);
    // Values, versions and ETags are unchanged by re-sealing.
    let after = sealed_rows(&app).await;
    for b in &before {
        let a = after.iter().find(|a| a.id == b.id).unwrap();
        assert_eq!(a.version, b.version);
        assert_ne!(a.id_number_enc, b.id_number_enc);
    }

    // The retired key can go: everything still opens and is found, in its own street only.
    let app = app
        .restart_with(&[
            ("ONEGRID_FIELD_KEY_ID", "k2"),
            ("ONEGRID_FIELD_KEY", NEW_KEY),
        ])
        .await;
    let admin = app.token("a-admin").await;
    assert_eq!(
        search_id_number(&app, &admin, ID_A).await,
        [resident_a.as_str()]
    );
    assert_eq!(reveal(&app, &admin, &resident_a, "id_number").await, ID_A);
    assert_eq!(reveal(&app, &admin, &new_id, "phone").await, "13900001111");
    let b_admin = app.token("b-admin").await;
    assert_eq!(
        search_id_number(&app, &b_admin, ID_A).await,
        [w.resident_b.to_string()]
    );
    // The endpoint's secrets still open: it rotates again.
    app.post(&rotate).bearer(&admin).send().await.ok(200);
}

#[tokio::test]
async fn rekey_stops_on_a_value_no_configured_key_opens_and_names_only_the_row() {
    let app = TestApp::start().await;
    World::build(&app).await;
    // The demo key is neither current nor retired: nothing can open the old values.
    let keys = FieldKeys::new::<&str>(("k2", &[7u8; 32]), &[]);
    let err = onegrid_api::maintenance::rekey_fields(&mut app.system().await, &keys)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot be re-sealed") && err.contains("no key with id demo"),
        "{err}"
    );
    assert!(!err.contains(ID_A) && !err.contains(PHONE_A), "{err}");
    assert!(
        key_ids(&app).await.iter().all(|k| k == "demo"),
        "the failed batch wrote nothing"
    );
}
