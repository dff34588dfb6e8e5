import unittest
from datetime import datetime

from how_many_hours import hours_since


class TestHoursSince(unittest.TestCase):
    def test_one_day_is_24_hours(self):
        self.assertEqual(hours_since("2023-01-01:00:00", datetime(2023, 1, 2, 0, 0)), 24.0)

    def test_fractional_hours(self):
        self.assertAlmostEqual(hours_since("2023-05-01:12:30", datetime(2023, 5, 1, 14, 0)), 1.5)

    def test_date_after_now_is_negative(self):
        self.assertEqual(hours_since("2023-01-01:10:00", datetime(2023, 1, 1, 8, 0)), -2.0)

    def test_leap_year(self):
        self.assertEqual(hours_since("2024-02-28:00:00", datetime(2024, 3, 1, 0, 0)), 48.0)

    def test_bad_format_raises_value_error(self):
        with self.assertRaises(ValueError):
            hours_since("2023/01/01 00:00", datetime(2023, 1, 2, 0, 0))


if __name__ == '__main__':
    unittest.main()
