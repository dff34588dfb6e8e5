import unittest

from ordinals import ordinal


class TestOrdinal(unittest.TestCase):
    def test_first_numbers(self):
        self.assertEqual(ordinal(1), "1st")
        self.assertEqual(ordinal(2), "2nd")
        self.assertEqual(ordinal(3), "3rd")
        self.assertEqual(ordinal(4), "4th")
        self.assertEqual(ordinal(10), "10th")

    def test_eleven_to_thirteen_take_th(self):
        self.assertEqual(ordinal(11), "11th")
        self.assertEqual(ordinal(12), "12th")
        self.assertEqual(ordinal(13), "13th")
        self.assertEqual(ordinal(14), "14th")

    def test_larger_numbers(self):
        self.assertEqual(ordinal(21), "21st")
        self.assertEqual(ordinal(22), "22nd")
        self.assertEqual(ordinal(23), "23rd")
        self.assertEqual(ordinal(101), "101st")
        self.assertEqual(ordinal(111), "111th")
        self.assertEqual(ordinal(112), "112th")
        self.assertEqual(ordinal(213), "213th")
        self.assertEqual(ordinal(1002), "1002nd")

    def test_zero(self):
        self.assertEqual(ordinal(0), "0th")

    def test_negative_raises(self):
        for n in (-1, -11):
            with self.assertRaises(ValueError):
                ordinal(n)


if __name__ == '__main__':
    unittest.main()
