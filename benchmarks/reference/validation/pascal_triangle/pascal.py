"""Reference solution for benchmarks/validation/pascal_triangle, written from prompt.txt."""


def pascal_row(n: int) -> list[int]:
    """Row n of Pascal's triangle, counting from 0; ValueError for a negative n."""
    if n < 0:
        raise ValueError(f"row must not be negative, got {n}")
    row = [1]
    for k in range(n):
        row.append(row[k] * (n - k) // (k + 1))
    return row


def pascal_triangle(rows: int) -> list[list[int]]:
    """Rows 0 to rows - 1; ValueError for a negative rows."""
    if rows < 0:
        raise ValueError(f"rows must not be negative, got {rows}")
    return [pascal_row(n) for n in range(rows)]
