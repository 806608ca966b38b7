//! Typed ledgers (台账) as data: a ledger type is a list of field definitions
//! that communities and streets can add without a code change (GB/T 31000's
//! "9+X"), with a sensitivity level; records are validated against it.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

/// Who may read a ledger's records (after DHIS2's access levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Anyone in scope.
    Open,
    /// Anyone in scope; every read of a record is audited.
    Audited,
    /// Outside one's own grids only by breaking the glass (reason, 3 h, audited).
    Protected,
    /// Only in one's own grids; no break-glass.
    Closed,
}

impl Sensitivity {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Open => "open",
            Sensitivity::Audited => "audited",
            Sensitivity::Protected => "protected",
            Sensitivity::Closed => "closed",
        }
    }

    /// Parses the stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Sensitivity> {
        [Self::Open, Self::Audited, Self::Protected, Self::Closed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }

    /// Reads of records of this level are written to the audit log.
    pub const fn audits_reads(self) -> bool {
        !matches!(self, Sensitivity::Open)
    }
}

/// What a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// Each record belongs to one resident (veterans, disabled, party members).
    Resident,
    /// Each record belongs to one household (low-income allowance).
    Household,
    /// Records stand alone in a grid (garages, dogs, organisations).
    None,
}

impl Subject {
    /// The spreadsheet column naming a record's subject in templates,
    /// imports and exports.
    pub const fn column(self) -> &'static str {
        match self {
            Subject::Resident => "id_number",
            Subject::Household => "household_id",
            Subject::None => "grid_code",
        }
    }

    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Subject::Resident => "resident",
            Subject::Household => "household",
            Subject::None => "none",
        }
    }

    /// Parses the stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Subject> {
        [Self::Resident, Self::Household, Self::None]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

crate::state_enum! {
    /// Whether a record is in the ledger's working set.
    pub enum RecordStatus {
        /// Counted, listed and exported by default.
        Active => "active",
        /// Kept for history with a reason (moved away, deceased, closed).
        Retired => "retired",
    }
}

/// The type of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Free text, at most 2000 characters, no control characters but newlines.
    Text,
    /// A finite number.
    Number,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// `true` or `false`.
    Boolean,
    /// One of `choices`.
    Choice,
    /// Any subset of `choices`.
    MultiChoice,
    /// The id of a resident in the same street.
    Resident,
    /// The id of a household in the same street.
    Household,
    /// The id of an organisation record in the same street.
    Organisation,
}

/// One field of a ledger type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDef {
    /// Stable key: lowercase letters, digits, `_` (1-40), starting with a letter.
    pub key: String,
    /// Label shown to staff, e.g. 服役军种.
    pub label: String,
    /// The type every value of this field must have.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// A record without a value (or with `null`) for it is refused.
    #[serde(default)]
    pub required: bool,
    /// Allowed values of choice fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// A problem with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// Where the problem is: `fields[3].key` in a type, `data.branch` in a record.
    pub field: String,
    /// What is wrong, in words an integrator can show.
    pub message: String,
}

