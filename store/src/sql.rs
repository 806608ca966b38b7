//! Raw SQL names state values through their enums, never as typed-out
//! literals: [`names`] quotes the enums' stable names for `=` or `IN (...)`.

/// The stable `names` quoted as SQL string literals and joined by commas,
/// e.g. `'received', 'accepted'`. Only `'static` names (the enums' own
/// `as_str`) are accepted, so nothing a caller sends reaches the text.
pub(crate) fn names(names: &[&'static str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn names_are_quoted_and_joined() {
        assert_eq!(
            super::names(&["received", "accepted"]),
            "'received', 'accepted'"
        );
        assert_eq!(super::names(&["met"]), "'met'");
    }
}
