import unittest

from islands import count_islands, largest_island


class TestIslands(unittest.TestCase):
    def test_single_island(self):
        grid = ["##.", "#..", "..."]
        self.assertEqual(count_islands(grid), 1)
        self.assertEqual(largest_island(grid), 3)

    def test_diagonal_cells_are_separate_islands(self):
        self.assertEqual(count_islands(["#.#", "...", "#.#"]), 4)
        self.assertEqual(count_islands(["#.", ".#"]), 2)
        self.assertEqual(largest_island(["#.", ".#"]), 1)

    def test_winding_island_is_one_island(self):
        grid = ["#.#", "#.#", "###"]
        self.assertEqual(count_islands(grid), 1)
        self.assertEqual(largest_island(grid), 7)

    def test_larger_grid(self):
        grid = [
            "##..#",
            "#...#",
            "..#..",
            "#...#",
            "###.#",
        ]
        self.assertEqual(count_islands(grid), 5)
        self.assertEqual(largest_island(grid), 4)

    def test_no_land(self):
        self.assertEqual(count_islands([]), 0)
        self.assertEqual(count_islands(["...", "..."]), 0)
        self.assertEqual(largest_island([]), 0)
        self.assertEqual(largest_island(["..."]), 0)


if __name__ == '__main__':
    unittest.main()
