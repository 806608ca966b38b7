//! State columns are domain enums: each is stored as `text` under its stable
//! name ([`text_column!`]), so the store reads and writes the enum itself
//! and no code compares a state to a string literal.

/// Shows enums with `as_str` and `parse` by their stable name and maps them
/// to a PostgreSQL `text` column (with the `diesel` feature). A stored name the enum does
/// not know is a deserialisation error naming the enum, never the value.
#[macro_export]
macro_rules! text_column {
    ($($t:ty),+ $(,)?) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        #[cfg(feature = "diesel")]
        impl diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg> for $t {
            fn to_sql<'b>(
                &'b self,
                out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
            ) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, diesel::pg::Pg>>::to_sql(
                    self.as_str(),
                    out,
                )
            }
        }

        #[cfg(feature = "diesel")]
        impl diesel::deserialize::FromSql<diesel::sql_types::Text, diesel::pg::Pg> for $t {
            fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
                let name = <String as diesel::deserialize::FromSql<
                    diesel::sql_types::Text,
                    diesel::pg::Pg,
                >>::from_sql(bytes)?;
                <$t>::parse(&name).ok_or_else(|| {
                    format!("a stored value that is not a {}", stringify!($t)).into()
                })
            }
        }
    )+};
}

/// Gives a state enum its stable names, written once: `as_str`, `parse` and
/// `ALL`, then maps it as a [`text_column!`].
#[macro_export]
macro_rules! stable_names {
    ($t:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $t {
            /// Every state, in declaration order.
            pub const ALL: &'static [$t] = &[$($t::$variant),+];

            /// The stable name used in the API and the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($t::$variant => $name),+
                }
            }

            /// Parses the stable name; `None` for anything else.
            pub fn parse(s: &str) -> Option<$t> {
                Self::ALL.iter().copied().find(|x| x.as_str() == s)
            }
        }

        $crate::text_column!($t);
    };
}
