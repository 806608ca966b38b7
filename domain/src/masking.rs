//! Masking of sensitive values, as every response and export shows them by
//! default: ID `1***************2X`, phone `138****1234`, name `张*`.

/// Masks an ID number: the first character and the last two stay.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() < 4 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..1].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 3));
    out.extend(&chars[chars.len() - 2..]);
    out
}

/// Masks a phone number: mobiles keep 3 + 4 digits, others the last 4.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() == 11 && phone.starts_with('1') {
        return format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[7..].iter().collect::<String>()
        );
    }
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    format!(
        "{}{}",
        "*".repeat(chars.len() - 4),
        chars[chars.len() - 4..].iter().collect::<String>()
    )
}

/// Masks a name: the first character (the family name) stays.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_match_the_domain_guide() {
        assert_eq!(mask_id_number("11010519491231002X"), "1***************2X");
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("04725123456"), "*******3456");
        assert_eq!(mask_name("张芬"), "张*");
        assert_eq!(mask_name("欧阳修"), "欧**");
        assert_eq!(mask_name("张"), "张*");
    }
}
