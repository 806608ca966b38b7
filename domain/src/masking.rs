//! Masking of sensitive values, as every response and export shows them by
//! default: ID `1***************2X`, phone `138****1234`, name `张*`.

/// Masks an ID number: the first character and the last two stay.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    match chars.as_slice() {
        // At least four characters: one in the middle is always hidden.
        [first, middle @ .., second_last, last] if !middle.is_empty() => {
            let mut out = String::from(*first);
            out.push_str(&"*".repeat(middle.len()));
            out.push(*second_last);
            out.push(*last);
            out
        }
        _ => "*".repeat(chars.len()),
    }
}

/// Masks a phone number: mobiles keep 3 + 4 digits, others the last 4.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if phone.starts_with('1')
        && let [a, b, c, _, _, _, _, w, x, y, z] = chars.as_slice()
    {
        return format!("{a}{b}{c}****{w}{x}{y}{z}");
    }
    match chars.split_last_chunk::<4>() {
        // More than four characters: all but the last four are hidden.
        Some((head, tail)) if !head.is_empty() => {
            let tail: String = tail.iter().collect();
            format!("{}{tail}", "*".repeat(head.len()))
        }
        _ => "*".repeat(chars.len()),
    }
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
