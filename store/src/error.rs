//! What can go wrong below the HTTP layer.

use thiserror::Error;

/// A store failure. Constraint violations carry the constraint name so the API
/// can map them to stable error codes.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row does not exist or lies outside the caller's scope (indistinguishable by design).
    #[error("not found")]
    NotFound,
    /// An update guarded by a version found another version.
    #[error("version mismatch (current {current})")]
    VersionMismatch { current: i32 },
    /// The credential was refused; the reason is for logs, not for clients.
    #[error("unauthenticated: {0}")]
    Unauthenticated(&'static str),
    /// A refresh token was presented twice: the whole session is now revoked.
    #[error("refresh token reuse detected")]
    RefreshReuse,
    /// A unique key already holds this value.
    #[error("unique violation on {0}")]
    Duplicate(String),
    /// A referenced row does not exist in the caller's scope.
    #[error("foreign key violation on {0}")]
    BadReference(String),
    /// A database check constraint refused the row.
    #[error("check violation on {0}")]
    Check(String),
    /// No pooled connection within the wait timeout, or the database is unreachable.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database error.
    #[error(transparent)]
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => StoreError::NotFound,
            E::DatabaseError(kind, info) => {
                let constraint = info.constraint_name().unwrap_or_default().to_owned();
                match kind {
                    K::UniqueViolation => StoreError::Duplicate(constraint),
                    K::ForeignKeyViolation => StoreError::BadReference(constraint),
                    K::CheckViolation => StoreError::Check(constraint),
                    // A write refused by a row-level security policy targets a
                    // row outside the caller's scope: as if it did not exist.
                    _ if info.message().contains("row-level security") => StoreError::NotFound,
                    _ => StoreError::Database(E::DatabaseError(kind, info)),
                }
            }
            other => StoreError::Database(other),
        }
    }
}

/// Result alias of the store.
pub type StoreResult<T> = Result<T, StoreError>;
