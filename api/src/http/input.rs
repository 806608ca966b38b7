//! What a request sends, read with the same rules everywhere. JSON bodies:
//! the size limit (413), `application/json` (415), syntax (400) and shape
//! (422, every rule of the body's schema at once: see [`crate::http::rules`]).
//! Query strings: 400. Errors name the field (its path in the body, the
//! query parameter) and what was expected, never the value that was sent:
//! serde's own messages quote values (`invalid type: integer
//! `15020319680219302`, expected a string`), so they are rewritten here and in
//! the path error handler.

use std::ops::Deref;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::http::error::{ApiError, Code};
use crate::http::{PageParams, PageQuery};
use onegrid_store::page::PageRequest;

/// The body limit the app was configured with (`ONEGRID_BODY_LIMIT`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON body of type `T`.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

fn is_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        })
}

impl<T: DeserializeOwned + ToSchema + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Json<T>, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req.app_data::<BodyLimit>().map_or(64 * 1024, |l| l.0);
        let too_large = move || {
            ApiError::new(
                Code::PayloadTooLarge,
                format!("the body exceeds the limit of {limit} bytes"),
            )
        };
        if !is_json(req) {
            return Box::pin(async {
                Err(ApiError::new(
                    Code::UnsupportedMediaType,
                    "Content-Type must be application/json",
                ))
            });
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Box::pin(async move { Err(too_large()) });
        }
        let mut payload = payload.take();
        Box::pin(async move {
            let mut body = Vec::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| {
                    ApiError::new(Code::MalformedJson, "the body broke off before its end")
                })?;
                if body.len() + chunk.len() > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            let value: serde_json::Value =
                serde_json::from_slice(&body).map_err(|e| syntax_error(&e))?;
            crate::http::rules::check::<T>(&value)?;
            parse(&body).map(Json)
        })
    }
}

/// A query string of type `T`.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Query<T>, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// A list's query string: its filters `T` and its page, both checked before
/// the handler runs (400 naming the parameter, never its value).
pub struct Listed<T = PageQuery>(pub T, pub PageRequest);

impl<T: DeserializeOwned + PageParams> FromRequest for Listed<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Listed<T>, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let listed = parse_query::<T>(req.query_string()).and_then(|q| {
            let page = q.page()?;
            Ok(Listed(q, page))
        });
        std::future::ready(listed)
    }
}

/// Parses a query string; errors name the parameter, without its value.
fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let message = e.inner().to_string();
        let path = field_path(e.path(), &message);
        let why = describe(&message);
        let detail = if path == "." {
            format!("invalid query: {why}")
        } else {
            format!("invalid query parameter `{path}`: {why}")
        };
        ApiError::new(Code::InvalidParameter, detail)
    })
}

/// Parses a body; errors by position and path, without the values.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = field_path(e.path(), &e.inner().to_string());
        let inner = e.into_inner();
        if inner.is_data() {
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::field(&field, describe(&inner.to_string()))
        } else {
            syntax_error(&inner)
        }
    })?;
    de.end().map_err(|e| syntax_error(&e))?;
    Ok(value)
}

fn syntax_error(e: &serde_json::Error) -> ApiError {
    let what = if e.is_eof() {
        "the body ends too early"
    } else {
        "the body is not valid JSON"
    };
    ApiError::new(
        Code::MalformedJson,
        format!("{what} (line {}, column {})", e.line(), e.column()),
    )
}

