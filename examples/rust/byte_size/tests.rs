use byte_size::{format_size, parse_size, SizeError};

#[test]
fn parses_numbers_with_units() {
    assert_eq!(parse_size("7"), Ok(7));
    assert_eq!(parse_size("3B"), Ok(3));
    assert_eq!(parse_size("12 kb"), Ok(12288));
    assert_eq!(parse_size("  2 GB "), Ok(2_147_483_648));
    assert_eq!(parse_size("1 Tb"), Ok(1_099_511_627_776));
}

#[test]
fn empty_and_invalid_numbers() {
    assert_eq!(parse_size(""), Err(SizeError::Empty));
    assert_eq!(parse_size("   "), Err(SizeError::Empty));
    assert_eq!(parse_size("KB"), Err(SizeError::InvalidNumber));
    assert_eq!(parse_size("-5 KB"), Err(SizeError::InvalidNumber));
}

#[test]
fn unknown_units_are_reported_as_written() {
    assert_eq!(parse_size("5 XB"), Err(SizeError::UnknownUnit("XB".to_string())));
    assert_eq!(parse_size("5 k b"), Err(SizeError::UnknownUnit("k b".to_string())));
}

#[test]
fn too_large_sizes_overflow() {
    assert_eq!(parse_size("99999999999999999999"), Err(SizeError::Overflow));
    assert_eq!(parse_size("17179869184 GB"), Err(SizeError::Overflow));
    assert_eq!(parse_size("17179869183 GB"), Ok(18_446_744_072_635_809_792));
}

#[test]
fn formats_sizes_in_the_largest_unit() {
    assert_eq!(format_size(0), "0 B");
    assert_eq!(format_size(1023), "1023 B");
    assert_eq!(format_size(1024), "1.0 KB");
    assert_eq!(format_size(1536), "1.5 KB");
    assert_eq!(format_size(10_485_760), "10.0 MB");
    assert_eq!(format_size(3 * 1_099_511_627_776), "3.0 TB");
}
