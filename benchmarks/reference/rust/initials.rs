/// The initials of a name: the uppercased first character of every word, each followed by a dot.
pub fn initials(name: &str) -> String {
    name.split(|c: char| c.is_whitespace() || c == '-')
        .filter_map(|word| word.chars().next())
        .map(|first| format!("{}.", first.to_uppercase()))
        .collect()
}
