//! The house rules, checked on the source itself: the tenant scope is set
//! in one module only, through its three doors; jobs are typed; files stay
//! small; both layers are laid out by the same bounded contexts.

use onegrid_tests::source::{code_lines, root, rust_files};

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
    no_offences(
        &format!("only {SCOPE_MODULES:?} set the tenant scope or open connections; found"),
        &offences,
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

/// Every kind of job the store defines is run by the worker, through its
/// registry: the runner matches no kind by name.
#[test]
fn every_job_kind_is_typed_and_registered() {
    let kinds: Vec<String> = rust_files("store/src")
        .iter()
        .flat_map(|(_, text)| {
            code_lines(text)
                .filter_map(|(_, l)| l.strip_prefix("impl JobKind for "))
                .map(|rest| rest.trim_end_matches(" {").to_owned())
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(kinds.len() >= 12, "the job kinds: {kinds:?}");
    let registry = std::fs::read_to_string(root().join("worker/src/jobs/mod.rs")).unwrap();
    let runs: String = rust_files("worker/src/jobs")
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    for kind in &kinds {
        assert!(
            registry.contains(&format!(".with::<job_kinds::{kind}>()")),
            "{kind} is not in the worker's registry"
        );
        assert!(
            runs.contains(&format!("impl Run for {kind} "))
                || runs.contains(&format!("impl Run for job_kinds::{kind} ")),
            "{kind} has no Run"
        );
    }
    for (path, text) in rust_files("worker/src") {
        for (n, line) in code_lines(&text) {
            assert!(
                !line.contains("job.kind ==") && !line.contains("kind.as_str() {"),
                "{path}:{n} matches a job kind as a string"
            );
        }
    }
}

/// Files generated from the database or holding the permission matrix's
/// data may be long; nothing else is.
const LONG_FILES: &[&str] = &[
    "store/src/schema.rs",
    "store/src/constraints.rs",
    "domain/src/permissions.rs",
];

/// No source file is much over 600 lines: a file that grows is split by
/// what its parts are about.
#[test]
fn no_source_file_is_over_about_600_lines() {
    let mut long = Vec::new();
    for dir in [
        "api/src",
        "store/src",
        "worker/src",
        "domain/src",
        "config/src",
        "tests",
    ] {
        for (path, text) in rust_files(dir) {
            let lines = text.lines().count();
            if lines > 650 && !LONG_FILES.contains(&path.as_str()) {
                long.push(format!("{path}: {lines} lines"));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these by what their parts are about:\n{}",
        long.join("\n")
    );
}

/// The bounded contexts, the same in the API and in the store.
const CONTEXTS: &[&str] = &[
    "platform",
    "registry",
    "ledgers",
    "cases",
    "mediation",
    "fieldwork",
    "integrations",
];

/// api/src and store/src are laid out by the same bounded contexts, and
/// each context of the API registers its own routes.
#[test]
fn both_layers_are_laid_out_by_bounded_context() {
    for context in CONTEXTS {
        for layer in ["api/src", "store/src"] {
            assert!(
                root().join(layer).join(context).join("mod.rs").is_file(),
                "{layer}/{context}/mod.rs is missing"
            );
        }
        let module =
            std::fs::read_to_string(root().join("api/src").join(context).join("mod.rs")).unwrap();
        assert!(
            module.contains("pub fn routes(cfg: &mut ServiceConfig)"),
            "api/src/{context} does not register its own routes"
        );
    }
    let app = std::fs::read_to_string(root().join("api/src/app.rs")).unwrap();
    for context in CONTEXTS {
        assert!(
            app.contains(&format!(".configure({context}::routes)")),
            "{context} is not mounted"
        );
    }
    assert!(
        !root().join("api/src/routes").exists(),
        "api/src/routes is gone: handlers live in their context"
    );
}

/// Use cases know no HTTP: the store, the domain and every context's
/// use-case modules (`service.rs`, `*_use.rs`) import nothing of actix nor
/// of the HTTP extractors.
#[test]
fn services_import_no_http() {
    let mut offences = Vec::new();
    let services = rust_files("api/src")
        .into_iter()
        .filter(|(path, _)| path.ends_with("/service.rs") || path.ends_with("_use.rs"));
    let layers = rust_files("store/src")
        .into_iter()
        .chain(rust_files("domain/src"));
    let all: Vec<(String, String)> = services.chain(layers).collect();
    assert!(all.iter().any(|(p, _)| p == "api/src/cases/service.rs"));
    assert!(all.iter().any(|(p, _)| p == "api/src/cases/steps_use.rs"));
    for (path, text) in all {
        for (n, line) in code_lines(&text) {
            for needle in ["actix", "HttpRequest", "HttpResponse", "crate::http::input"] {
                if line.contains(needle) {
                    offences.push(format!("{path}:{n}: {needle}"));
                }
            }
        }
    }
    no_offences("a service imports HTTP", &offences);
}

/// Use cases take their commands, not the HTTP layer's: a use-case module
/// (`service.rs`, `*_use.rs`) imports no module that holds handlers, so the
/// request types it works on are its own.
#[test]
fn use_cases_import_no_handler_module() {
    let files = rust_files("api/src");
    let handler_modules: Vec<String> = files
        .iter()
        .filter(|(_, text)| {
            ["#[get(", "#[post(", "#[put(", "#[patch(", "#[delete("]
                .iter()
                .any(|m| text.contains(m))
        })
        .map(|(path, _)| {
            let module = path.trim_start_matches("api/src/").trim_end_matches(".rs");
            format!("crate::{}", module.replace('/', "::"))
        })
        .collect();
    assert!(handler_modules.contains(&"crate::cases::steps".to_owned()));
    let mut offences = Vec::new();
    for (path, text) in &files {
        if !(path.ends_with("/service.rs") || path.ends_with("_use.rs")) {
            continue;
        }
        let context = path
            .trim_start_matches("api/src/")
            .split('/')
            .next()
            .unwrap_or_default();
        for (n, line) in code_lines(text) {
            let Some(import) = line.trim().strip_prefix("use ") else {
                continue;
            };
            let import = import.replace("super::", &format!("crate::{context}::"));
            for module in &handler_modules {
                let rest = import.strip_prefix(module.as_str());
                if rest.is_some_and(|r| r.starts_with("::") || r.starts_with(';')) {
                    offences.push(format!("{path}:{n}: {module}"));
                }
            }
        }
    }
    no_offences("a use case imports a handler module", &offences);
}

/// Other contexts reach cases through its service only, never through the
/// handlers of its routes.
#[test]
fn other_contexts_file_cases_through_the_service() {
    let mut offences = Vec::new();
    for (path, text) in rust_files("api/src") {
        if path.starts_with("api/src/cases/") {
            continue;
        }
        for (n, line) in code_lines(&text) {
            if let Some(at) = line.find("crate::cases::") {
                let rest = &line[at + "crate::cases::".len()..];
                if !rest.starts_with("service") {
                    offences.push(format!("{path}:{n}: {}", line.trim()));
                }
            }
        }
    }
    no_offences("reach cases through cases::service", &offences);
}

/// The README's "where does X go" names the same contexts as the code, and
/// every path it names exists.
#[test]
fn the_readme_house_section_is_true() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("<!-- house:start -->")
        .expect("README lacks the house section");
    let end = readme.find("<!-- house:end -->").unwrap();
    let section = &readme[start..end];
    let listed: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .collect();
    assert_eq!(listed, CONTEXTS, "the README's contexts are the code's");
    let mut checked = 0;
    for quoted in section.split('`').skip(1).step_by(2) {
        let path = quoted
            .replace("<context>", "cases")
            .replace("<resource>", "filing");
        // Paths in the tree; URLs (`/problems`) and attributes are not files.
        if path.contains('/') && !path.starts_with('/') && !path.starts_with('#') {
            assert!(
                root().join(&path).exists(),
                "the README names {quoted}, which does not exist"
            );
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} paths checked");
}

/// The principal and its checks are domain types: the store builds a
/// principal, every layer asks it; nothing else defines one.
#[test]
fn the_principal_and_its_checks_live_in_the_domain() {
    let domain = std::fs::read_to_string(root().join("domain/src/principal.rs")).unwrap();
    for item in [
        "pub struct Principal",
        "pub fn require(",
        "pub fn require_anywhere(",
        "pub struct Forbidden",
    ] {
        assert!(
            domain.contains(item),
            "domain/src/principal.rs lost `{item}`"
        );
    }
    for dir in ["api/src", "store/src", "worker/src"] {
        for (path, text) in rust_files(dir) {
            for (n, line) in code_lines(&text) {
                assert!(
                    !line.contains("struct Principal")
                        && !line.contains("trait Guard ")
                        && !line.contains("trait Guard<"),
                    "{path}:{n} defines its own principal or guard"
                );
            }
        }
    }
}

/// Checks placed by hand inside a handler's body, with how many and why: the
/// rest of the API names its action in the call that opens the transaction
/// (`checked`, `proven`, `on_row`, `load_checked`, `create`), which proves it first.
/// What is left is a second place a request *body* names (a bad one is a 422
/// naming the field, after the body's other checks, so it cannot be proven
/// before the body runs); the call itself still proves the action anywhere.
const HAND_PLACED_CHECKS: &[(&str, usize, &str)] = &[
    (
        "api/src/state.rs",
        3,
        "the one place that proves the action named in the call",
    ),
    (
        "api/src/cases/service.rs",
        1,
        "the filing use case checks the grid it files in, for every context that files",
    ),
    (
        "api/src/cases/tasks.rs",
        2,
        "a bundle is filed and triaged in the resident's grid",
    ),
    (
        "api/src/cases/appointments_use.rs",
        1,
        "a slot may name a grid of its community",
    ),
    (
        "api/src/ledgers/types_use.rs",
        1,
        "the scope a new type is defined for",
    ),
    (
        "api/src/ledgers/records_use.rs",
        1,
        "the grid a record is placed in, from its resident, household or grid",
    ),
    (
        "api/src/ledgers/break_glass_use.rs",
        1,
        "the community named for the emergency read",
    ),
    (
        "api/src/platform/users.rs",
        2,
        "an account is read by its owner, its street's readers, or (district staff) any staff reader",
    ),
    (
        "api/src/platform/grants_use.rs",
        1,
        "the scope a new role or key is granted in, named in the request",
    ),
];

/// The files that may open a transaction without naming an action: the
/// caller's own session, account and notifications.
const AS_SELF: &[&str] = &[
    "api/src/platform/auth/routes.rs",
    "api/src/platform/notifications.rs",
    "api/src/platform/users.rs",
    // A worker reads their own patrol logs whatever grid they keep now.
    "api/src/fieldwork/patrols.rs",
];

#[test]
fn permissions_are_part_of_the_call() {
    let mut offences = Vec::new();
    let mut proven = 0;
    for (path, text) in rust_files("api/src") {
        let allowed = HAND_PLACED_CHECKS
            .iter()
            .find(|(p, ..)| *p == path)
            .map_or(0, |(_, n, _)| *n);
        let mut by_hand = Vec::new();
        for (n, line) in code_lines(&text) {
            if line.contains(".require(") || line.contains(".require_anywhere(") {
                by_hand.push(n);
            }
            if line.contains(".as_self(") && !AS_SELF.contains(&path.as_str()) {
                offences.push(format!("{path}:{n}: a transaction without an action"));
            }
            for door in [
                ".checked(",
                ".proven(",
                ".on_row(",
                ".load_checked(",
                "::permit",
            ] {
                proven += line.matches(door).count();
            }
        }
        if by_hand.len() != allowed {
            offences.push(format!(
                "{path}: {} checks placed by hand at lines {by_hand:?}, {allowed} allowed",
                by_hand.len()
            ));
        }
    }
    no_offences(
        "actions go in the call (see HAND_PLACED_CHECKS for the exceptions)",
        &offences,
    );
    assert!(proven >= 60, "only {proven} calls name their action");
}

/// A row's permission target is built in one place, `store/src/targets.rs`.
#[test]
fn targets_are_built_in_one_place() {
    let mut offences = Vec::new();
    for dir in ["api/src", "store/src", "worker/src"] {
        for (path, text) in rust_files(dir) {
            if path == "store/src/targets.rs" {
                continue;
            }
            for (n, line) in code_lines(&text) {
                if line.contains("fn ") && line.contains("-> Target") {
                    offences.push(format!("{path}:{n}"));
                }
            }
        }
    }
    no_offences(
        "target builders belong in store/src/targets.rs; found",
        &offences,
    );
}

/// Raw SQL names states through their enums (`sql::names`), never as
/// typed-out literals: a renamed state cannot leave a query behind.
#[test]
fn raw_sql_names_states_through_their_enums() {
    let columns = [
        "status",
        "state",
        "outcome",
        "kind",
        "step",
        "role",
        "scope_kind",
    ];
    let mut offences = Vec::new();
    for dir in ["api/src", "store/src", "worker/src"] {
        for (path, text) in rust_files(dir) {
            for (n, line) in code_lines(&text) {
                for col in columns {
                    for op in ["=", "<>", "!=", "IN (", "NOT IN ("] {
                        let typed_out = format!("{col} {op} '");
                        let listed = format!("{col} {op}'");
                        if line.contains(&typed_out) || line.contains(&listed) {
                            offences.push(format!("{path}:{n}: {col} {op} '…'"));
                        }
                    }
                }
            }
        }
    }
    no_offences(
        "compare states with crate::sql::names(&[Enum::Variant.as_str()]); found",
        &offences,
    );
}

/// Fails with `rule` and every offence found against it, one a line.
fn no_offences(rule: &str, offences: &[String]) {
    assert!(offences.is_empty(), "{rule}:\n{}", offences.join("\n"));
}

/// Every type in the spec has a name of its own: utoipa keeps one schema of
/// each name silently, so two `ToSchema` types sharing a name would
/// document one operation's body with another's.
#[test]
fn schema_names_are_unique() {
    let mut seen: std::collections::HashMap<String, String> = Default::default();
    let mut offences = Vec::new();
    for dir in ["api/src", "domain/src", "store/src"] {
        for (path, text) in rust_files(dir) {
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let trimmed = line.trim_start();
                let Some(rest) = trimmed
                    .strip_prefix("pub struct ")
                    .or_else(|| trimmed.strip_prefix("pub enum "))
                else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let before = lines[i.saturating_sub(8)..i].join("\n");
                let schema = before.contains("ToSchema") || before.contains("state_enum!");
                if !schema || before.contains("schema(as") || name.starts_with('$') {
                    continue;
                }
                let at = format!("{path}:{}", i + 1);
                if let Some(first) = seen.insert(name.clone(), at.clone()) {
                    offences.push(format!("{name}: {first} and {at}"));
                }
            }
        }
    }
    no_offences("two schemas share a name", &offences);
    assert!(seen.len() > 100, "only {} schema types found", seen.len());
}
