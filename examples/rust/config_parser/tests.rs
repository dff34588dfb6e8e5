use std::collections::HashMap;

use config_parser::{parse_config, ConfigError};

#[test]
fn parses_trimmed_keys_and_values() {
    let config = parse_config("name = demo\nport=8080\n  path =  /usr/local/bin  \n").unwrap();
    let mut expected = HashMap::new();
    expected.insert("name".to_string(), "demo".to_string());
    expected.insert("port".to_string(), "8080".to_string());
    expected.insert("path".to_string(), "/usr/local/bin".to_string());
    assert_eq!(config, expected);
}

#[test]
fn skips_comments_and_blank_lines() {
    let config = parse_config("# settings\n\n   \n  # indented comment\nkey=value\n").unwrap();
    assert_eq!(config.len(), 1);
    assert_eq!(config["key"], "value");
    assert!(parse_config("").unwrap().is_empty());
}

#[test]
fn value_may_be_empty_or_contain_equals() {
    let config = parse_config("url = a=b=c\nempty =\n").unwrap();
    assert_eq!(config["url"], "a=b=c");
    assert_eq!(config["empty"], "");
}

#[test]
fn errors_carry_line_numbers() {
    assert_eq!(parse_config("a = 1\n# note\njust text\n"), Err(ConfigError::MissingEquals(3)));
    assert_eq!(parse_config("  = 5"), Err(ConfigError::EmptyKey(1)));
    assert_eq!(
        parse_config("a=1\nb=2\n a = 3"),
        Err(ConfigError::DuplicateKey("a".to_string()))
    );
}

#[test]
fn first_bad_line_wins() {
    assert_eq!(parse_config("a=1\nbad\n=2\na=3"), Err(ConfigError::MissingEquals(2)));
    assert_eq!(parse_config("\n=2\nbad"), Err(ConfigError::EmptyKey(2)));
}
