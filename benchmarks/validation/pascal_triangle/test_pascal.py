import unittest

from pascal import pascal_row, pascal_triangle


class TestPascal(unittest.TestCase):
    def test_first_rows(self):
        self.assertEqual(pascal_row(0), [1])
        self.assertEqual(pascal_row(1), [1, 1])
        self.assertEqual(pascal_row(2), [1, 2, 1])
        self.assertEqual(pascal_row(4), [1, 4, 6, 4, 1])

    def test_larger_row(self):
        row = pascal_row(20)
        self.assertEqual(len(row), 21)
        self.assertEqual(row[10], 184756)
        self.assertEqual(sum(row), 2 ** 20)

    def test_triangle(self):
        self.assertEqual(pascal_triangle(4), [[1], [1, 1], [1, 2, 1], [1, 3, 3, 1]])
        self.assertEqual(pascal_triangle(1), [[1]])
        self.assertEqual(pascal_triangle(0), [])

    def test_negative_row_raises(self):
        with self.assertRaises(ValueError):
            pascal_row(-1)


if __name__ == '__main__':
    unittest.main()