/// Where an error is, as `a.b[0]` (`.` for the whole). An unknown field's own
/// name is the client's text, so its error sits on the object holding it.
fn field_path(path: &serde_path_to_error::Path, message: &str) -> String {
    let mut segments: Vec<String> = path.iter().map(ToString::to_string).collect();
    if message.starts_with("unknown field") {
        segments.pop();
    }
    let mut out = String::new();
    for s in segments {
        if s.starts_with('[') || out.is_empty() {
            out.push_str(&s);
        } else {
            out.push('.');
            out.push_str(&s);
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

/// A deserializer's message without the value it quotes: what was expected
/// (that text comes from our types), missing fields, and unknown fields named
/// only when the name looks like one of ours.
pub fn describe(message: &str) -> String {
    let message = strip_position(message);
    if message.starts_with("missing field `") {
        return message.to_owned();
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        return if looks_like_a_field(name) {
            format!("unknown field `{name}`")
        } else {
            "unknown field".to_owned()
        };
    }
    if let Some(at) = message.rfind("expected ") {
        let expected = &message[at + "expected ".len()..];
        let expected = expected.split(", found").next().unwrap_or(expected);
        return format!("invalid value: expected {expected}");
    }
    "invalid value".to_owned()
}

/// Drops serde_json's ` at line L column C`.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(at)
            if message[at + " at line ".len()..]
                .split(" column ")
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            &message[..at]
        }
        _ => message,
    }
}

pub(crate) fn looks_like_a_field(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "150203196802193028";

    #[test]
    fn messages_keep_the_expectation_and_drop_the_value() {
        let cases = [
            (
                format!("invalid type: integer `{ID}`, expected a string at line 1 column 30"),
                "invalid value: expected a string",
            ),
            (
                format!("invalid type: string \"{ID}, expected x\", expected u32"),
                "invalid value: expected u32",
            ),
            (
                format!("unknown variant `{ID}`, expected one of `id_number`, `phone`"),
                "invalid value: expected one of `id_number`, `phone`",
            ),
            (
                format!("unknown field `{ID}`, expected `name`"),
                "unknown field",
            ),
            (
                "unknown field `colour`, expected `name`".to_owned(),
                "unknown field `colour`",
            ),
            ("missing field `title`".to_owned(), "missing field `title`"),
            (
                format!(
                    "UUID parsing failed: invalid character: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-], found `{ID}` at 1"
                ),
                "invalid value: expected an optional prefix of `urn:uuid:` followed by [0-9a-fA-F-]",
            ),
            (format!("can not parse \"{ID}\" to a u32"), "invalid value"),
        ];
        for (message, expected) in cases {
            assert_eq!(describe(&message), expected, "{message}");
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Person {
        name: String,
        contact: Contact,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Contact {
        phones: Vec<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "only deserialized")]
    struct Page {
        limit: Option<i64>,
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let e = parse_query::<Page>(&format!("limit={ID}x")).unwrap_err();
        assert_eq!(e.detail, "invalid query parameter `limit`: invalid value");
        let e = parse_query::<Page>(&format!("{ID}=1")).unwrap_err();
        assert_eq!(e.detail, "invalid query: unknown field");
        assert!(parse_query::<Page>("limit=5").is_ok());
    }

    #[test]
    fn body_errors_name_the_path() {
        let body = format!(r#"{{"name": "a", "contact": {{"phones": ["1", {ID}]}}}}"#);
        let e = parse::<Person>(body.as_bytes()).unwrap_err();
        assert_eq!(e.errors[0].field, "contact.phones[1]");
        assert_eq!(e.errors[0].message, "invalid value: expected a string");
        assert!(!format!("{e:?}").contains(ID));
        let e = parse::<Person>(br#"{"name": "a", "#).unwrap_err();
        assert_eq!(e.code, Code::MalformedJson);
        let whole = r#"{"name": "a", "contact": {"phones": []}}"#;
        assert!(parse::<Person>(whole.as_bytes()).is_ok());
        let e = parse::<Person>(format!("{whole} {ID}").as_bytes()).unwrap_err();
        assert_eq!(e.code, Code::MalformedJson);
        assert!(!format!("{e:?}").contains(ID));
        // An unknown key is the client's text: the error sits on its object.
        let e = parse::<Person>(
            format!(r#"{{"name": "a", "contact": {{"phones": [], "{ID}": 1}}}}"#).as_bytes(),
        )
        .unwrap_err();
        assert_eq!(e.errors[0].field, "contact");
        assert_eq!(e.errors[0].message, "unknown field");
    }
}