fn invalid(field: &str, message: impl Into<String>) -> Invalid {
    Invalid {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Keys that records may not use: they name derived or registry attributes in queries.
pub const RESERVED_KEYS: &[&str] = &[
    "age",
    "gender",
    "birth_date",
    "grid_id",
    "community_id",
    "status",
    "verified_at",
];

fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    (1..=40).contains(&b.len())
        && b.first().is_some_and(u8::is_ascii_lowercase)
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

fn clean_text(s: &str, max: usize) -> bool {
    s.chars().count() <= max && !s.chars().any(|c| c.is_control() && c != '\n')
}

/// Checks a ledger type's field list.
pub fn check_fields(fields: &[FieldDef]) -> Result<(), Vec<Invalid>> {
    let mut errors = Vec::new();
    if fields.is_empty() || fields.len() > 60 {
        errors.push(invalid("fields", "a ledger type has 1 to 60 fields"));
    }
    let mut seen = HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let at = |what: &str| format!("fields[{i}].{what}");
        if !valid_key(&f.key) {
            errors.push(invalid(
                &at("key"),
                "lowercase letters, digits and _, starting with a letter, at most 40",
            ));
        } else if RESERVED_KEYS.contains(&f.key.as_str()) {
            errors.push(invalid(&at("key"), format!("{} is reserved", f.key)));
        } else if !seen.insert(f.key.clone()) {
            errors.push(invalid(&at("key"), format!("{} is used twice", f.key)));
        }
        if f.label.trim().is_empty() || !clean_text(&f.label, 100) {
            errors.push(invalid(
                &at("label"),
                "1 to 100 characters without control characters",
            ));
        }
        let is_choice = matches!(f.field_type, FieldType::Choice | FieldType::MultiChoice);
        if is_choice {
            let unique: HashSet<&String> = f.choices.iter().collect();
            if f.choices.is_empty() || f.choices.len() > 200 || unique.len() != f.choices.len() {
                errors.push(invalid(&at("choices"), "1 to 200 distinct choices"));
            }
            if f.choices
                .iter()
                .any(|c| c.trim().is_empty() || !clean_text(c, 100))
            {
                errors.push(invalid(
                    &at("choices"),
                    "each choice has 1 to 100 characters",
                ));
            }
        } else if !f.choices.is_empty() {
            errors.push(invalid(&at("choices"), "only choice fields have choices"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A validated record: the values, and the ids it references (to be checked
/// against the caller's street by the store).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidRecord {
    /// The values by field key, `null`s dropped.
    pub data: BTreeMap<String, Value>,
    /// `(field, type, id)` of every reference field.
    pub references: Vec<(String, FieldType, uuid::Uuid)>,
}

/// Validates record data against a type's fields: unknown fields, missing
/// required fields, wrong types and choices outside the list are errors.
pub fn check_record(
    fields: &[FieldDef],
    data: &serde_json::Map<String, Value>,
) -> Result<ValidRecord, Vec<Invalid>> {
    let mut errors = Vec::new();
    for key in data.keys() {
        if !fields.iter().any(|f| &f.key == key) {
            errors.push(invalid(
                &format!("data.{key}"),
                "is not a field of this ledger type",
            ));
        }
    }
    let mut out = BTreeMap::new();
    let mut references = Vec::new();
    for f in fields {
        let path = format!("data.{}", f.key);
        let value = match data.get(&f.key) {
            None | Some(Value::Null) => {
                if f.required {
                    errors.push(invalid(&path, "is required"));
                }
                continue;
            }
            Some(v) => v,
        };
        let ok = match f.field_type {
            FieldType::Text => value.as_str().is_some_and(|s| clean_text(s, 2000)),
            FieldType::Number => value.as_f64().is_some_and(f64::is_finite),
            FieldType::Date => value
                .as_str()
                .is_some_and(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
            FieldType::Boolean => value.is_boolean(),
            FieldType::Choice => value
                .as_str()
                .is_some_and(|s| f.choices.iter().any(|c| c == s)),
            FieldType::MultiChoice => value.as_array().is_some_and(|a| {
                let unique: HashSet<&Value> = a.iter().collect();
                unique.len() == a.len()
                    && a.iter()
                        .all(|v| v.as_str().is_some_and(|s| f.choices.iter().any(|c| c == s)))
            }),
            FieldType::Resident | FieldType::Household | FieldType::Organisation => {
                match value.as_str().and_then(|s| uuid::Uuid::parse_str(s).ok()) {
                    Some(id) => {
                        references.push((f.key.clone(), f.field_type, id));
                        true
                    }
                    None => false,
                }
            }
        };
        if ok {
            out.insert(f.key.clone(), value.clone());
        } else {
            let expected = match f.field_type {
                FieldType::Text => "text of at most 2000 characters".to_owned(),
                FieldType::Number => "a number".to_owned(),
                FieldType::Date => "a date YYYY-MM-DD".to_owned(),
                FieldType::Boolean => "true or false".to_owned(),
                FieldType::Choice => format!("one of: {}", f.choices.join(", ")),
                FieldType::MultiChoice => {
                    format!("a list of distinct values from: {}", f.choices.join(", "))
                }
                FieldType::Resident | FieldType::Household | FieldType::Organisation => {
                    "an id".to_owned()
                }
            };
            errors.push(invalid(&path, format!("must be {expected}")));
        }
    }
    if errors.is_empty() {
        Ok(ValidRecord {
            data: out,
            references,
        })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn veteran_fields() -> Vec<FieldDef> {
        serde_json::from_value(json!([
            {"key": "branch", "label": "服役军种", "type": "choice", "required": true, "choices": ["陆军", "海军", "空军"]},
            {"key": "discharged_on", "label": "退役时间", "type": "date"},
            {"key": "disability_grade", "label": "伤残等级", "type": "number"},
            {"key": "needs", "label": "需求", "type": "multi_choice", "choices": ["就业", "医疗"]},
            {"key": "contact", "label": "联系人", "type": "resident"}
        ]))
        .unwrap()
    }

    #[test]
    fn field_lists_are_checked() {
        assert!(check_fields(&veteran_fields()).is_ok());
        let bad: Vec<FieldDef> = serde_json::from_value(json!([
            {"key": "Age", "label": "x", "type": "text"},
            {"key": "age", "label": "x", "type": "text"},
            {"key": "a", "label": "", "type": "choice"},
            {"key": "a", "label": "y", "type": "text", "choices": ["x"]}
        ]))
        .unwrap();
        let errors = check_fields(&bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"fields[0].key") && fields.contains(&"fields[1].key"));
        assert!(fields.contains(&"fields[2].label") && fields.contains(&"fields[2].choices"));
        assert!(fields.contains(&"fields[3].key") && fields.contains(&"fields[3].choices"));
    }

    #[test]
    fn records_are_checked_against_their_type() {
        let fields = veteran_fields();
        let id = uuid::Uuid::now_v7();
        let ok = json!({"branch": "海军", "discharged_on": "1995-07-01", "needs": ["医疗"], "contact": id.to_string()});
        let valid = check_record(&fields, ok.as_object().unwrap()).unwrap();
        assert_eq!(
            valid.references,
            vec![("contact".to_owned(), FieldType::Resident, id)]
        );
        let bad = json!({"discharged_on": "1995-13-01", "needs": ["医疗", "医疗"], "disability_grade": "two", "colour": "red"});
        let errors = check_record(&fields, bad.as_object().unwrap()).unwrap_err();
        let fields_in_error: HashSet<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields_in_error,
            HashSet::from([
                "data.colour",
                "data.branch",
                "data.discharged_on",
                "data.needs",
                "data.disability_grade"
            ])
        );
        let wrong_choice = json!({"branch": "火箭军"});
        assert!(
            check_record(&fields, wrong_choice.as_object().unwrap()).unwrap_err()[0]
                .message
                .contains("陆军")
        );
    }
}

/// A ledger type every district starts with.
#[derive(Debug, Clone)]
pub struct BuiltIn {
    /// Stable code, e.g. `veterans`; unique among the types a street sees.
    pub code: &'static str,
    /// The name staff see, e.g. 退役军人.
    pub name: &'static str,
    /// What each record is about.
    pub subject: Subject,
    /// Who may read the records, before a district changes it.
    pub sensitivity: Sensitivity,
    /// Names of the records' residents are shown masked (`张*`).
    pub mask_name: bool,
    /// Records not verified within this many days are stale.
    pub verify_period_days: i32,
    /// Field definitions as JSON (checked by a test).
    pub fields: &'static str,
}

/// The built-in ledger types (the fixed part of "9+X"; households and
/// residents are the registry itself). Ledgers about a person or household
/// are protected or closed by default (PIPL's minimum necessary: a grid worker
/// works their own grid); a district may change a type's sensitivity.
pub const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        code: "party_members",
        name: "党员",
        subject: Subject::Resident,
        sensitivity: Sensitivity::Protected,
        mask_name: false,
        verify_period_days: 365,
        fields: r#"[{"key":"joined_on","label":"入党时间","type":"date","required":true},
                    {"key":"branch","label":"所在支部","type":"text"},
                    {"key":"category","label":"党员类别","type":"choice","choices":["正式党员","预备党员"],"required":true}]"#,
    },
    BuiltIn {
        code: "veterans",
        name: "退役军人",
        subject: Subject::Resident,
        sensitivity: Sensitivity::Protected,
        mask_name: false,
        verify_period_days: 180,
        fields: r#"[{"key":"service_branch","label":"服役军种","type":"choice","choices":["陆军","海军","空军","火箭军","武警","其他"],"required":true},
                    {"key":"discharged_on","label":"退役时间","type":"date"},
                    {"key":"disability_grade","label":"伤残等级","type":"number"},
                    {"key":"employment","label":"就业情况","type":"choice","choices":["在职","待业","退休"]}]"#,
    },
    BuiltIn {
        code: "low_income",
        name: "低保",
        subject: Subject::Household,
        sensitivity: Sensitivity::Protected,
        mask_name: true,
        verify_period_days: 90,
        fields: r#"[{"key":"certificate_no","label":"低保证号","type":"text","required":true},
                    {"key":"monthly_amount","label":"月保障金额","type":"number","required":true},
                    {"key":"since","label":"纳入时间","type":"date","required":true}]"#,
    },
    BuiltIn {
        code: "disabled",
        name: "残疾人",
        subject: Subject::Resident,
        sensitivity: Sensitivity::Protected,
        mask_name: true,
        verify_period_days: 180,
        fields: r#"[{"key":"category","label":"残疾类别","type":"choice","choices":["视力","听力","言语","肢体","智力","精神","多重"],"required":true},
                    {"key":"grade","label":"残疾等级","type":"choice","choices":["一级","二级","三级","四级"],"required":true},
                    {"key":"certificate_no","label":"残疾证号","type":"text"},
                    {"key":"employed","label":"是否就业","type":"boolean"}]"#,
    },
    BuiltIn {
        code: "garages",
        name: "车库",
        subject: Subject::None,
        sensitivity: Sensitivity::Open,
        mask_name: false,
        verify_period_days: 365,
        fields: r#"[{"key":"number","label":"车库编号","type":"text","required":true},
                    {"key":"owner","label":"产权人","type":"resident"},
                    {"key":"user","label":"使用人","type":"resident"},
                    {"key":"contact","label":"联系方式","type":"text"},
                    {"key":"actual_use","label":"实际用途","type":"choice","choices":["停车","仓储","居住","经营","空置"],"required":true}]"#,
    },
    BuiltIn {
        code: "dogs",
        name: "养犬",
        subject: Subject::Resident,
        sensitivity: Sensitivity::Protected,
        mask_name: false,
        verify_period_days: 365,
        fields: r#"[{"key":"breed","label":"犬种","type":"text","required":true},
                    {"key":"licence_no","label":"犬证号","type":"text"},
                    {"key":"vaccinated_on","label":"免疫日期","type":"date"}]"#,
    },
    BuiltIn {
        code: "elderly_alone",
        name: "独居老人",
        subject: Subject::Resident,
        sensitivity: Sensitivity::Protected,
        mask_name: true,
        verify_period_days: 30,
        fields: r#"[{"key":"health","label":"健康状况","type":"choice","choices":["良好","一般","较差"],"required":true},
                    {"key":"emergency_contact","label":"紧急联系人","type":"text"},
                    {"key":"visit_frequency","label":"走访频次","type":"choice","choices":["每日","每周","每月"]}]"#,
    },
    BuiltIn {
        code: "corrections",
        name: "社区矫正",
        subject: Subject::Resident,
        sensitivity: Sensitivity::Closed,
        mask_name: true,
        verify_period_days: 30,
        fields: r#"[{"key":"term_ends_on","label":"矫正期满","type":"date","required":true},
                    {"key":"officer","label":"矫正负责人","type":"text"}]"#,
    },
    BuiltIn {
        code: "organisations",
        name: "组织机构",
        subject: Subject::None,
        sensitivity: Sensitivity::Open,
        mask_name: false,
        verify_period_days: 365,
        fields: r#"[{"key":"name","label":"名称","type":"text","required":true},
                    {"key":"kind","label":"类别","type":"choice","choices":["托育机构","商铺","企业","社会组织","学校","其他"],"required":true},
                    {"key":"contact_person","label":"负责人","type":"text"},
                    {"key":"member_of_joint_committee","label":"联合党委成员单位","type":"boolean"}]"#,
    },
];

