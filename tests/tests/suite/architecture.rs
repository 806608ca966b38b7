//! The house rules, checked on the source itself: the tenant scope is set
//! in one module only, through its three doors.

use onegrid_tests::source::{code_lines, rust_files};

/// The files allowed to set the tenant scope or open a connection of their
/// own: the scope module, the pool with its doors, and the migrator.
const SCOPE_MODULES: &[&str] = &[
    "store/src/scope.rs",
    "store/src/db.rs",
    "store/src/migrate.rs",
];

#[test]
fn the_tenant_scope_is_set_in_one_module_only() {
    let mut offences = Vec::new();
    for dir in [
        "api/src",
        "store/src",
        "worker/src",
        "domain/src",
        "config/src",
    ] {
        for (path, text) in rust_files(dir) {
            if SCOPE_MODULES.contains(&path.as_str()) {
                continue;
            }
            for (n, line) in code_lines(&text) {
                for needle in [
                    "set_config",
                    "app.street_ids",
                    "app.district_id",
                    "app.district_wide",
                    "app.worker",
                    "::establish(",
                    ".conn()",
                ] {
                    if line.contains(needle) {
                        offences.push(format!("{path}:{n}: {needle}"));
                    }
                }
            }
        }
    }
    assert!(
        offences.is_empty(),
        "only {SCOPE_MODULES:?} set the tenant scope or open connections; found:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_scope_module_has_three_doors() {
    let db =
        std::fs::read_to_string(onegrid_tests::source::root().join("store/src/db.rs")).unwrap();
    for door in [
        "pub async fn as_principal",
        "pub async fn acting",
        "pub async fn on_queue",
        "pub struct System",
    ] {
        assert!(db.contains(door), "store/src/db.rs lost `{door}`");
    }
    assert!(
        !db.contains("pub async fn unscoped") && !db.contains("pub async fn conn("),
        "no door without a scope"
    );
}
