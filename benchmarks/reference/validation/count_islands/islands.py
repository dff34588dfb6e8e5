"""Reference solution for benchmarks/validation/count_islands, written from prompt.txt."""


def _island_sizes(grid: list[str]) -> list[int]:
    """The size of every island ("#" cells connected horizontally or vertically)."""
    seen: set[tuple[int, int]] = set()
    sizes: list[int] = []
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell != "#" or (r, c) in seen:
                continue
            seen.add((r, c))
            stack, size = [(r, c)], 0
            while stack:
                y, x = stack.pop()
                size += 1
                for ny, nx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
                    if (0 <= ny < len(grid) and 0 <= nx < len(grid[ny]) and grid[ny][nx] == "#"
                            and (ny, nx) not in seen):
                        seen.add((ny, nx))
                        stack.append((ny, nx))
            sizes.append(size)
    return sizes


def count_islands(grid: list[str]) -> int:
    """How many islands the grid has."""
    return len(_island_sizes(grid))


def largest_island(grid: list[str]) -> int:
    """The number of cells in the biggest island, 0 without land."""
    return max(_island_sizes(grid), default=0)
