use slugify::slugify;

#[test]
fn lowercases_and_joins_words() {
    assert_eq!(slugify("Hello, World!"), "hello-world");
    assert_eq!(slugify("already-a-slug"), "already-a-slug");
}

#[test]
fn runs_of_separators_collapse_and_ends_are_trimmed() {
    assert_eq!(slugify("  Rust 2024: What's new?  "), "rust-2024-what-s-new");
    assert_eq!(slugify("a -- b"), "a-b");
}

#[test]
fn non_ascii_characters_become_separators() {
    assert_eq!(slugify("Crème brûlée"), "cr-me-br-l-e");
}

#[test]
fn titles_without_letters_or_digits_give_empty_slug() {
    assert_eq!(slugify(""), "");
    assert_eq!(slugify("---"), "");
    assert_eq!(slugify("¿?"), "");
}
