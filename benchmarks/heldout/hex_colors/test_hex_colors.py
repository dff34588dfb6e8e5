import unittest

from hex_colors import hex_to_rgb, rgb_to_hex


class TestHexColors(unittest.TestCase):
    def test_six_digits(self):
        self.assertEqual(hex_to_rgb("#ff8800"), (255, 136, 0))
        self.assertEqual(hex_to_rgb("#000000"), (0, 0, 0))
        self.assertEqual(hex_to_rgb("#FFFFFF"), (255, 255, 255))
        self.assertEqual(hex_to_rgb("#1a2B3c"), (26, 43, 60))

    def test_three_digits(self):
        self.assertEqual(hex_to_rgb("#f80"), (255, 136, 0))
        self.assertEqual(hex_to_rgb("#FFF"), (255, 255, 255))
        self.assertEqual(hex_to_rgb("#0a9"), (0, 170, 153))

    def test_invalid_strings_raise(self):
        for bad in ["ff8800", "#ff880", "#ff88000", "#12345g", "#", "", "#ff 880", "#+f8800", "#ff88"]:
            with self.subTest(color=bad):
                with self.assertRaises(ValueError):
                    hex_to_rgb(bad)

    def test_rgb_to_hex(self):
        self.assertEqual(rgb_to_hex(255, 136, 0), "#ff8800")
        self.assertEqual(rgb_to_hex(0, 0, 0), "#000000")
        self.assertEqual(rgb_to_hex(1, 2, 3), "#010203")
        self.assertEqual(rgb_to_hex(171, 205, 239), "#abcdef")

    def test_rgb_to_hex_out_of_range_raises(self):
        for values in [(256, 0, 0), (0, -1, 0), (0, 0, 300)]:
            with self.subTest(values=values):
                with self.assertRaises(ValueError):
                    rgb_to_hex(*values)


if __name__ == '__main__':
    unittest.main()
