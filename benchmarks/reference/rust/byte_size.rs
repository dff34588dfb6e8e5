#[derive(Debug, PartialEq, Eq)]
pub enum SizeError {
    Empty,
    InvalidNumber,
    UnknownUnit(String),
    Overflow,
}

const UNITS: [(&str, u64); 4] = [
    ("KB", 1 << 10),
    ("MB", 1 << 20),
    ("GB", 1 << 30),
    ("TB", 1 << 40),
];

/// Parses sizes such as "12 KB" or "7" into bytes (1 KB = 1024 bytes).
pub fn parse_size(text: &str) -> Result<u64, SizeError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(SizeError::Empty);
    }
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    if digits_end == 0 {
        return Err(SizeError::InvalidNumber);
    }
    let number: u64 = text[..digits_end]
        .parse()
        .map_err(|_| SizeError::Overflow)?;
    let unit = text[digits_end..].trim();
    let factor = if unit.is_empty() || unit.eq_ignore_ascii_case("B") {
        1
    } else {
        UNITS
            .iter()
            .find(|(name, _)| unit.eq_ignore_ascii_case(name))
            .map(|&(_, factor)| factor)
            .ok_or_else(|| SizeError::UnknownUnit(unit.to_string()))?
    };
    number.checked_mul(factor).ok_or(SizeError::Overflow)
}

/// Writes a size in the largest fitting unit with one decimal, or in bytes below 1 KB.
pub fn format_size(bytes: u64) -> String {
    match UNITS.iter().rev().find(|&&(_, factor)| bytes >= factor) {
        Some(&(name, factor)) => format!("{:.1} {}", bytes as f64 / factor as f64, name),
        None => format!("{} B", bytes),
    }
}
