import unittest

from colorsys_rgb_to_hls import rgb_to_hls


class TestColorsysRgbToHls(unittest.TestCase):
    def test_01(self):
        self.assertTrue(rgb_to_hls(1.0, 0.0, 0.0) == (0.0, 0.5, 1.0))

    def test_02(self):
        self.assertTrue(rgb_to_hls(0.5, 0.5, 0.5) == (0.0, 0.5, 0.0))

    def test_03(self):
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(rgb_to_hls(0.0, 1.0, 0.0), (1/3, 0.5, 1.0))))

    def test_04(self):
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(rgb_to_hls(0.2, 0.4, 0.8), (0.6111111111111112, 0.5, 0.6))))


if __name__ == '__main__':
    unittest.main()
