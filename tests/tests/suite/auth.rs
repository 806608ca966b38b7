//! Login, refresh rotation with reuse detection, logout and revocation,
//! throttling, API keys.

use onegrid_tests::{PASSWORD, TestApp, World};
use serde_json::json;

#[tokio::test]
async fn login_then_me_shows_identity_roles_and_permissions() {
    let (app, w) = TestApp::with_world().await;
    let reply = app.login_reply("a1-admin", PASSWORD).await;
    let body = reply.ok(200);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert!(
        body["refresh_token"]
            .as_str()
            .unwrap()
            .starts_with(body["session_id"].as_str().unwrap())
    );
    let token = body["access_token"].as_str().unwrap();
    let me = app.get_as(token, "/api/v1/me").await;
    let me = me.ok(200);
    assert_eq!(me["kind"], "user");
    assert_eq!(me["user_id"], w.user("a1-admin").to_string());
    assert_eq!(me["roles"][0]["role"], "community_admin");
    assert_eq!(
        me["roles"][0]["scope"]["community_id"],
        w.community_a1.to_string()
    );
    assert_eq!(me["street_ids"], json!([w.street_a.to_string()]));
    let perms: Vec<&str> = me["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(perms.contains(&"grid.create"));
    assert!(!perms.contains(&"street.create"));
    assert!(!perms.contains(&"community.create"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_are_the_same_401() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let sessions_before = app.db.count("sessions").await;
    let a = app.login_reply("a-admin", "not-the-password").await;
    a.problem(401, "invalid_credentials");
    let b = app.login_reply("nobody-here", "not-the-password").await;
    b.problem(401, "invalid_credentials");
    assert_eq!(a.body["detail"], b.body["detail"]);
    assert_eq!(
        app.db.count("sessions").await,
        sessions_before,
        "failed logins open no session"
    );
}

#[tokio::test]
async fn repeated_failures_are_throttled_then_success_resets() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let at = |s: &str| Some(chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc());
    app.clock.set(at("2026-12-02T02:00:00Z"));
    for _ in 0..10 {
        app.login_reply("a-admin", "wrong-password!")
            .await
            .problem(401, "invalid_credentials");
    }
    let locked = app.login_reply("A-Admin ", PASSWORD).await;
    locked.problem(429, "too_many_requests");
    assert_eq!(locked.header("retry-after"), Some("300"));
    // Another username is not affected.
    app.login_reply("b-admin", PASSWORD).await.ok(200);
    // The count is kept in PostgreSQL, hashed: no username is stored.
    assert_eq!(
        app.db
            .count("login_failures WHERE length(username_hash) = 32")
            .await,
        10
    );
    // Four minutes on, the window has a minute left; then it has passed.
    app.clock.set(at("2026-12-02T02:04:00Z"));
    let still = app.login_reply("a-admin", PASSWORD).await;
    still.problem(429, "too_many_requests");
    assert_eq!(still.header("retry-after"), Some("60"));
    app.clock.set(at("2026-12-02T02:05:01Z"));
    app.login_reply("a-admin", PASSWORD).await.ok(200);
    assert_eq!(app.db.count("login_failures").await, 0, "success resets");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_session() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let first = app.login_reply("a-admin", PASSWORD).await;
    let refresh1 = first.body["refresh_token"].as_str().unwrap().to_owned();
    let second = app
        .post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": refresh1}))
        .send()
        .await;
    let second = second.ok(200).clone();
    let refresh2 = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(refresh1, refresh2);
    assert_eq!(second["session_id"], first.body["session_id"]);
    let access2 = second["access_token"].as_str().unwrap().to_owned();
    app.get_as(&access2, "/api/v1/me").await.ok(200);

    // Replaying the spent token: refused, and the whole session dies.
    let replay = app
        .post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": refresh1}))
        .send()
        .await;
    replay.problem(401, "refresh_token_reused");
    app.post("/api/v1/auth/refresh")
        .json(&json!({"refresh_token": refresh2}))
        .send()
        .await
        .problem(401, "invalid_token");
    let me = app.get_as(&access2, "/api/v1/me").await;
    me.problem(401, "invalid_token");
    assert!(
        me.header("www-authenticate")
            .unwrap()
            .contains("invalid_token")
    );

    // Garbage refresh tokens.
    for token in ["", "nonsense", "00000000-0000-0000-0000-000000000000.abc"] {
        app.post("/api/v1/auth/refresh")
            .json(&json!({"refresh_token": token}))
            .send()
            .await
            .problem(401, "invalid_token");
    }
}

#[tokio::test]
async fn logout_revokes_at_once_and_other_sessions_survive() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let t1 = app.token("a-admin").await;
    let t2 = app.token("a-admin").await;
    app.post("/api/v1/auth/logout")
        .bearer(&t1)
        .send()
        .await
        .ok(204);
    app.get_as(&t1, "/api/v1/me")
        .await
        .problem(401, "invalid_token");
    app.get_as(&t2, "/api/v1/me").await.ok(200);
}

#[tokio::test]
async fn admin_revocation_and_disabling_end_sessions() {
    let (app, w) = TestApp::with_world().await;
    let admin = app.token("a-admin").await;
    let worker = app.token("a1-worker").await;
    let id = w.user("a1-worker");
    let revoked = app
        .post(&format!("/api/v1/users/{id}/revoke-sessions"))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(revoked.ok(200)["revoked_sessions"], 1);
    app.get_as(&worker, "/api/v1/me")
        .await
        .problem(401, "invalid_token");

    // Disabling: sessions end and login is refused.
    let worker = app.token("a1-worker").await;
    let user = app.get_as(&admin, &format!("/api/v1/users/{id}")).await;
    let etag = user.header("etag").unwrap().to_owned();
    app.patch_at(
        &admin,
        &format!("/api/v1/users/{id}"),
        &etag,
        &json!({"disabled": true}),
    )
    .await
    .ok(200);
    app.get_as(&worker, "/api/v1/me")
        .await
        .problem(401, "invalid_token");
    app.login_reply("a1-worker", PASSWORD)
        .await
        .problem(401, "invalid_credentials");
}

#[tokio::test]
async fn missing_or_malformed_credentials_are_401_with_www_authenticate() {
    let app = TestApp::start().await;
    World::build(&app).await;
    let none = app.get("/api/v1/streets").send().await;
    none.problem(401, "unauthenticated");
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"onegrid\"")
    );
    for value in ["Basic YTpi", "Bearer", "Bearer not.a.jwt", "Token x"] {
        let r = app
            .get("/api/v1/streets")
            .header("authorization", value)
            .send()
            .await;
        r.problem(401, "invalid_token");
        assert!(
            r.header("www-authenticate")
                .unwrap()
                .starts_with("Bearer realm=\"onegrid\"")
        );
    }
    app.get("/api/v1/streets")
        .header("x-api-key", "ogk_nonsense")
        .send()
        .await
        .problem(401, "invalid_token");
}

