import unittest

from caesar import decode, encode


class TestCaesar(unittest.TestCase):
    def test_encode(self):
        self.assertEqual(encode("abc", 1), "bcd")
        self.assertEqual(encode("Hello, World!", 3), "Khoor, Zruog!")

    def test_wraps_around_the_alphabet(self):
        self.assertEqual(encode("xyz", 3), "abc")
        self.assertEqual(encode("XYZ", 3), "ABC")

    def test_large_and_negative_shifts(self):
        self.assertEqual(encode("abc", 27), "bcd")
        self.assertEqual(encode("abc", -1), "zab")
        self.assertEqual(encode("Zebra", 52), "Zebra")

    def test_other_characters_unchanged(self):
        self.assertEqual(encode("café 42!", 1), "dbgé 42!")

    def test_decode_undoes_encode(self):
        self.assertEqual(decode("Khoor, Zruog!", 3), "Hello, World!")
        text = "The quick brown fox jumps over the lazy dog."
        for shift in (0, 5, 13, -7, 100):
            self.assertEqual(decode(encode(text, shift), shift), text)


if __name__ == '__main__':
    unittest.main()
