import unittest

from colorsys_hls_to_rgb import hls_to_rgb


class TestColorsysHlsToRgb(unittest.TestCase):
    def test_01(self):
        self.assertTrue(hls_to_rgb(0.0, 0.5, 0.0) == (0.5, 0.5, 0.5))

    def test_02(self):
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(hls_to_rgb(0.0, 0.5, 1.0), (1.0, 0.0, 0.0))))

    def test_03(self):
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(hls_to_rgb(2/3, 0.25, 1.0), (0.0, 0.0, 0.5))))

    def test_04(self):
        self.assertTrue(all(abs(a - b) < 1e-9 for a, b in zip(hls_to_rgb(0.6111111111111112, 0.5, 0.6), (0.2, 0.4, 0.8))))


if __name__ == '__main__':
    unittest.main()
