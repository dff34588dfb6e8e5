use std::collections::HashMap;

#[derive(Debug, PartialEq, Eq)]
pub enum ConfigError {
    MissingEquals(usize),
    EmptyKey(usize),
    DuplicateKey(String),
}

/// Parses "key = value" lines, skipping blank lines and "#" comments.
pub fn parse_config(text: &str) -> Result<HashMap<String, String>, ConfigError> {
    let mut config = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or(ConfigError::MissingEquals(line_number))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(ConfigError::EmptyKey(line_number));
        }
        if config.contains_key(key) {
            return Err(ConfigError::DuplicateKey(key.to_string()));
        }
        config.insert(key.to_string(), value.trim().to_string());
    }
    Ok(config)
}
