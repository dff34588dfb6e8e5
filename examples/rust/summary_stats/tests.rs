use summary_stats::{median, summarize};

#[test]
fn summarize_unsorted_values() {
    assert_eq!(summarize(&[3.0, 1.0, 2.0]), Some((1.0, 3.0, 2.0)));
    assert_eq!(summarize(&[2.0, 9.0, -3.0, 4.0]), Some((-3.0, 9.0, 3.0)));
}

#[test]
fn summarize_single_value() {
    assert_eq!(summarize(&[-4.5]), Some((-4.5, -4.5, -4.5)));
}

#[test]
fn median_of_odd_and_even_counts() {
    assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
    assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    assert_eq!(median(&[7.0]), Some(7.0));
}

#[test]
fn empty_slice_gives_none() {
    assert_eq!(summarize(&[]), None);
    assert_eq!(median(&[]), None);
}
