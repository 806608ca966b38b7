//! What can go wrong below the HTTP layer.

use thiserror::Error;

/// Why a credential was refused. Clients are told only
/// [`AuthFailure::detail`]; the variant itself is for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum AuthFailure {
    /// The password does not match, or no such user (never told apart to the client).
    #[error("bad username or password")]
    BadPassword,
    /// The account is disabled.
    #[error("user disabled")]
    UserDisabled,
    /// The refresh token is not of the platform's form.
    #[error("malformed refresh token")]
    MalformedRefresh,
    /// No refresh token has this hash.
    #[error("unknown refresh token")]
    UnknownRefresh,
    /// The token's session was revoked or has expired.
    #[error("session revoked or expired")]
    SessionEnded,
    /// The token names another district than its user's.
    #[error("district mismatch")]
    DistrictMismatch,
    /// No API key has this id.
    #[error("unknown api key")]
    UnknownKey,
    /// The key exists but its secret does not match.
    #[error("api key secret mismatch")]
    KeySecretMismatch,
    /// The key was revoked or has expired.
    #[error("api key revoked or expired")]
    KeyEnded,
    /// The key's stored role and scope do not make a valid grant.
    #[error("api key scope")]
    KeyScope,
}

impl AuthFailure {
    /// What the client is told: a login never says whether the user exists
    /// or is disabled.
    pub fn detail(self) -> &'static str {
        match self {
            AuthFailure::BadPassword | AuthFailure::UserDisabled => "the credential was refused",
            AuthFailure::MalformedRefresh => "malformed refresh token",
            AuthFailure::UnknownRefresh => "unknown refresh token",
            AuthFailure::SessionEnded => "session revoked or expired",
            AuthFailure::DistrictMismatch => "district mismatch",
            AuthFailure::UnknownKey => "unknown api key",
            AuthFailure::KeySecretMismatch => "api key secret mismatch",
            AuthFailure::KeyEnded => "api key revoked or expired",
            AuthFailure::KeyScope => "api key scope",
        }
    }
}

/// Which kind of constraint refused a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ViolationKind {
    /// A unique key (or primary key) already holds the value.
    Unique,
    /// A referenced row does not exist in the caller's scope.
    ForeignKey,
    /// A check constraint refused the value.
    Check,
}

/// A constraint that refused a write: the database's, or the same rule
/// checked first by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Which kind of constraint it is.
    pub kind: ViolationKind,
    /// The constraint's name in the database (e.g. `grid_assignments_user_id_fkey`).
    pub constraint: String,
}

impl Violation {
    /// The unique key `constraint` already holds the value.
    pub fn unique(constraint: &str) -> Violation {
        Violation {
            kind: ViolationKind::Unique,
            constraint: constraint.to_owned(),
        }
    }

    /// The request field the constraint guards, from the table generated
    /// from the migrations (`body` for a constraint it does not know).
    pub fn field(&self) -> &'static str {
        crate::constraints::CONSTRAINTS
            .binary_search_by(|(name, _, _)| (*name).cmp(self.constraint.as_str()))
            .ok()
            .and_then(|i| crate::constraints::CONSTRAINTS.get(i))
            .map_or("body", |(_, _, field)| field)
    }
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} violation on {}", self.kind, self.constraint)
    }
}

/// A store failure. Constraint violations carry the constraint, whose
/// field the generated table names.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The row does not exist or lies outside the caller's scope (indistinguishable by design).
    #[error("not found")]
    NotFound,
    /// An update guarded by a version found another version.
    #[error("version mismatch (current {current})")]
    VersionMismatch {
        /// The row's version now (what the caller should retry with).
        current: i32,
    },
    /// The credential was refused; the reason is for logs, not for clients.
    #[error("unauthenticated: {0}")]
    Unauthenticated(AuthFailure),
    /// A refresh token was presented twice: the whole session is now revoked.
    #[error("refresh token reuse detected")]
    RefreshReuse,
    /// A constraint refused the write.
    #[error("{0}")]
    Violation(Violation),
    /// A rule of the store (not a constraint) refused the request.
    #[error("refused: {0}")]
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
                let violation = |kind| {
                    StoreError::Violation(Violation {
                        kind,
                        constraint: info.constraint_name().unwrap_or_default().to_owned(),
                    })
                };
                match kind {
                    K::UniqueViolation => violation(ViolationKind::Unique),
                    K::ForeignKeyViolation => violation(ViolationKind::ForeignKey),
                    K::CheckViolation => violation(ViolationKind::Check),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violations_name_the_field_their_constraint_guards() {
        let fk = Violation {
            kind: ViolationKind::ForeignKey,
            constraint: "grid_assignments_user_id_fkey".into(),
        };
        assert_eq!(fk.field(), "user_id");
        assert_eq!(
            Violation::unique("residents_street_id_id_number_bidx_key").field(),
            "id_number"
        );
        assert_eq!(Violation::unique("no_such_constraint").field(), "body");
    }

    #[test]
    fn the_generated_table_is_sorted_for_lookup() {
        let names: Vec<&str> = crate::constraints::CONSTRAINTS
            .iter()
            .map(|c| c.0)
            .collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
    }
}
