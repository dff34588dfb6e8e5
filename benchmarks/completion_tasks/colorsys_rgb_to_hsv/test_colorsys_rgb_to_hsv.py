import unittest

from colorsys_rgb_to_hsv import rgb_to_hsv


class TestColorsysRgbToHsv(unittest.TestCase):
    def test_01(self):
        self.assertTrue(rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0))

    def test_02(self):
        self.assertTrue(rgb_to_hsv(0.0, 0.0, 0.0) == (0.0, 0.0, 0.0))

    def test_03(self):
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(rgb_to_hsv(0.0, 0.0, 1.0), (2/3, 1.0, 1.0))))

    def test_04(self):
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(rgb_to_hsv(0.2, 0.4, 0.8), (0.6111111111111112, 0.75, 0.8))))


if __name__ == '__main__':
    unittest.main()
