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
            /// Every value, in declaration order.
            pub const ALL: [$t; [$($name),+].len()] = [$($t::$variant),+];

            /// The stable name used in the API and the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($t::$variant => $name),+
                }
            }

            /// Parses the stable name; `None` for anything else.
            pub fn parse(s: &str) -> Option<$t> {
                Self::ALL.into_iter().find(|x| x.as_str() == s)
            }
        }

        $crate::text_column!($t);
    };
}

/// Declares a state enum once: its variants with their stable names, the
/// derives every state shares (serde and the OpenAPI schema in snake case,
/// and a diesel `text` column with the `diesel` feature), and
/// [`stable_names!`]. Each stable name is its variant in snake case (a test
/// holds every state enum to it), so the API, the schema and the database
/// say the same.
#[macro_export]
macro_rules! state_enum {
    (
        $(#[$meta:meta])*
        pub enum $t:ident {
            $($(#[$vmeta:meta])* $variant:ident => $name:literal),+ $(,)?
        }
    ) => {
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[cfg_attr(
            feature = "diesel",
            derive(diesel::AsExpression, diesel::FromSqlRow),
            diesel(sql_type = diesel::sql_types::Text)
        )]
        #[serde(rename_all = "snake_case")]
        // After the derives, so `#[schema(...)]` and extra derives may follow.
        $(#[$meta])*
        pub enum $t {
            $($(#[$vmeta])* $variant),+
        }

        $crate::stable_names!($t { $($variant => $name),+ });
    };
}

#[cfg(test)]
mod tests {
    use crate::{cases, channels, jobs, ledger, mediation, meetings, sla};

    fn same_names<T: serde::Serialize + Copy>(all: &[T], name: fn(T) -> &'static str) {
        for x in all {
            assert_eq!(
                serde_json::to_value(x).ok(),
                Some(serde_json::Value::from(name(*x))),
                "serde and the stable name differ"
            );
        }
    }

    #[test]
    fn every_state_is_serialised_by_its_stable_name() {
        same_names(&cases::Status::ALL, cases::Status::as_str);
        same_names(&cases::Kind::ALL, cases::Kind::as_str);
        same_names(&channels::Channel::ALL, channels::Channel::as_str);
        same_names(&channels::ServiceMode::ALL, channels::ServiceMode::as_str);
        same_names(&jobs::JobState::ALL, jobs::JobState::as_str);
        same_names(&jobs::DeliveryState::ALL, jobs::DeliveryState::as_str);
        same_names(&ledger::RecordStatus::ALL, ledger::RecordStatus::as_str);
        same_names(
            &meetings::MeetingStatus::ALL,
            meetings::MeetingStatus::as_str,
        );
        same_names(&sla::Tier::ALL, sla::Tier::as_str);
        same_names(&sla::ClockKind::ALL, sla::ClockKind::as_str);
        same_names(&sla::ClockOutcome::ALL, sla::ClockOutcome::as_str);
        same_names(&sla::ClockState::ALL, sla::ClockState::as_str);
        same_names(&mediation::Level::ALL, mediation::Level::as_str);
        same_names(&mediation::Status::ALL, mediation::Status::as_str);
        same_names(
            &mediation::SummonsState::ALL,
            mediation::SummonsState::as_str,
        );
        same_names(
            &mediation::WhistleStatus::ALL,
            mediation::WhistleStatus::as_str,
        );
    }
}
