import unittest

from run_length import rle_decode, rle_encode


class TestRunLength(unittest.TestCase):
    def test_encode(self):
        self.assertEqual(rle_encode("aaabccdddd"), "3a1b2c4d")

    def test_encode_multi_digit_count(self):
        self.assertEqual(rle_encode("a" * 12 + "b"), "12a1b")

    def test_decode(self):
        self.assertEqual(rle_decode("3a1b2c4d"), "aaabccdddd")
        self.assertEqual(rle_decode("10x2 "), "xxxxxxxxxx  ")

    def test_empty_string(self):
        self.assertEqual(rle_encode(""), "")
        self.assertEqual(rle_decode(""), "")

    def test_round_trip(self):
        text = "WWWWWWWWWWWWBWWWWWWWWWWWWBBBWWWWWWWWWWWWWWWWWWWWWWWWBWWWWWWWWWWWWWW"
        self.assertEqual(rle_encode(text), "12W1B12W3B24W1B14W")
        self.assertEqual(rle_decode(rle_encode(text)), text)


if __name__ == '__main__':
    unittest.main()
