import unittest

from binary_search import binary_search


class TestBinarySearch(unittest.TestCase):
    def test_found(self):
        items = [1, 3, 5, 7, 9]
        self.assertEqual(binary_search(items, 7), 3)
        self.assertEqual(binary_search(items, 1), 0)
        self.assertEqual(binary_search(items, 9), 4)

    def test_not_found(self):
        items = [1, 3, 5, 7, 9]
        self.assertEqual(binary_search(items, 4), -1)
        self.assertEqual(binary_search(items, 0), -1)
        self.assertEqual(binary_search(items, 10), -1)

    def test_empty_list(self):
        self.assertEqual(binary_search([], 1), -1)

    def test_duplicates_return_first_index(self):
        self.assertEqual(binary_search([1, 2, 2, 2, 3], 2), 1)
        self.assertEqual(binary_search([5, 5, 5, 5], 5), 0)

    def test_large_list(self):
        items = list(range(0, 1_000_000, 2))
        self.assertEqual(binary_search(items, 999_998), 499_999)
        self.assertEqual(binary_search(items, 123_457), -1)


if __name__ == '__main__':
    unittest.main()
