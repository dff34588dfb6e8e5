import unittest

from roman_numerals import from_roman, to_roman


class TestRomanNumerals(unittest.TestCase):
    def test_to_roman(self):
        self.assertEqual(to_roman(4), "IV")
        self.assertEqual(to_roman(58), "LVIII")
        self.assertEqual(to_roman(1994), "MCMXCIV")
        self.assertEqual(to_roman(3999), "MMMCMXCIX")

    def test_from_roman(self):
        self.assertEqual(from_roman("IX"), 9)
        self.assertEqual(from_roman("LVIII"), 58)
        self.assertEqual(from_roman("MCMXCIV"), 1994)

    def test_round_trip(self):
        for n in range(1, 4000):
            self.assertEqual(from_roman(to_roman(n)), n)

    def test_out_of_range_raises_value_error(self):
        with self.assertRaises(ValueError):
            to_roman(0)
        with self.assertRaises(ValueError):
            to_roman(4000)


if __name__ == '__main__':
    unittest.main()
