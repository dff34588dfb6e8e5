import unittest

from spreadsheet_columns import column_name, column_number


class TestSpreadsheetColumns(unittest.TestCase):
    def test_single_letters(self):
        self.assertEqual(column_name(1), "A")
        self.assertEqual(column_name(2), "B")
        self.assertEqual(column_name(26), "Z")

    def test_several_letters(self):
        self.assertEqual(column_name(27), "AA")
        self.assertEqual(column_name(28), "AB")
        self.assertEqual(column_name(52), "AZ")
        self.assertEqual(column_name(53), "BA")
        self.assertEqual(column_name(702), "ZZ")
        self.assertEqual(column_name(703), "AAA")
        self.assertEqual(column_name(16384), "XFD")

    def test_column_number(self):
        self.assertEqual(column_number("A"), 1)
        self.assertEqual(column_number("Z"), 26)
        self.assertEqual(column_number("AA"), 27)
        self.assertEqual(column_number("AZ"), 52)
        self.assertEqual(column_number("ZZ"), 702)
        self.assertEqual(column_number("AAA"), 703)
        self.assertEqual(column_number("XFD"), 16384)

    def test_round_trip(self):
        for number in range(1, 2000):
            self.assertEqual(column_number(column_name(number)), number)

    def test_invalid_input_raises(self):
        for number in (0, -3):
            with self.subTest(number=number):
                with self.assertRaises(ValueError):
                    column_name(number)
        for name in ["", "ab", "A1", "A B", "Ä"]:
            with self.subTest(name=name):
                with self.assertRaises(ValueError):
                    column_number(name)


if __name__ == '__main__':
    unittest.main()
