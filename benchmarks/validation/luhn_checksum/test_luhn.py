import unittest

from luhn import luhn_check_digit, luhn_valid


class TestLuhn(unittest.TestCase):
    def test_valid_numbers(self):
        for number in ["4539 3195 0343 6467", "79927398713", "059", "0 0", "18"]:
            with self.subTest(number=number):
                self.assertIs(luhn_valid(number), True)

    def test_invalid_numbers(self):
        for number in ["8273 1232 7352 0569", "79927398710", "81", "4539 3195 0343 6468"]:
            with self.subTest(number=number):
                self.assertIs(luhn_valid(number), False)

    def test_bad_input_is_invalid(self):
        for number in ["0", "", "   ", "4539-3195-0343-6467", "055a", " 0 "]:
            with self.subTest(number=number):
                self.assertIs(luhn_valid(number), False)

    def test_check_digit(self):
        self.assertEqual(luhn_check_digit("7992739871"), 3)
        self.assertEqual(luhn_check_digit("453931950343646"), 7)
        self.assertEqual(luhn_check_digit("1"), 8)
        for partial in ["0", "12345", "98765432"]:
            digit = luhn_check_digit(partial)
            self.assertIsInstance(digit, int)
            self.assertTrue(luhn_valid(partial + str(digit)))


if __name__ == '__main__':
    unittest.main()
