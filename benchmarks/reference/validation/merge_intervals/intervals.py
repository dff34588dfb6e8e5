"""Reference solution for benchmarks/validation/merge_intervals, written from prompt.txt."""

Interval = tuple[float, float]


def merge_intervals(intervals: list[Interval]) -> list[Interval]:
    """Overlapping or touching intervals merged, sorted by start; the input is not modified."""
    for start, end in intervals:
        if start > end:
            raise ValueError(f"interval ({start}, {end}) starts after it ends")
    merged: list[Interval] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