#[tokio::test]
async fn api_keys_are_scoped_shown_once_stored_hashed_and_revocable() {
    // In the database: the SHA-256 of the secret, never the secret.
    #[derive(diesel::QueryableByName)]
    struct Stored {
        #[diesel(sql_type = diesel::sql_types::Bytea)]
        secret_hash: Vec<u8>,
        #[diesel(sql_type = diesel::sql_types::Text)]
        row: String,
    }
    let (app, w) = TestApp::with_world().await;
    let admin = app.token("a-admin").await;
    let created = app.post_as(&admin, "/api/v1/api-keys", &json!({"name": "mini-program", "role": "community_admin", "scope": {"community_id": w.community_a1}})).await;
    let body = created.ok(201).clone();
    let key = body["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ogk_"));
    assert_eq!(body["role"], "community_admin");
    assert_eq!(body["scope"]["community_id"], w.community_a1.to_string());

    // Only a hash is stored.
    let listed = app.get_as(&admin, "/api/v1/api-keys").await;
    assert!(
        !listed.text.contains(&key[20..]),
        "the secret must never be listed"
    );
    assert_eq!(listed.ok(200)["items"].as_array().unwrap().len(), 1);
    let mut owner = app.db.owner().await;
    let stored: Stored = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query("SELECT secret_hash, k::text AS row FROM api_keys k"),
        &mut owner,
    )
    .await
    .unwrap();
    let secret = &key["ogk_".len() + 32 + 1..];
    assert_eq!(
        stored.secret_hash,
        <sha2::Sha256 as sha2::Digest>::digest(secret.as_bytes()).to_vec()
    );
    assert!(!stored.row.contains(secret));

    // The key works through both headers, with exactly its role and scope.
    let me = app.get("/api/v1/me").header("x-api-key", &key).send().await;
    assert_eq!(me.ok(200)["kind"], "api_key");
    assert_eq!(me.body["user_id"], w.user("a-admin").to_string());
    let grids = app
        .get_as(
            &key,
            &format!("/api/v1/communities/{}/grids", w.community_a1),
        )
        .await;
    assert_eq!(grids.ok(200)["items"].as_array().unwrap().len(), 2);
    app.post(&format!("/api/v1/streets/{}/communities", w.street_a))
        .header("x-api-key", &key)
        .json(&json!({"code": "150203001009", "name": "新社区"}))
        .send()
        .await
        .problem(403, "forbidden");
    app.get(&format!("/api/v1/streets/{}", w.street_b))
        .header("x-api-key", &key)
        .send()
        .await
        .problem(404, "not_found");
    // A key cannot mint keys.
    app.post("/api/v1/api-keys")
        .header("x-api-key", &key)
        .json(&json!({"name": "child", "role": "grid_worker", "scope": {"grid_id": w.grid_a1_1}}))
        .send()
        .await
        .problem(403, "forbidden");
    // Wrong secret for a real id.
    let forged = format!("{}_{}", &key[..36], "A".repeat(43));
    app.get("/api/v1/me")
        .header("x-api-key", &forged)
        .send()
        .await
        .problem(401, "invalid_token");

    // A street admin cannot mint a key stronger than themselves.
    app.post_as(
        &admin,
        "/api/v1/api-keys",
        &json!({"name": "too strong", "role": "district_admin"}),
    )
    .await
    .problem(403, "forbidden");

    // Revocation takes effect on the next request.
    let id = body["id"].as_str().unwrap();
    let revoked = app
        .delete(&format!("/api/v1/api-keys/{id}"))
        .bearer(&admin)
        .send()
        .await;
    assert!(revoked.ok(200)["revoked_at"].is_string());
    app.get("/api/v1/me")
        .header("x-api-key", &key)
        .send()
        .await
        .problem(401, "invalid_token");
}

