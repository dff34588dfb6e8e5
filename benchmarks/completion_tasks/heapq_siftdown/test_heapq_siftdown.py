import unittest

from heapq_siftdown import _siftdown


class TestHeapqSiftdown(unittest.TestCase):
    def test_01(self):
        self.assertTrue((lambda h: (_siftdown(h, 0, 3), h)[1])([1, 3, 5, 0]) == [0, 1, 5, 3])

    def test_02(self):
        self.assertTrue((lambda h: (_siftdown(h, 0, 2), h)[1])([2, 4, 1]) == [1, 4, 2])

    def test_03(self):
        self.assertTrue((lambda h: (_siftdown(h, 1, 3), h)[1])([0, 5, 9, 1]) == [0, 1, 9, 5])

    def test_04(self):
        self.assertTrue((lambda h: (_siftdown(h, 0, 0), h)[1])([7]) == [7])


if __name__ == '__main__':
    unittest.main()
