import unittest

from cron_fields import expand_cron_field


class TestExpandCronField(unittest.TestCase):
    def test_star_numbers_and_lists(self):
        self.assertEqual(expand_cron_field("*", 0, 5), [0, 1, 2, 3, 4, 5])
        self.assertEqual(expand_cron_field("7", 0, 59), [7])
        self.assertEqual(expand_cron_field("1,5,3", 0, 59), [1, 3, 5])

    def test_ranges(self):
        self.assertEqual(expand_cron_field("10-13", 0, 59), [10, 11, 12, 13])
        self.assertEqual(expand_cron_field("4-4", 0, 10), [4])
        self.assertEqual(expand_cron_field("1-5,3-7", 1, 12), [1, 2, 3, 4, 5, 6, 7])

    def test_steps(self):
        self.assertEqual(expand_cron_field("*/15", 0, 59), [0, 15, 30, 45])
        self.assertEqual(expand_cron_field("10-30/10", 0, 59), [10, 20, 30])
        self.assertEqual(expand_cron_field("10-35/10", 0, 59), [10, 20, 30])
        self.assertEqual(expand_cron_field("5/20", 0, 59), [5, 25, 45])
        self.assertEqual(expand_cron_field("*/5", 1, 12), [1, 6, 11])
        self.assertEqual(expand_cron_field("*/1", 0, 3), [0, 1, 2, 3])

    def test_items_combined(self):
        self.assertEqual(expand_cron_field("0,*/20,45-47", 0, 59), [0, 20, 40, 45, 46, 47])
        self.assertEqual(expand_cron_field("0,*/30,30", 0, 59), [0, 30])

    def test_invalid_fields_raise(self):
        cases = [("", 0, 59), ("1,,2", 0, 59), ("3,", 0, 59), ("60", 0, 59), ("0", 1, 12), ("5-3", 0, 59),
                 ("1-60", 0, 59), ("*/0", 0, 59), ("*/x", 0, 59), ("*/", 0, 59), ("1-", 0, 59), ("a", 0, 59),
                 ("1 - 5", 0, 59), ("1/2/3", 0, 59), ("**", 0, 59), ("*/-5", 0, 59)]
        for field, low, high in cases:
            with self.subTest(field=field, low=low, high=high):
                with self.assertRaises(ValueError):
                    expand_cron_field(field, low, high)


if __name__ == '__main__':
    unittest.main()
