//! Checks on free text that every write applies.

/// A trimmed, non-empty name of at most `max` characters with no control
/// characters (NUL bytes would otherwise reach PostgreSQL and fail there).
pub fn check_name(value: &str, max: usize) -> Result<(), &'static str> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err("must not be empty");
    }
    if trimmed.len() != value.len() {
        return Err("must not start or end with whitespace");
    }
    if value.chars().count() > max {
        return Err("is too long");
    }
    if value.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn names() {
        assert!(check_name("明日星城社区", 100).is_ok());
        assert!(check_name("", 100).is_err());
        assert!(check_name(" a", 100).is_err());
        assert!(check_name("a\0b", 100).is_err());
        assert!(check_name(&"网".repeat(101), 100).is_err());
        assert!(check_name(&"网".repeat(100), 100).is_ok());
    }
}
