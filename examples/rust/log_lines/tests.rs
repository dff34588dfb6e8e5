use std::collections::BTreeMap;

use log_lines::{count_by_level, log_regex, parse_line, LogEntry};
use regex::Regex;

#[test]
fn regex_has_named_groups() {
    let re: Regex = log_regex();
    let caps = re.captures("2024-03-05 14:22:01 [WARN] disk almost full").unwrap();
    assert_eq!(&caps["date"], "2024-03-05");
    assert_eq!(&caps["time"], "14:22:01");
    assert_eq!(&caps["level"], "WARN");
    assert_eq!(&caps["message"], "disk almost full");
}

#[test]
fn regex_matches_whole_lines_only() {
    let re = log_regex();
    assert!(re.is_match("1999-12-31 23:59:59 [DEBUG] x"));
    assert!(!re.is_match("prefix 2024-03-05 14:22:01 [INFO] started"));
    assert!(!re.is_match("2024-03-05 14:22:01 [INFO] "));
    assert!(!re.is_match("2024-03-05 14:22:01 [FATAL] boom"));
    assert!(!re.is_match("24-03-05 14:22:01 [INFO] short year"));
}

#[test]
fn parse_line_returns_the_parts() {
    let entry = parse_line("2024-03-05 09:00:00 [INFO] user [42] logged in").unwrap();
    assert_eq!(
        entry,
        LogEntry {
            date: "2024-03-05".to_string(),
            time: "09:00:00".to_string(),
            level: "INFO".to_string(),
            message: "user [42] logged in".to_string(),
        }
    );
}

#[test]
fn parse_line_rejects_other_lines() {
    assert_eq!(parse_line(""), None);
    assert_eq!(parse_line("hello world"), None);
    assert_eq!(parse_line("2024-03-05 09:00:00 [info] lowercase level"), None);
}

#[test]
fn count_by_level_skips_bad_lines() {
    let lines = [
        "2024-03-05 09:00:00 [INFO] started",
        "2024-03-05 09:00:01 [ERROR] disk full",
        "not a log line",
        "2024-03-05 09:00:02 [ERROR] disk still full",
    ];
    let mut expected = BTreeMap::new();
    expected.insert("ERROR".to_string(), 2);
    expected.insert("INFO".to_string(), 1);
    assert_eq!(count_by_level(&lines), expected);
    assert!(count_by_level(&[]).is_empty());
}
