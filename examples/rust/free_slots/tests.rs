use free_slots::free_slots;

#[test]
fn gaps_between_meetings() {
    assert_eq!(
        free_slots(&[(600, 660), (720, 780)], 540, 1020, 0),
        vec![(540, 600), (660, 720), (780, 1020)]
    );
    assert_eq!(free_slots(&[], 540, 1020, 30), vec![(540, 1020)]);
}

#[test]
fn unsorted_overlapping_and_touching_intervals() {
    assert_eq!(
        free_slots(&[(700, 800), (600, 720), (800, 830), (650, 660)], 540, 1020, 0),
        vec![(540, 600), (830, 1020)]
    );
}

#[test]
fn intervals_outside_the_day_are_clipped() {
    assert_eq!(
        free_slots(&[(480, 560), (1000, 1200), (0, 10), (900, 900)], 540, 1020, 0),
        vec![(560, 1000)]
    );
}

#[test]
fn short_gaps_are_dropped() {
    assert_eq!(
        free_slots(&[(600, 610), (630, 700), (730, 1000)], 540, 1020, 30),
        vec![(540, 600), (700, 730)]
    );
}

#[test]
fn no_free_time() {
    assert_eq!(free_slots(&[(500, 700), (700, 1100)], 540, 1020, 0), vec![]);
    assert_eq!(free_slots(&[], 600, 600, 0), vec![]);
    assert_eq!(free_slots(&[], 700, 600, 0), vec![]);
}
