use onegrid_tests::TestApp;

#[tokio::test]
async fn world_builds_and_admin_walks_it() {
    let (app, w) = TestApp::with_world().await;
    let t = app.token("a-admin").await;
    let me = app.get_as(&t, "/api/v1/me").await;
    assert_eq!(me.ok(200)["username"], "a-admin");
    let streets = app.get_as(&t, "/api/v1/streets").await;
    let items = streets.ok(200)["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], w.street_a.to_string());
}
