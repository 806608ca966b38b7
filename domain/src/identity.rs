//! Resident identity data: the 18-digit citizen ID number of GB 11643-1999
//! (check digit, birth date, gender), phone numbers, and derived age.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use utoipa::ToSchema;

/// Gender as encoded in the ID number (17th digit: odd male, even female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Gender {
    /// 男: an odd 17th digit.
    Male,
    /// 女: an even 17th digit.
    Female,
}

impl Gender {
    /// The stable name used in the API and the database.
    pub const fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }

    /// Parses the stable name; `None` for anything else.
    pub fn parse(s: &str) -> Option<Gender> {
        match s {
            "male" => Some(Gender::Male),
            "female" => Some(Gender::Female),
            _ => None,
        }
    }
}

/// A valid ID number with what it encodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdNumber {
    /// Normalised: 18 characters, a trailing `x` upper-cased.
    pub value: String,
    /// The birth date of digits 7-14 (YYYYMMDD), never after the day of parsing.
    pub birth_date: NaiveDate,
    /// The gender of the 17th digit.
    pub gender: Gender,
}

/// Why an ID number was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 17 digits followed by a digit or `X`.
    #[error("must be 18 characters: 17 digits and a check digit (0-9 or X)")]
    Format,
    /// The 18th character is not the GB 11643 check of the first 17.
    #[error("the check digit does not match (GB 11643)")]
    CheckDigit,
    /// Digits 7-14 are no real date, or one in the future or before 1880.
    #[error("the birth date it encodes is not a valid past date")]
    BirthDate,
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

/// The check character for the first 17 digits.
pub fn check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK.get((sum % 11) as usize).copied()
}

/// Validates an ID number; `today` bounds the birth date.
pub fn parse_id_number(raw: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
    let value = raw.trim().to_ascii_uppercase();
    // 18 characters: 17 digits, then the check character.
    let Some((first17, &[check])) = value.as_bytes().split_first_chunk::<17>() else {
        return Err(IdNumberError::Format);
    };
    if !first17.iter().all(u8::is_ascii_digit) || !(check.is_ascii_digit() || check == b'X') {
        return Err(IdNumberError::Format);
    }
    if check_char(first17) != Some(check) {
        return Err(IdNumberError::CheckDigit);
    }
    // 6 digits of region, 8 of birth date (YYYYMMDD), 2 of sequence, then the
    // gender digit: odd for men, even for women.
    let [_, _, _, _, _, _, birth @ .., _, _, gender_digit] = first17;
    let birth_date = std::str::from_utf8(birth)
        .ok()
        .and_then(|birth| NaiveDate::parse_from_str(birth, "%Y%m%d").ok())
        .ok_or(IdNumberError::BirthDate)?;
    if birth_date > today || birth_date.year() < 1880 {
        return Err(IdNumberError::BirthDate);
    }
    let gender = if (gender_digit - b'0') % 2 == 1 {
        Gender::Male
    } else {
        Gender::Female
    };
    Ok(IdNumber {
        value,
        birth_date,
        gender,
    })
}

/// Full years between `birth` and `today`.
pub fn age_on(birth: NaiveDate, today: NaiveDate) -> i32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Normalises a phone number: digits only (a leading `+86` dropped); mobile
/// numbers are 11 digits starting with 1, landlines 7 to 12 digits.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let trimmed = raw.trim();
    let without_country = trimmed.strip_prefix("+86").unwrap_or(trimmed);
    if !without_country
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
    {
        return None;
    }
    let digits: String = without_country
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let mobile = digits.len() == 11 && digits.starts_with('1');
    let landline = (7..=12).contains(&digits.len()) && !digits.starts_with('1');
    (mobile || landline).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 28).unwrap()
    }

    /// Builds a valid number from 17 digits.
    fn with_check(first17: &str) -> String {
        let c = check_char(first17.as_bytes()).unwrap() as char;
        format!("{first17}{c}")
    }

    #[test]
    fn valid_numbers_give_birth_date_and_gender() {
        let id = with_check("15020319650315123");
        let parsed = parse_id_number(&id, today()).unwrap();
        assert_eq!(
            parsed.birth_date,
            NaiveDate::from_ymd_opt(1965, 3, 15).unwrap()
        );
        assert_eq!(parsed.gender, Gender::Male);
        let f = parse_id_number(&with_check("15020319900101002"), today()).unwrap();
        assert_eq!(f.gender, Gender::Female);
        // The published example 11010519491231002X.
        let x = parse_id_number("11010519491231002x", today()).unwrap();
        assert_eq!(x.value, "11010519491231002X");
        assert_eq!(x.gender, Gender::Female);
    }

    #[test]
    fn invalid_numbers_are_refused_with_the_reason() {
        assert_eq!(
            parse_id_number("110105194912310021", today()),
            Err(IdNumberError::CheckDigit)
        );
        assert_eq!(
            parse_id_number("11010519491231002", today()),
            Err(IdNumberError::Format)
        );
        assert_eq!(
            parse_id_number("1.10105194912E+17", today()),
            Err(IdNumberError::Format)
        );
        assert_eq!(
            parse_id_number(&with_check("15020320991231123"), today()),
            Err(IdNumberError::BirthDate)
        );
        assert_eq!(
            parse_id_number(&with_check("15020319650231123"), today()),
            Err(IdNumberError::BirthDate)
        );
    }

    #[test]
    fn age_counts_whole_years() {
        let birth = NaiveDate::from_ymd_opt(1966, 11, 29).unwrap();
        assert_eq!(age_on(birth, today()), 59);
        assert_eq!(
            age_on(birth, NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()),
            60
        );
    }

    #[test]
    fn phones() {
        assert_eq!(
            normalize_phone("+86 138-0013-1234").as_deref(),
            Some("13800131234")
        );
        assert_eq!(
            normalize_phone("0472-5123456").as_deref(),
            Some("04725123456")
        );
        assert_eq!(normalize_phone("12345"), None);
        assert_eq!(normalize_phone("138abc01234"), None);
    }
}