impl BuiltIn {
    /// The parsed field definitions.
    pub fn field_defs(&self) -> Result<Vec<FieldDef>, serde_json::Error> {
        serde_json::from_str(self.fields)
    }
}

#[cfg(test)]
mod built_in_tests {
    use super::*;

    #[test]
    fn built_in_types_are_valid() {
        let mut codes = HashSet::new();
        for t in BUILT_IN {
            let fields = t.field_defs().unwrap_or_else(|e| panic!("{}: {e}", t.code));
            check_fields(&fields).unwrap_or_else(|e| panic!("{}: {e:?}", t.code));
            assert!(codes.insert(t.code));
        }
        assert!(codes.len() >= 9);
    }

    #[test]
    fn built_in_ledgers_about_people_stay_in_the_readers_own_grids() {
        for t in BUILT_IN {
            let personal = t.subject != Subject::None;
            let own_scope = matches!(t.sensitivity, Sensitivity::Protected | Sensitivity::Closed);
            assert!(
                !personal || own_scope,
                "{} is about people yet {:?}",
                t.code,
                t.sensitivity
            );
        }
        let protected: Vec<&str> = BUILT_IN
            .iter()
            .filter(|t| t.sensitivity == Sensitivity::Protected)
            .map(|t| t.code)
            .collect();
        assert_eq!(
            protected,
            [
                "party_members",
                "veterans",
                "low_income",
                "disabled",
                "dogs",
                "elderly_alone"
            ]
        );
    }
}
