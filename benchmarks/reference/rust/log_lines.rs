use std::collections::BTreeMap;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub date: String,
    pub time: String,
    pub level: String,
    pub message: String,
}

pub fn log_regex() -> Regex {
    Regex::new(
        r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<time>\d{2}:\d{2}:\d{2}) \[(?P<level>DEBUG|INFO|WARN|ERROR)\] (?P<message>.+)$",
    )
    .expect("the log pattern is valid")
}

pub fn parse_line(line: &str) -> Option<LogEntry> {
    let caps = log_regex().captures(line)?;
    Some(LogEntry {
        date: caps["date"].to_string(),
        time: caps["time"].to_string(),
        level: caps["level"].to_string(),
        message: caps["message"].to_string(),
    })
}

pub fn count_by_level(lines: &[&str]) -> BTreeMap<String, usize> {
    let re = log_regex();
    let mut counts = BTreeMap::new();
    for line in lines {
        if let Some(caps) = re.captures(line) {
            *counts.entry(caps["level"].to_string()).or_insert(0) += 1;
        }
    }
    counts
}
