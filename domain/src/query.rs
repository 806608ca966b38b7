//! Targeting queries (精准查询): "veterans in grid 3, aged 60 or more, not on
//! low-income allowance" — predicates over one ledger's fields and the
//! resident's derived attributes, with AND / NOT over other ledgers the same
//! resident (or household) is on. Validated here against the ledger types; the
//! store turns a validated query into SQL.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ledger::{FieldDef, FieldType, Invalid, Subject};

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal to the value.
    Eq,
    /// Not equal to the value (records without one included).
    Ne,
    /// Less than the value (numbers, dates, age).
    Lt,
    /// Less than or equal to the value.
    Lte,
    /// Greater than the value.
    Gt,
    /// Greater than or equal to the value.
    Gte,
    /// The value is a list; the field equals one of it.
    In,
    /// Multi-choice fields: the list contains the value.
    Contains,
    /// The field has a value (the condition's `value` is `null`).
    IsSet,
    /// The field has no value (the condition's `value` is `null`).
    NotSet,
}

/// One predicate: a ledger field, or `age` / `gender` of the resident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    /// A field key of the ledger, or `age` / `gender` on ledgers about residents.
    pub field: String,
    /// How the field is compared.
    pub op: Op,
    /// What it is compared with: a value of the field's type, a list for `in`,
    /// `null` for `is_set` / `not_set`.
    #[serde(default)]
    pub value: Value,
}

/// Another ledger the same subject must (present) or must not be on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CrossLedger {
    /// Code of the other ledger type.
    pub ledger: String,
    /// `true`: the subject must be on it (AND); `false`: must not be (NOT).
    pub present: bool,
    /// Conditions the record on the other ledger must meet, all of them.
    #[serde(default)]
    pub conditions: Vec<Condition>,
}

/// Where to look.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryScope {
    /// Only grids of this community.
    pub community_id: Option<Uuid>,
    /// Only this grid. With neither set, the caller's own grids.
    pub grid_id: Option<Uuid>,
}

/// A targeting query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetQuery {
    /// Code of the ledger whose active records are listed.
    pub ledger: String,
    /// Conditions every listed record meets, all of them (AND).
    #[serde(default)]
    pub conditions: Vec<Condition>,
    /// Other ledgers the same resident or household must or must not be on.
    #[serde(default)]
    pub also: Vec<CrossLedger>,
    /// Where to look; by default the caller's own grids (minimum necessary).
    #[serde(default)]
    pub scope: QueryScope,
}

/// What a checked condition compares.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A ledger field of the given type.
    Field {
        /// The field's key.
        key: String,
        /// The field's type, which decides the comparisons and values allowed.
        field_type: FieldType,
    },
    /// The resident's age in whole years.
    Age,
    /// The resident's gender (`male` / `female`).
    Gender,
}

/// A condition checked against its ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// What is compared.
    pub operand: Operand,
    /// How; always one that applies to the operand.
    pub op: Op,
    /// The value, checked to fit the operand and the comparison.
    pub value: Value,
}

fn ops_for(operand: &Operand) -> &'static [Op] {
    use Op::*;
    match operand {
        Operand::Age => &[Eq, Ne, Lt, Lte, Gt, Gte, IsSet, NotSet],
        Operand::Gender => &[Eq, Ne, IsSet, NotSet],
        Operand::Field { field_type, .. } => match field_type {
            FieldType::Number | FieldType::Date => &[Eq, Ne, Lt, Lte, Gt, Gte, In, IsSet, NotSet],
            FieldType::Text
            | FieldType::Choice
            | FieldType::Resident
            | FieldType::Household
            | FieldType::Organisation => &[Eq, Ne, In, IsSet, NotSet],
            FieldType::Boolean => &[Eq, Ne, IsSet, NotSet],
            FieldType::MultiChoice => &[Contains, IsSet, NotSet],
        },
    }
}

