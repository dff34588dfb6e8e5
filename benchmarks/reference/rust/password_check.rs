/// The problems of a password, in a fixed order; empty when the password is strong.
pub fn password_problems(password: &str) -> Vec<&'static str> {
    let mut problems = Vec::new();
    if password.chars().count() < 8 {
        problems.push("too short");
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        problems.push("no digit");
    }
    if !password.chars().any(char::is_uppercase) {
        problems.push("no uppercase");
    }
    if !password.chars().any(char::is_lowercase) {
        problems.push("no lowercase");
    }
    problems
}

pub fn is_strong(password: &str) -> bool {
    password_problems(password).is_empty()
}
