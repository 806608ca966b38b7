//! Administrative division codes (GB/T 2260 and their local extensions):
//! district 6 digits, street +3, community +3, grid +3 = the 15-digit grid code.

use thiserror::Error;

/// Levels of the administrative hierarchy, each adding digits to its parent's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 区/旗县: 6 digits.
    District,
    /// 街道/镇: 9 digits.
    Street,
    /// 社区/村: 12 digits.
    Community,
    /// 网格: 15 digits.
    Grid,
}

impl Level {
    /// Number of digits of a full code at this level.
    pub const fn digits(self) -> usize {
        match self {
            Level::District => 6,
            Level::Street => 9,
            Level::Community => 12,
            Level::Grid => 15,
        }
    }
}

/// Why a code was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum CodeError {
    /// Not exactly the level's number of digits (the number carried), or not
    /// all digits.
    #[error("must be exactly {0} digits")]
    Length(usize),
    /// Does not start with the parent's code (carried).
    #[error("must start with its parent's code {0}")]
    Prefix(String),
    /// The digits this level adds are all zeros: `000` names no street,
    /// community or grid.
    #[error("the local part may not be all zeros")]
    ZeroLocal,
}

/// Checks a full code at `level` under `parent_code` (the code of the level above,
/// `None` for a district).
pub fn check_code(level: Level, code: &str, parent_code: Option<&str>) -> Result<(), CodeError> {
    let digits = level.digits();
    if code.len() != digits || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CodeError::Length(digits));
    }
    if let Some(parent) = parent_code {
        let Some(local) = code.strip_prefix(parent) else {
            return Err(CodeError::Prefix(parent.to_owned()));
        };
        if local.bytes().all(|b| b == b'0') {
            return Err(CodeError::ZeroLocal);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_code_extends_community_code() {
        assert_eq!(
            check_code(Level::Grid, "150203001001007", Some("150203001001")),
            Ok(())
        );
        assert_eq!(
            check_code(Level::Grid, "150203001002007", Some("150203001001")),
            Err(CodeError::Prefix("150203001001".into()))
        );
        assert_eq!(
            check_code(Level::Grid, "150203001001000", Some("150203001001")),
            Err(CodeError::ZeroLocal)
        );
        assert_eq!(
            check_code(Level::Grid, "15020300100100", None),
            Err(CodeError::Length(15))
        );
        assert_eq!(
            check_code(Level::District, "15020a", None),
            Err(CodeError::Length(6))
        );
        assert_eq!(check_code(Level::District, "150203", None), Ok(()));
    }
}
