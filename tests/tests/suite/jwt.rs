//! Attacks on access tokens: every forged or stale token is a 401.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use onegrid_tests::{TestApp, World};
use serde_json::{Value, json};

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// Valid-looking claims for a real session.
async fn claims(app: &TestApp) -> Value {
    let reply = app.login_reply("a-admin", onegrid_tests::PASSWORD).await;
    let token = reply.ok(200)["access_token"].as_str().unwrap().to_owned();
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

fn sign(claims: &Value) -> String {
    let key = EncodingKey::from_ed_pem(onegrid_config::DEMO_JWT_PRIVATE_PEM.as_bytes()).unwrap();
    encode(&Header::new(Algorithm::EdDSA), claims, &key).unwrap()
}

async fn refused(app: &TestApp, token: &str, why: &str) {
    let r = app.get("/api/v1/me").raw_bearer(token).send().await;
    assert_eq!(r.status.as_u16(), 401, "{why}: {}", r.text);
    r.problem(401, "invalid_token");
}

#[tokio::test]
async fn forged_and_stale_tokens_are_refused() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let good = claims(&app).await;
    // The baseline is accepted, so every refusal below is about its one change.
    let r = app.get("/api/v1/me").raw_bearer(&sign(&good)).send().await;
    r.ok(200);

    // alg: none, unsigned.
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(&good)
    );
    refused(&app, &none, "alg none").await;

    // HS256 keyed with the public key (algorithm confusion).
    let hs = EncodingKey::from_secret(onegrid_config::DEMO_JWT_PUBLIC_PEM.as_bytes()).unwrap();
    let confused = encode(&Header::new(Algorithm::HS256), &good, &hs).unwrap();
    refused(&app, &confused, "HS256 with the public key").await;

    let now = onegrid_domain::clock::Clock::now(app.clock.as_ref()).timestamp();
    let mut expired = good.clone();
    expired["iat"] = json!(now - 1000);
    expired["exp"] = json!(now - 10);
    refused(&app, &sign(&expired), "expired beyond the 5 s leeway").await;

    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("someone-else");
    refused(&app, &sign(&wrong_iss), "wrong iss").await;

    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!("another-api");
    refused(&app, &sign(&wrong_aud), "wrong aud").await;

    for claim in ["aud", "iss", "exp"] {
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove(claim);
        refused(&app, &sign(&missing), &format!("missing {claim}")).await;
    }

    // A valid signature over another user's id but the original session.
    let mut other_user = good.clone();
    other_user["sub"] = json!(uuid::Uuid::now_v7());
    refused(&app, &sign(&other_user), "sub not owning the session").await;

    // Tampered payload with the original signature.
    let token = sign(&good);
    let parts: Vec<&str> = token.split('.').collect();
    let mut tampered_claims = good.clone();
    tampered_claims["exp"] = json!(now + 99_999);
    let tampered = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);
    refused(&app, &tampered, "tampered payload").await;

    // Signed by another Ed25519 key.
    let other_key = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIHbuUp/OnvO9+s8J+Yx+tWEnI0n3s7p1PFy0Cd3M3B6P\n-----END PRIVATE KEY-----\n";
    let foreign = encode(
        &Header::new(Algorithm::EdDSA),
        &good,
        &EncodingKey::from_ed_pem(other_key.as_bytes()).unwrap(),
    )
    .unwrap();
    refused(&app, &foreign, "foreign key").await;
}

/// Tokens live on the injected clock: minted a year back or a year ahead,
/// a token is accepted at that time and refused once it has expired there,
/// whatever the wall clock says.
#[tokio::test]
async fn tokens_follow_the_injected_clock_a_year_back_and_a_year_ahead() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let start = app.clock.now();
    for offset in [chrono::Duration::days(-365), chrono::Duration::days(365)] {
        let minted_at = start + offset;
        app.clock.set(Some(minted_at));
        let token = app.login_reply("a-admin", onegrid_tests::PASSWORD).await;
        let token = token.ok(200)["access_token"].as_str().unwrap().to_owned();
        let me = app.get("/api/v1/me").raw_bearer(&token).send().await;
        assert_eq!(me.ok(200)["username"], "a-admin");
        // Nine minutes later (of ten) it still holds; just past expiry and leeway it does not.
        app.clock
            .set(Some(minted_at + chrono::Duration::minutes(9)));
        app.get("/api/v1/me")
            .raw_bearer(&token)
            .send()
            .await
            .ok(200);
        app.clock
            .set(Some(minted_at + chrono::Duration::seconds(600 + 5)));
        let late = app.get("/api/v1/me").raw_bearer(&token).send().await;
        late.problem(401, "invalid_token");
        assert!(
            late.body["detail"]
                .as_str()
                .unwrap()
                .contains("ExpiredSignature"),
            "{}",
            late.text
        );
        // Before it was minted (beyond the leeway) it is not valid yet.
        app.clock
            .set(Some(minted_at - chrono::Duration::seconds(6)));
        app.get("/api/v1/me")
            .raw_bearer(&token)
            .send()
            .await
            .problem(401, "invalid_token");
    }
}
