import unittest

from durations import format_duration, parse_duration


class TestDurations(unittest.TestCase):
    def test_parse_single_units(self):
        self.assertEqual(parse_duration("45s"), 45)
        self.assertEqual(parse_duration("2m"), 120)
        self.assertEqual(parse_duration("3h"), 10800)
        self.assertEqual(parse_duration("1d"), 86400)

    def test_parse_combined_units(self):
        self.assertEqual(parse_duration("1h30m"), 5400)
        self.assertEqual(parse_duration("2d4h"), 187200)
        self.assertEqual(parse_duration("1d1h1m1s"), 90061)
        self.assertEqual(parse_duration("90m"), 5400)
        self.assertEqual(parse_duration("0s"), 0)
        self.assertIsInstance(parse_duration("1h30m"), int)

    def test_parse_invalid_raises(self):
        for bad in ["", "10", "5x", "1h 30m", "30m1h", "1h1h", "h", "-5s", "1.5h"]:
            with self.subTest(text=bad):
                with self.assertRaises(ValueError):
                    parse_duration(bad)

    def test_format(self):
        self.assertEqual(format_duration(5400), "1h30m")
        self.assertEqual(format_duration(90061), "1d1h1m1s")
        self.assertEqual(format_duration(0), "0s")
        self.assertEqual(format_duration(59), "59s")
        self.assertEqual(format_duration(86400), "1d")
        self.assertEqual(format_duration(3601), "1h1s")

    def test_round_trip(self):
        for seconds in (1, 61, 3600, 100000, 1234567):
            self.assertEqual(parse_duration(format_duration(seconds)), seconds)


if __name__ == '__main__':
    unittest.main()
