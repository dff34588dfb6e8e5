import datetime
import unittest

from business_days import add_business_days, business_days_between

D = datetime.date
CHRISTMAS = {D(2024, 12, 25), D(2024, 12, 26)}


class TestBusinessDays(unittest.TestCase):
    def test_within_one_week(self):
        monday = D(2024, 3, 4)
        self.assertEqual(add_business_days(monday, 1), D(2024, 3, 5))
        self.assertEqual(add_business_days(monday, 4), D(2024, 3, 8))
        self.assertEqual(add_business_days(monday, 0), monday)

    def test_weekends_are_skipped(self):
        self.assertEqual(add_business_days(D(2024, 3, 8), 1), D(2024, 3, 11))   # Friday -> Monday
        self.assertEqual(add_business_days(D(2024, 3, 9), 1), D(2024, 3, 11))   # Saturday -> Monday
        self.assertEqual(add_business_days(D(2024, 3, 10), 1), D(2024, 3, 11))  # Sunday -> Monday
        self.assertEqual(add_business_days(D(2024, 3, 4), 10), D(2024, 3, 18))
        self.assertEqual(add_business_days(D(2024, 3, 9), 0), D(2024, 3, 9))

    def test_holidays_are_skipped(self):
        self.assertEqual(add_business_days(D(2024, 12, 24), 1, CHRISTMAS), D(2024, 12, 27))
        self.assertEqual(add_business_days(D(2024, 12, 24), 2, CHRISTMAS), D(2024, 12, 30))
        self.assertEqual(add_business_days(D(2024, 12, 25), 1, CHRISTMAS), D(2024, 12, 27))
        self.assertEqual(add_business_days(D(2024, 3, 8), 1, {D(2024, 3, 9)}), D(2024, 3, 11))
        self.assertEqual(add_business_days(D(2024, 3, 8), 1, [D(2024, 3, 11)]), D(2024, 3, 12))

    def test_negative_days_count_backwards(self):
        self.assertEqual(add_business_days(D(2024, 3, 11), -1), D(2024, 3, 8))
        self.assertEqual(add_business_days(D(2024, 3, 10), -1), D(2024, 3, 8))
        self.assertEqual(add_business_days(D(2024, 3, 18), -10), D(2024, 3, 4))
        self.assertEqual(add_business_days(D(2024, 12, 27), -1, CHRISTMAS), D(2024, 12, 24))

    def test_business_days_between(self):
        self.assertEqual(business_days_between(D(2024, 3, 4), D(2024, 3, 8)), 4)
        self.assertEqual(business_days_between(D(2024, 3, 8), D(2024, 3, 11)), 1)
        self.assertEqual(business_days_between(D(2024, 3, 9), D(2024, 3, 10)), 0)
        self.assertEqual(business_days_between(D(2024, 3, 9), D(2024, 3, 11)), 1)   # Saturday to Monday
        self.assertEqual(business_days_between(D(2024, 3, 4), D(2024, 3, 9)), 4)    # Monday to Saturday
        self.assertEqual(business_days_between(D(2024, 3, 8), D(2024, 3, 8)), 0)
        self.assertEqual(business_days_between(D(2024, 3, 8), D(2024, 3, 1)), 0)
        self.assertEqual(business_days_between(D(2024, 12, 23), D(2024, 12, 31), CHRISTMAS), 4)

    def test_the_two_functions_agree(self):
        for start in (D(2024, 12, 20), D(2024, 12, 22), D(2024, 12, 25)):
            for days in range(30):
                end = add_business_days(start, days, CHRISTMAS)
                self.assertEqual(business_days_between(start, end, CHRISTMAS), days)


if __name__ == '__main__':
    unittest.main()