#[tokio::test]
async fn implausible_credentials_are_refused_without_a_lookup() {
    let app = TestApp::start().await;
    World::build(&app).await;
    for (username, password) in [
        ("a-admin\u{0}", PASSWORD),
        ("a-admin", "pass\u{0}word"),
        ("", PASSWORD),
        ("a-admin", ""),
    ] {
        app.login_reply(username, password)
            .await
            .problem(401, "invalid_credentials");
    }
    let long = "x".repeat(65);
    app.login_reply(&long, PASSWORD)
        .await
        .problem(401, "invalid_credentials");
}

/// No secret is stored in plaintext: after an API key created under an
/// `Idempotency-Key` and replayed, a webhook endpoint with its signing secret,
/// a login with its refresh token and a user with a password, a dump of the
/// whole database holds none of them. The replay answers the same key
/// without its secret.
#[tokio::test]
async fn no_secret_is_stored_in_plaintext_not_even_for_replays() {
    let app = TestApp::start_with(&[("ONEGRID_WEBHOOK_ALLOW_CIDRS", "127.0.0.2/32")]).await;
    let w = World::build(&app).await;
    let admin = app.token("a-admin").await;
    let body = json!({"name": "mini-program", "role": "community_admin", "scope": {"community_id": w.community_a1}});
    let create = || {
        app.post("/api/v1/api-keys")
            .bearer(&admin)
            .header("idempotency-key", "create-key-1")
            .json(&body)
            .send()
    };
    let first = create().await;
    let created = first.ok(201).clone();
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(first.header("idempotency-replayed").is_none());
    let again = create().await;
    let replayed = again.ok(201).clone();
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(
        replayed["id"], created["id"],
        "the same key, not a second one"
    );
    assert!(replayed.get("key").is_none(), "{replayed}");
    assert!(!again.text.contains(&key[20..]));
    assert_eq!(app.db.count("api_keys").await, 1);
    // The key works; the replay did not make another.
    app.get("/api/v1/me")
        .header("x-api-key", &key)
        .send()
        .await
        .ok(200);

    let hook = app
        .post_as(
            &admin,
            "/api/v1/webhook-endpoints",
            &json!({"url": "https://hooks.example.cn/x", "street_id": w.street_a}),
        )
        .await;
    let signing = hook.ok(201)["secret"].as_str().unwrap().to_owned();
    assert!(signing.starts_with("whsec_"));
    let login = app.login_reply("a1-worker", onegrid_tests::PASSWORD).await;
    let refresh = login.ok(200)["refresh_token"].as_str().unwrap().to_owned();
    let password = "a-long-password-nobody-knows";
    app.post_as(&admin, "/api/v1/users", &json!({"username": "new-worker", "display_name": "新网格员", "password": password, "street_id": w.street_a})).await
        .ok(201);

    let dump = std::process::Command::new("pg_dump")
        .args(["--data-only", "--no-owner", &app.db.url()])
        .output()
        .expect("pg_dump is installed with PostgreSQL");
    assert!(
        dump.status.success(),
        "{}",
        String::from_utf8_lossy(&dump.stderr)
    );
    let dump = String::from_utf8_lossy(&dump.stdout);
    assert!(dump.contains("mini-program"), "the dump holds the data");
    // The secret is base64url and may itself hold '_': split as the server does.
    let (_, key_secret) = onegrid_store::platform::auth::api_keys::parse(&key).unwrap();
    let key_secret = key_secret.as_str();
    let (_, refresh_secret) = refresh.split_once('.').unwrap();
    let signing_secret = signing.strip_prefix("whsec_").unwrap();
    for (what, secret) in [
        ("API key", key.as_str()),
        ("API key secret", key_secret),
        ("webhook secret", signing_secret),
        ("refresh token", refresh_secret),
        ("password", password),
    ] {
        assert!(!dump.contains(secret), "the {what} is in the dump");
    }
}
