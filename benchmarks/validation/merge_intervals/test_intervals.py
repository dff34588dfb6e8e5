import unittest

from intervals import merge_intervals


class TestMergeIntervals(unittest.TestCase):
    def test_overlapping_intervals(self):
        self.assertEqual(merge_intervals([(1, 3), (2, 6), (8, 10), (15, 18)]), [(1, 6), (8, 10), (15, 18)])

    def test_unsorted_and_contained(self):
        self.assertEqual(merge_intervals([(5, 7), (1, 10), (2, 3)]), [(1, 10)])
        self.assertEqual(merge_intervals([(6, 8), (1, 2), (2.5, 4)]), [(1, 2), (2.5, 4), (6, 8)])

    def test_touching_intervals_are_merged(self):
        self.assertEqual(merge_intervals([(3, 5), (1, 3)]), [(1, 5)])
        self.assertEqual(merge_intervals([(1, 2), (4, 5)]), [(1, 2), (4, 5)])
        self.assertEqual(merge_intervals([(1, 4), (2, 3), (4, 4)]), [(1, 4)])

    def test_empty_and_input_not_modified(self):
        self.assertEqual(merge_intervals([]), [])
        data = [(4, 5), (1, 2)]
        self.assertEqual(merge_intervals(data), [(1, 2), (4, 5)])
        self.assertEqual(data, [(4, 5), (1, 2)])

    def test_start_after_end_raises(self):
        with self.assertRaises(ValueError):
            merge_intervals([(1, 2), (5, 1)])


if __name__ == '__main__':
    unittest.main()
