import unittest
from datetime import date

from birthdays import age_on, next_birthday


class TestBirthdays(unittest.TestCase):
    def test_age_counts_whole_years(self):
        born = date(1990, 5, 15)
        self.assertEqual(age_on(born, date(2020, 5, 14)), 29)
        self.assertEqual(age_on(born, date(2020, 5, 15)), 30)
        self.assertEqual(age_on(born, date(2020, 12, 31)), 30)
        self.assertEqual(age_on(born, born), 0)

    def test_date_before_birth_raises(self):
        with self.assertRaises(ValueError):
            age_on(date(2000, 1, 2), date(2000, 1, 1))

    def test_next_birthday(self):
        born = date(1990, 5, 15)
        self.assertEqual(next_birthday(born, date(2024, 3, 1)), date(2024, 5, 15))
        self.assertEqual(next_birthday(born, date(2024, 5, 15)), date(2024, 5, 15))
        self.assertEqual(next_birthday(born, date(2024, 5, 16)), date(2025, 5, 15))
        self.assertEqual(next_birthday(born, date(2024, 12, 31)), date(2025, 5, 15))

    def test_leap_day_birthday(self):
        born = date(2000, 2, 29)
        self.assertEqual(age_on(born, date(2023, 2, 28)), 22)
        self.assertEqual(age_on(born, date(2023, 3, 1)), 23)
        self.assertEqual(age_on(born, date(2024, 2, 28)), 23)
        self.assertEqual(age_on(born, date(2024, 2, 29)), 24)
        self.assertEqual(next_birthday(born, date(2023, 1, 10)), date(2023, 3, 1))
        self.assertEqual(next_birthday(born, date(2023, 3, 2)), date(2024, 2, 29))


if __name__ == '__main__':
    unittest.main()
