import datetime
import unittest

from month_math import add_months, last_day_of_month

D = datetime.date


class TestMonthMath(unittest.TestCase):
    def test_same_day_of_month(self):
        self.assertEqual(add_months(D(2024, 1, 15), 1), D(2024, 2, 15))
        self.assertEqual(add_months(D(2024, 1, 15), 0), D(2024, 1, 15))
        self.assertEqual(add_months(D(2023, 3, 10), 12), D(2024, 3, 10))

    def test_across_year_ends(self):
        self.assertEqual(add_months(D(2023, 11, 30), 1), D(2023, 12, 30))
        self.assertEqual(add_months(D(2024, 12, 5), 1), D(2025, 1, 5))
        self.assertEqual(add_months(D(2024, 1, 31), -2), D(2023, 11, 30))
        self.assertEqual(add_months(D(2024, 3, 15), -15), D(2022, 12, 15))
        self.assertEqual(add_months(D(2020, 6, 1), 30), D(2022, 12, 1))

    def test_clamps_to_the_end_of_the_month(self):
        self.assertEqual(add_months(D(2023, 1, 31), 1), D(2023, 2, 28))
        self.assertEqual(add_months(D(2024, 1, 31), 1), D(2024, 2, 29))
        self.assertEqual(add_months(D(2024, 3, 31), 1), D(2024, 4, 30))
        self.assertEqual(add_months(D(2024, 2, 29), 12), D(2025, 2, 28))
        self.assertEqual(add_months(D(2023, 11, 30), 3), D(2024, 2, 29))

    def test_last_day_of_month(self):
        self.assertEqual(last_day_of_month(2024, 2), D(2024, 2, 29))
        self.assertEqual(last_day_of_month(2023, 2), D(2023, 2, 28))
        self.assertEqual(last_day_of_month(1900, 2), D(1900, 2, 28))
        self.assertEqual(last_day_of_month(2000, 2), D(2000, 2, 29))
        self.assertEqual(last_day_of_month(2023, 4), D(2023, 4, 30))
        self.assertEqual(last_day_of_month(2023, 12), D(2023, 12, 31))

    def test_invalid_month_raises(self):
        for month in (0, 13):
            with self.subTest(month=month):
                with self.assertRaises(ValueError):
                    last_day_of_month(2024, month)


if __name__ == '__main__':
    unittest.main()
