"""Reference solution for examples/matrix_transpose, written from prompt.txt."""

Matrix = list[list[float]]


def transpose(matrix: Matrix) -> Matrix:
    """The transpose of a list of rows, as a new list of lists."""
    return [list(column) for column in zip(*matrix, strict=True)]


def matrix_multiply(a: Matrix, b: Matrix) -> Matrix:
    """The matrix product a * b; ValueError when a's columns differ from b's rows."""
    columns_a = len(a[0]) if a else 0
    if columns_a != len(b):
        raise ValueError(f"cannot multiply: a has {columns_a} columns, b has {len(b)} rows")
    b_columns = transpose(b)
    return [[sum(x * y for x, y in zip(row, column, strict=True)) for column in b_columns] for row in a]
