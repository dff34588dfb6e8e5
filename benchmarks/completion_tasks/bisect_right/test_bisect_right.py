import unittest

from bisect_right import bisect_right


class TestBisectRight(unittest.TestCase):
    def test_01(self):
        self.assertTrue(bisect_right([1, 2, 2, 3], 2) == 3)

    def test_02(self):
        self.assertTrue(bisect_right([], 5) == 0)

    def test_03(self):
        self.assertTrue(bisect_right([1, 2, 3], 0) == 0)

    def test_04(self):
        self.assertTrue(bisect_right([1, 2, 3], 2, lo=2) == 2)

    def test_05(self):
        self.assertTrue(bisect_right([1, 2, 3, 4], 3, 0, 2) == 2)

    def test_06(self):
        self.assertTrue(bisect_right([(1, 'a'), (3, 'b')], 2, key=lambda t: t[0]) == 1)

    def test_07(self):
        with self.assertRaises(ValueError):
            bisect_right([1], 1, lo=-1)


if __name__ == '__main__':
    unittest.main()
