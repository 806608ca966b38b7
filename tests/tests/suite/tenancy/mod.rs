//! The tenant wall: a matrix generated from the OpenAPI document, the RLS
//! backstop, and scope never leaking across pooled connections.

mod backstop;
mod walls;

use std::collections::BTreeMap;

use diesel::sql_types::{Nullable, Text};
use diesel_async::RunQueryDsl;
use onegrid_tests::{TestApp, World};
use serde_json::{Value, json};

#[derive(diesel::QueryableByName)]
struct TableName {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Every table of the schema but diesel's bookkeeping: all hold tenant data.
async fn tenant_tables(app: &TestApp) -> Vec<String> {
    let mut conn = app.db.owner().await;
    let q = "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename <> '__diesel_schema_migrations' ORDER BY 1";
    diesel::sql_query(q)
        .load::<TableName>(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Digest {
    #[diesel(sql_type = Nullable<Text>)]
    digest: Option<String>,
}

/// A digest of every row of every tenant table except the session tables
/// (which logging in legitimately changes), read as the owner.
async fn snapshot(app: &TestApp) -> BTreeMap<String, Option<String>> {
    let tables = tenant_tables(app).await;
    let mut conn = app.db.owner().await;
    let mut out = BTreeMap::new();
    for table in tables
        .into_iter()
        .filter(|t| !["sessions", "refresh_tokens"].contains(&t.as_str()))
    {
        let q = format!(
            "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS digest FROM {table} t"
        );
        let digest = diesel::sql_query(q)
            .get_result::<Digest>(&mut conn)
            .await
            .unwrap()
            .digest;
        out.insert(table, digest);
    }
    out
}

/// The smallest PNG signature the attachment check accepts.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/// A body that passes validation for each write, so a 404 can only come from the wall.
fn body_for(operation: &str, w: &World) -> Option<Value> {
    Some(match operation {
        "update_street" | "update_community" | "update_grid" | "update_department" => {
            json!({"name": "改名"})
        }
        "create_community" => json!({"code": "150203001099", "name": "越界社区"}),
        "create_grid" => json!({"code": "150203001001099", "name": "越界网格"}),
        "update_user" => json!({"display_name": "改名", "disabled": true}),
        "assign_role" => json!({"role": "grid_worker", "scope": {"grid_id": w.grid_b1_1}}),
        "assign_grid_staff" => json!({"user_id": w.user("b1-worker"), "kind": "part_time"}),
        "create_resident" => json!({"name": "越界"}),
        "update_resident" => json!({"name": "改名"}),
        "move_resident" => json!({"grid_id": w.grid_b1_1}),
        "reveal" => json!({"field": "id_number", "purpose": "越界核对身份"}),
        "update_ledger_type" => json!({"name": "改名"}),
        "set_sensitivity" => json!({"sensitivity": "open", "reason": "跨街道探测"}),
        "create_record" => json!({"grid_id": w.grid_b1_1, "data": {}}),
        "update_record" => json!({"data": {"school": "越界"}}),
        "retire_record" => json!({"reason": "越界删减"}),
        "break_the_glass" => json!({"community_id": w.community_b1, "reason": "越界核对数据"}),
        "create_building" => json!({"name": "越界楼"}),
        "create_unit" => json!({"name": "越界单元"}),
        "create_dwelling" => json!({"number": "999"}),
        "create_household" => json!({}),
        "import" => json!("id_number,school\n"),
        "update_category" => json!({"name": "改名"}),
        "take_step" => json!({"step": "accept"}),
        "change_schedule" => json!({"enabled": false}),
        "update_endpoint" => json!({"enabled": false}),
        "escalate_dispute" => json!({"reason": "越界"}),
        "upload_document" => json!("png"),
        "record_session" => {
            json!({"held_at": "2026-12-01T02:00:00Z", "place": "越界", "mediators": ["某"], "result": "adjourned"})
        }
        "complete_follow_up" => json!({}),
        "reveal_party" => json!({"purpose": "越界核对身份"}),
        "summons_step" => json!({"step": "report_in"}),
        "rate_summons" => json!({"score": 10}),
        "change_log" => json!({"notes": "越界"}),
        "add_visit" => json!({"household_id": w.household_a, "purpose": "越界"}),
        "add_finding" => json!({"description": "越界"}),
        "add_photo" => json!("png"),
        "finding_to_case" => json!({"category_id": w.street_a}),
        "set_schedule" => json!({"days": [1, 16], "hour": 9, "minute": 30}),
        "record_decision" => {
            json!({"grid_id": w.grid_a1_1, "category_id": w.street_a, "title": "越界",
            "description": "越界", "owner_user_id": w.user("a1-worker"), "due_on": "2030-01-01"})
        }
        "close_meeting" => json!({"minutes": "越界"}),
        "add_member_unit" => json!({"name": "越界", "kind": "enterprise"}),
        "rate_item" => json!({"rater": "越界", "score": 10}),
        "complete_milestone" => json!({"name": "控制"}),
        "create_slot" => {
            json!({"starts_at": "2030-01-07T01:00:00Z", "ends_at": "2030-01-07T02:00:00Z", "capacity": 1})
        }
        "book" => json!({"slot_id": w.street_a}),
        "create_task" => json!({"title": "越界", "description": "越界分解"}),
        "upload_attachment" => json!("png"),
        "reveal_reporter" => json!({"field": "name", "purpose": "越界核对身份"}),
        _ => return None,
    })
}
