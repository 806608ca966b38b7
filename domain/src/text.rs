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

/// What [`check_name`] asks, as a JSON Schema pattern (ECMA-262 and
/// Python compatible): no white space at either end, no control characters.
pub const NAME_PATTERN: &str =
    r"^[^\s\x00-\x1f\x7f-\x9f]([^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f])?$";

/// What [`check_text`] asks, as a JSON Schema pattern: something besides
/// white space.
pub const TEXT_PATTERN: &str = r"\S";

/// Free text (a reason, a description): not blank and at most `max`
/// characters; line breaks are kept.
pub fn check_text(value: &str, max: usize) -> Result<(), &'static str> {
    if value.trim().is_empty() {
        return Err("must not be blank");
    }
    if value.chars().count() > max {
        return Err("is too long");
    }
    Ok(())
}

/// A name sent in a request (of a street, a grid, a category...): at most
/// `MAX` characters, as [`check_name`] requires. The rule is the type's
/// schema, so it is published in the OpenAPI document and checked before the
/// body is read; deserializing checks it again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Name<const MAX: usize>(String);

/// Free text sent in a request: not blank, at most `MAX` characters, as
/// [`check_text`] requires.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

macro_rules! checked_text {
    ($t:ident, $check:ident, $pattern:ident, $schema:literal) => {
        impl<const MAX: usize> $t<MAX> {
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, owned.
            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl<const MAX: usize> std::ops::Deref for $t<MAX> {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl<const MAX: usize> From<$t<MAX>> for String {
            fn from(value: $t<MAX>) -> String {
                value.0
            }
        }

        impl<'de, const MAX: usize> serde::Deserialize<'de> for $t<MAX> {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let value = String::deserialize(d)?;
                $check(&value, MAX).map_err(serde::de::Error::custom)?;
                Ok($t(value))
            }
        }

        impl<const MAX: usize> utoipa::PartialSchema for $t<MAX> {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .min_length(Some(1))
                    .max_length(Some(MAX))
                    .pattern(Some($pattern))
                    .into()
            }
        }

        impl<const MAX: usize> utoipa::ToSchema for $t<MAX> {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Owned(format!(concat!($schema, "{}"), MAX))
            }
        }
    };
}

checked_text!(Name, check_name, NAME_PATTERN, "Name");
checked_text!(Text, check_text, TEXT_PATTERN, "Text");

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
