//! The rules a request body keeps, written once on its type as schema
//! attributes (`#[schema(min_length = 1, max_length = 200)]`, ranges,
//! patterns, enums, required and unknown fields) and so published in the
//! OpenAPI document as they are enforced. Every JSON body is checked against
//! its own type's schema before it is read, and every broken rule comes
//! back at once, each naming its field and never the value sent.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::{Location, LocationSegment};
use jsonschema::{Draft, ValidationError, Validator};
use onegrid_domain::text::{NAME_PATTERN, TEXT_PATTERN};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::http::error::{ApiError, Code, FieldError};
use crate::http::input::looks_like_a_field;

/// Each body type's compiled schema, built on its first request.
static VALIDATORS: LazyLock<RwLock<HashMap<TypeId, Arc<Validator>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// Checks `body` against `T`'s schema: 422 `validation_failed` with one
/// error per broken rule.
pub fn check<T: ToSchema + 'static>(body: &Value) -> Result<(), ApiError> {
    let validator = validator::<T>()?;
    let mut errors: Vec<FieldError> = Vec::new();
    for e in validator.iter_errors(body) {
        let error = field_error(&e);
        if !errors.contains(&error) {
            errors.push(error);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::fields(errors))
    }
}

fn validator<T: ToSchema + 'static>() -> Result<Arc<Validator>, ApiError> {
    let id = TypeId::of::<T>();
    if let Some(found) = VALIDATORS.read().ok().and_then(|m| m.get(&id).cloned()) {
        return Ok(found);
    }
    let built = Arc::new(compile::<T>()?);
    if let Ok(mut all) = VALIDATORS.write() {
        all.insert(id, Arc::clone(&built));
    }
    Ok(built)
}

/// `T`'s schema with the schemas it refers to under `components/schemas`,
/// where its `$ref`s point: its own, never a namesake's of another context.
fn compile<T: ToSchema>() -> Result<Validator, ApiError> {
    let broken = |e: &dyn std::fmt::Display| {
        ApiError::new(
            Code::Internal,
            format!("the schema of {} does not compile: {e}", T::name()),
        )
    };
    let mut refs = Vec::new();
    T::schemas(&mut refs);
    let mut components = Map::new();
    for (name, schema) in refs {
        components.insert(name, serde_json::to_value(schema).map_err(|e| broken(&e))?);
    }
    let mut root = serde_json::to_value(T::schema()).map_err(|e| broken(&e))?;
    if let Value::Object(root) = &mut root {
        root.insert(
            "components".into(),
            serde_json::json!({ "schemas": components }),
        );
    }
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .build(&root)
        .map_err(|e| broken(&e))
}

/// The field a broken rule names (`a.b[0]`, `body` for the whole) and what
/// the rule asks, in words that never repeat the value sent.
fn field_error(e: &ValidationError<'_>) -> FieldError {
    let at = field_path(e.instance_path());
    let (field, message) = match e.kind() {
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            (join(&at, name), "required".to_owned())
        }
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let named: Vec<&str> = unexpected
                .iter()
                .map(String::as_str)
                .filter(|n| looks_like_a_field(n))
                .collect();
            let message = match named.as_slice() {
                [] => "unknown field".to_owned(),
                names => format!("unknown field `{}`", names.join("`, `")),
            };
            (at, message)
        }
        kind => (at, rule(kind)),
    };
    let field = if field.is_empty() {
        "body".to_owned()
    } else {
        field
    };
    FieldError { field, message }
}

/// What a value-level rule asks.
fn rule(kind: &ValidationErrorKind) -> String {
    match kind {
        ValidationErrorKind::MinLength { limit: 1 } => "must not be empty".to_owned(),
        ValidationErrorKind::MinLength { limit } => format!("at least {limit} characters"),
        ValidationErrorKind::MaxLength { limit } => format!("at most {limit} characters"),
        ValidationErrorKind::Minimum { limit } => format!("at least {limit}"),
        ValidationErrorKind::Maximum { limit } => format!("at most {limit}"),
        ValidationErrorKind::ExclusiveMinimum { limit } => format!("more than {limit}"),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!("less than {limit}"),
        ValidationErrorKind::MinItems { limit } => format!("at least {limit} items"),
        ValidationErrorKind::MaxItems { limit } => format!("at most {limit} items"),
        ValidationErrorKind::UniqueItems => "items must not repeat".to_owned(),
        ValidationErrorKind::Pattern { pattern } if pattern == TEXT_PATTERN => {
            "must not be blank".to_owned()
        }
        ValidationErrorKind::Pattern { pattern } if pattern == NAME_PATTERN => {
            "must not start or end with white space or hold control characters".to_owned()
        }
        ValidationErrorKind::Pattern { pattern } => format!("must match `{pattern}`"),
        ValidationErrorKind::Enum { options } => match options.as_array() {
            Some(options) => format!(
                "one of {}",
                options
                    .iter()
                    .map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "not an allowed value".to_owned(),
        },
        ValidationErrorKind::Constant { expected_value } => format!("must be {expected_value}"),
        ValidationErrorKind::Type { kind } => format!("invalid value: expected {}", types(kind)),
        _ => "invalid value".to_owned(),
    }
}

fn types(kind: &TypeKind) -> String {
    match kind {
        TypeKind::Single(t) => t.to_string(),
        TypeKind::Multiple(ts) => ts
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

/// `a.b[0]` from a JSON pointer (empty for the whole body).
fn field_path(at: &Location) -> String {
    at.iter().fold(String::new(), |out, segment| match segment {
        LocationSegment::Index(i) => format!("{out}[{i}]"),
        LocationSegment::Property(name) => join(&out, &name),
    })
}

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_owned()
    } else {
        format!("{path}.{name}")
    }
}
