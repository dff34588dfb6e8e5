/// The free gaps of at least `min_length` minutes inside [day_start, day_end).
pub fn free_slots(
    busy: &[(u32, u32)],
    day_start: u32,
    day_end: u32,
    min_length: u32,
) -> Vec<(u32, u32)> {
    let mut intervals: Vec<(u32, u32)> = busy
        .iter()
        .map(|&(start, end)| (start.max(day_start), end.min(day_end)))
        .filter(|&(start, end)| start < end)
        .collect();
    intervals.sort_unstable();
    let mut gaps = Vec::new();
    let mut cursor = day_start;
    for (start, end) in intervals {
        if start > cursor {
            gaps.push((cursor, start));
        }
        cursor = cursor.max(end);
    }
    if cursor < day_end {
        gaps.push((cursor, day_end));
    }
    gaps.retain(|&(start, end)| end - start >= min_length);
    gaps
}
