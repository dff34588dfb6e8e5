use initials::initials;

#[test]
fn two_words() {
    assert_eq!(initials("ada lovelace"), "A.L.");
    assert_eq!(initials("Alan Turing"), "A.T.");
}

#[test]
fn extra_whitespace_is_ignored() {
    assert_eq!(initials("  grace   brewster\thopper "), "G.B.H.");
}

#[test]
fn hyphens_split_words() {
    assert_eq!(initials("jean-luc picard"), "J.L.P.");
    assert_eq!(initials("mary--jane"), "M.J.");
}

#[test]
fn non_ascii_letters_are_uppercased() {
    assert_eq!(initials("émile zola"), "É.Z.");
}

#[test]
fn empty_name_gives_empty_string() {
    assert_eq!(initials(""), "");
    assert_eq!(initials("   "), "");
}
