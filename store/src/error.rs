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

/// What PostgreSQL says when it ends or refuses a session (SQLSTATE classes
/// 57 and 08, and 53300); diesel keeps the message, not the code.
const CONNECTION_LOST: &[&str] = &[
    "terminating connection",
    "the database system is",
    "server closed the connection",
    "connection closed",
    "sorry, too many clients",
    "remaining connection slots are reserved",
    "canceling statement due to statement timeout",
];

impl From<diesel::result::Error> for StoreError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => StoreError::NotFound,
            // The session went away mid-request: the database is unavailable
            // (a retry gets a fresh connection), not an internal error.
            E::DatabaseError(K::UnableToSendCommand | K::ClosedConnection, _)
            | E::BrokenTransactionManager => {
                StoreError::Unavailable("the database connection was lost".into())
            }
            E::DatabaseError(K::Unknown, info)
                if CONNECTION_LOST.iter().any(|m| info.message().contains(m)) =>
            {
                StoreError::Unavailable(format!(
                    "the database ended the session: {}",
                    info.message()
                ))
            }
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
