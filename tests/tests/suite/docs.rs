//! The README's generated tables match the code.

fn section(readme: &str, name: &str) -> String {
    let start_marker = format!("<!-- {name}:start -->");
    let start = readme
        .find(&start_marker)
        .unwrap_or_else(|| panic!("README lacks {start_marker}"))
        + start_marker.len();
    let end = readme.find(&format!("<!-- {name}:end -->")).unwrap();
    readme[start..end].trim().to_owned()
}

fn readme() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap()
}

#[test]
fn readme_permission_matrix_is_the_code_matrix() {
    assert_eq!(
        section(&readme(), "permissions"),
        onegrid_domain::permissions::render_markdown().trim(),
        "paste `onegrid permissions`"
    );
}

#[test]
fn readme_configuration_table_lists_every_variable() {
    let table = section(&readme(), "config");
    for (name, default, meaning) in onegrid_config::VARIABLES {
        assert!(
            table.contains(&format!("| `{name}` | {default} | {meaning} |")),
            "README lacks {name}; paste `onegrid config`"
        );
    }
    assert_eq!(table.lines().count(), onegrid_config::VARIABLES.len() + 2);
}

#[test]
fn readme_opens_with_the_two_commands() {
    let text = readme();
    let run = text.find("scripts/run --demo").unwrap();
    let test = text.find("scripts/test ").unwrap();
    assert!(
        run < 1200 && test < 1300,
        "the two set-up commands come first"
    );
}

#[test]
fn every_documented_handler_is_mounted() {
    let mut documented = 0;
    let mut stack = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../api/src"
    ))];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                documented += std::fs::read_to_string(&path)
                    .unwrap()
                    .matches("#[utoipa::path(")
                    .count();
            }
        }
    }
    let spec = onegrid_api::openapi::document();
    let mounted: usize = spec
        .paths
        .paths
        .values()
        .map(|item| {
            [&item.get, &item.put, &item.post, &item.delete, &item.patch]
                .iter()
                .filter(|o| o.is_some())
                .count()
        })
        .sum();
    assert_eq!(
        documented, mounted,
        "a handler with #[utoipa::path] is not registered in the router"
    );
}
