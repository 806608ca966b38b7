//! Who is acting and what they may do: the authenticated principal with the
//! grants active at the request's instant, checked against the permission
//! matrix. Pure data; the store builds it, every layer checks it.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::permissions::{self, Action, Grant, Scope, Target, rule};

/// A refused action: the stable name of the permission it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this needs the `{permission}` permission over the resource")]
pub struct Forbidden {
    /// The permission's stable name, e.g. `case.file`.
    pub permission: &'static str,
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// A staff member signed in.
    User {
        /// The staff account.
        user_id: Uuid,
        /// The session the request came in on (revoking it ends the access).
        session_id: Uuid,
    },
    /// A machine client (an integrator's back-end) with an API key.
    ApiKey {
        /// The key.
        key_id: Uuid,
        /// The staff member who created the key and answers for its use.
        created_by: Uuid,
    },
}

/// An authenticated caller with the grants active today and the streets they see.
#[derive(Debug, Clone)]
pub struct Principal {
    /// Who acts.
    pub actor: Actor,
    /// The district the caller belongs to; nothing of another district is reachable.
    pub district_id: Uuid,
    /// The caller's grants active at [`Principal::now`].
    pub grants: Vec<Grant>,
    /// Sees every street of the district (district or department scope).
    pub district_wide: bool,
    /// Streets whose rows the transaction can see.
    pub streets: Vec<Uuid>,
    /// The injected clock's "now" when the request was authenticated: what
    /// the request's records are stamped with (audit entries, say).
    pub now: DateTime<Utc>,
}

impl Principal {
    /// The id idempotency records and audit trails are keyed on.
    pub fn id(&self) -> Uuid {
        match self.actor {
            Actor::User { user_id, .. } => user_id,
            Actor::ApiKey { key_id, .. } => key_id,
        }
    }

    /// The user accountable for the action (an API key's creator).
    pub fn accountable_user(&self) -> Uuid {
        match self.actor {
            Actor::User { user_id, .. } => user_id,
            Actor::ApiKey { created_by, .. } => created_by,
        }
    }

    /// Whether the principal may perform `action` on `target`.
    pub fn can(&self, action: Action, target: &Target) -> bool {
        permissions::allowed(&self.grants, action, target)
    }

    /// Refused unless the principal may perform `action` on `target`.
    pub fn require(&self, action: Action, target: &Target) -> Result<(), Forbidden> {
        if self.can(action, target) {
            Ok(())
        } else {
            Err(Forbidden {
                permission: rule(action).name,
            })
        }
    }

    /// Refused unless the principal may perform `action` somewhere.
    pub fn require_anywhere(&self, action: Action) -> Result<(), Forbidden> {
        if self.can_anywhere(action) {
            Ok(())
        } else {
            Err(Forbidden {
                permission: rule(action).name,
            })
        }
    }

    /// Whether the principal may perform `action` anywhere at all.
    pub fn can_anywhere(&self, action: Action) -> bool {
        permissions::allowed_anywhere(&self.grants, action)
    }

    /// The departments the principal works for (department-scoped grants).
    pub fn departments(&self) -> Vec<Uuid> {
        let mut ids: Vec<Uuid> = self
            .grants
            .iter()
            .filter_map(|g| match g.scope {
                Scope::Department { department, .. } => Some(department),
                _ => None,
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Every grant is a department's: the principal sees only what was
    /// routed to its departments.
    pub fn department_only(&self) -> bool {
        !self.grants.is_empty()
            && self
                .grants
                .iter()
                .all(|g| matches!(g.scope, Scope::Department { .. }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::Role;

    fn grid_worker(district: Uuid, street: Uuid, community: Uuid, grid: Uuid) -> Principal {
        Principal {
            actor: Actor::User {
                user_id: Uuid::now_v7(),
                session_id: Uuid::now_v7(),
            },
            district_id: district,
            grants: vec![Grant {
                role: Role::GridWorker,
                scope: Scope::Grid {
                    district,
                    street,
                    community,
                    grid,
                },
            }],
            district_wide: false,
            streets: vec![street],
            now: DateTime::<Utc>::MIN_UTC,
        }
    }

    #[test]
    fn require_proves_the_action_on_the_target_or_names_the_permission() {
        let (d, s, c, g) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let p = grid_worker(d, s, c, g);
        let own = Target {
            district: d,
            street: Some(s),
            community: Some(c),
            grid: Some(g),
            department: None,
        };
        let other = Target {
            grid: Some(Uuid::now_v7()),
            ..own
        };
        assert_eq!(p.require(Action::CaseFile, &own), Ok(()));
        assert_eq!(
            p.require(Action::CaseFile, &other),
            Err(Forbidden {
                permission: "case.file"
            })
        );
        assert_eq!(p.require_anywhere(Action::CaseFile), Ok(()));
        assert_eq!(
            p.require_anywhere(Action::StreetCreate)
                .map_err(|f| f.to_string()),
            Err("this needs the `street.create` permission over the resource".to_owned())
        );
        assert_eq!(p.accountable_user(), p.id());
    }
}
