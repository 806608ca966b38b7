//! The ten departments of the seed (部门网格员 come from these), created for
//! every new district and editable afterwards.

/// `(code, name)` of the default departments, in the seed's order.
pub const DEFAULT_DEPARTMENTS: [(&str, &str); 10] = [
    ("police", "公安"),
    ("justice", "司法"),
    ("urban_management", "城管"),
    ("market_regulation", "市场监管"),
    ("health", "卫健"),
    ("education", "教育"),
    ("water", "水务"),
    ("power", "供电"),
    ("heating", "供暖"),
    ("gas", "燃气"),
];

/// Whether `code` is a valid department code: lowercase ASCII, digits and `_`,
/// starting with a letter, 2 to 40 characters.
pub fn is_valid_department_code(code: &str) -> bool {
    let bytes = code.as_bytes();
    (2..=40).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_lowercase)
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_codes_are_valid_and_unique() {
        let mut codes: Vec<_> = DEFAULT_DEPARTMENTS.iter().map(|(c, _)| *c).collect();
        assert!(codes.iter().all(|c| is_valid_department_code(c)));
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 10);
        assert!(!is_valid_department_code("Police"));
        assert!(!is_valid_department_code("1x"));
    }
}
