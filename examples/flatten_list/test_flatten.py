import unittest

from flatten import flatten


class TestFlatten(unittest.TestCase):
    def test_deeply_nested(self):
        self.assertEqual(flatten([1, [2, [3, [4]]], 5]), [1, 2, 3, 4, 5])

    def test_already_flat(self):
        self.assertEqual(flatten([1, 2, 3]), [1, 2, 3])

    def test_empty_lists(self):
        self.assertEqual(flatten([]), [])
        self.assertEqual(flatten([[], [[]]]), [])

    def test_strings_are_not_split(self):
        self.assertEqual(flatten(["ab", ["cd", ["e"]]]), ["ab", "cd", "e"])


if __name__ == '__main__':
    unittest.main()
