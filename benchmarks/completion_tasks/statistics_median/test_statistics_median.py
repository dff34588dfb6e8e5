import unittest

from statistics_median import median, StatisticsError


class TestStatisticsMedian(unittest.TestCase):
    def test_01(self):
        self.assertTrue(median([1, 3, 5]) == 3)

    def test_02(self):
        self.assertTrue(median([1, 3, 5, 7]) == 4.0)

    def test_03(self):
        self.assertTrue(median([5, 1, 3]) == 3)

    def test_04(self):
        with self.assertRaises(StatisticsError):
            median([])


if __name__ == '__main__':
    unittest.main()