fn scalar_ok(operand: &Operand, v: &Value) -> bool {
    match operand {
        Operand::Age => v.as_i64().is_some_and(|n| (0..=150).contains(&n)),
        Operand::Gender => matches!(v.as_str(), Some("male" | "female")),
        Operand::Field { field_type, .. } => match field_type {
            FieldType::Number => v.as_f64().is_some_and(f64::is_finite),
            FieldType::Boolean => v.is_boolean(),
            FieldType::Date => v
                .as_str()
                .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
            _ => v
                .as_str()
                .is_some_and(|s| s.chars().count() <= 200 && !s.chars().any(char::is_control)),
        },
    }
}

/// Checks conditions against a ledger's fields (`subject` decides whether
/// `age` and `gender` exist); `at` prefixes error paths.
pub fn check_conditions(
    conditions: &[Condition],
    fields: &[FieldDef],
    subject: Subject,
    at: &str,
) -> Result<Vec<Checked>, Vec<Invalid>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    if conditions.len() > 20 {
        errors.push(Invalid {
            field: at.to_owned(),
            message: "at most 20 conditions".into(),
        });
    }
    for (i, c) in conditions.iter().enumerate() {
        let path = format!("{at}[{i}]");
        let operand = match (c.field.as_str(), subject) {
            ("age", Subject::Resident) => Operand::Age,
            ("gender", Subject::Resident) => Operand::Gender,
            (key, _) => match fields.iter().find(|f| f.key == key) {
                Some(f) => Operand::Field {
                    key: f.key.clone(),
                    field_type: f.field_type,
                },
                None => {
                    errors.push(Invalid {
                        field: format!("{path}.field"),
                        message: format!("{} is not a field of this ledger", c.field),
                    });
                    continue;
                }
            },
        };
        if !ops_for(&operand).contains(&c.op) {
            errors.push(Invalid {
                field: format!("{path}.op"),
                message: "this comparison does not apply to the field".into(),
            });
            continue;
        }
        let value_ok = match c.op {
            Op::IsSet | Op::NotSet => c.value.is_null(),
            Op::In => c.value.as_array().is_some_and(|a| {
                !a.is_empty() && a.len() <= 100 && a.iter().all(|v| scalar_ok(&operand, v))
            }),
            Op::Contains => c.value.as_str().is_some(),
            _ => scalar_ok(&operand, &c.value),
        };
        if !value_ok {
            errors.push(Invalid {
                field: format!("{path}.value"),
                message: "the value does not fit the field and comparison".into(),
            });
            continue;
        }
        out.push(Checked {
            operand,
            op: c.op,
            value: c.value.clone(),
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields() -> Vec<FieldDef> {
        serde_json::from_value(json!([
            {"key": "service_branch", "label": "军种", "type": "choice", "choices": ["陆军", "海军"]},
            {"key": "disability_grade", "label": "伤残等级", "type": "number"},
            {"key": "needs", "label": "需求", "type": "multi_choice", "choices": ["就业", "医疗"]}
        ]))
        .unwrap()
    }

    #[test]
    fn conditions_are_checked_against_fields_and_subject() {
        let conds: Vec<Condition> = serde_json::from_value(json!([
            {"field": "age", "op": "gte", "value": 60},
            {"field": "service_branch", "op": "in", "value": ["陆军"]},
            {"field": "needs", "op": "contains", "value": "医疗"},
            {"field": "disability_grade", "op": "not_set"}
        ]))
        .unwrap();
        let checked = check_conditions(&conds, &fields(), Subject::Resident, "conditions").unwrap();
        assert_eq!(checked[0].operand, Operand::Age);
        let bad: Vec<Condition> = serde_json::from_value(json!([
            {"field": "age", "op": "gte", "value": 60},
            {"field": "colour", "op": "eq", "value": "red"},
            {"field": "needs", "op": "gt", "value": 1},
            {"field": "disability_grade", "op": "gt", "value": "two"}
        ]))
        .unwrap();
        let errors = check_conditions(&bad, &fields(), Subject::None, "conditions").unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            paths,
            [
                "conditions[0].field",
                "conditions[1].field",
                "conditions[2].op",
                "conditions[3].value"
            ]
        );
    }
}
