import unittest

from ipaddress_zero_bits import _count_righthand_zero_bits


class TestIpaddressZeroBits(unittest.TestCase):
    def test_01(self):
        self.assertTrue(_count_righthand_zero_bits(0, 32) == 32)

    def test_02(self):
        self.assertTrue(_count_righthand_zero_bits(8, 32) == 3)

    def test_03(self):
        self.assertTrue(_count_righthand_zero_bits(1, 8) == 0)

    def test_04(self):
        self.assertTrue(_count_righthand_zero_bits(256, 8) == 8)

    def test_05(self):
        self.assertTrue(_count_righthand_zero_bits(12, 32) == 2)


if __name__ == '__main__':
    unittest.main()
