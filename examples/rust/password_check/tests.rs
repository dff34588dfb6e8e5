use password_check::{is_strong, password_problems};

#[test]
fn strong_password_has_no_problems() {
    assert!(password_problems("Secret123").is_empty());
    assert!(is_strong("Secret123"));
}

#[test]
fn problems_are_listed_in_order() {
    assert_eq!(password_problems("abc"), vec!["too short", "no digit", "no uppercase"]);
    assert_eq!(password_problems("PASSWORD1"), vec!["no lowercase"]);
    assert_eq!(password_problems("password"), vec!["no digit", "no uppercase"]);
    assert!(!is_strong("password"));
}

#[test]
fn empty_password_has_every_problem() {
    assert_eq!(
        password_problems(""),
        vec!["too short", "no digit", "no uppercase", "no lowercase"]
    );
    assert!(!is_strong(""));
}

#[test]
fn length_counts_characters_and_letters_may_be_non_ascii() {
    assert!(password_problems("ÄÖÜäöüß1").is_empty());
    assert_eq!(password_problems("Äb1"), vec!["too short"]);
}
