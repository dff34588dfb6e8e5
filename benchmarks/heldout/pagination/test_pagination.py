import unittest

from pagination import page_count, paginate


class TestPagination(unittest.TestCase):
    def test_page_count(self):
        self.assertEqual(page_count(0, 10), 0)
        self.assertEqual(page_count(1, 10), 1)
        self.assertEqual(page_count(10, 10), 1)
        self.assertEqual(page_count(11, 10), 2)
        self.assertEqual(page_count(25, 5), 5)

    def test_first_and_middle_pages(self):
        items = list(range(1, 24))
        self.assertEqual(paginate(items, 1, 5), [1, 2, 3, 4, 5])
        self.assertEqual(paginate(items, 3, 5), [11, 12, 13, 14, 15])
        self.assertEqual(paginate(["a", "b", "c"], 2, 1), ["b"])

    def test_last_page_may_be_short(self):
        items = list(range(1, 24))
        self.assertEqual(paginate(items, 5, 5), [21, 22, 23])
        self.assertEqual(paginate(["a", "b", "c"], 1, 10), ["a", "b", "c"])

    def test_page_after_the_last_is_empty(self):
        items = list(range(1, 24))
        self.assertEqual(paginate(items, 6, 5), [])
        self.assertEqual(paginate(items, 100, 5), [])
        self.assertEqual(paginate([], 1, 10), [])

    def test_invalid_arguments_raise(self):
        with self.assertRaises(ValueError):
            page_count(10, 0)
        with self.assertRaises(ValueError):
            paginate([1, 2, 3], 1, 0)
        with self.assertRaises(ValueError):
            paginate([1, 2, 3], 0, 2)
        with self.assertRaises(ValueError):
            paginate([1, 2, 3], -1, 2)


if __name__ == '__main__':
    unittest.main()
