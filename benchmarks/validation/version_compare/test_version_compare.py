import unittest

from version_compare import compare_versions, latest_version


class TestCompareVersions(unittest.TestCase):
    def test_equal_versions(self):
        self.assertEqual(compare_versions("1.2.3", "1.2.3"), 0)
        self.assertEqual(compare_versions("0.0.0", "0.0.0"), 0)

    def test_numbers_compare_numerically(self):
        self.assertEqual(compare_versions("1.10.0", "1.9.9"), 1)
        self.assertEqual(compare_versions("1.9.9", "1.10.0"), -1)
        self.assertEqual(compare_versions("2.0.0", "10.0.0"), -1)

    def test_each_part_counts_in_order(self):
        self.assertEqual(compare_versions("1.2.4", "1.2.3"), 1)
        self.assertEqual(compare_versions("1.3.0", "1.2.9"), 1)
        self.assertEqual(compare_versions("0.0.1", "0.1.0"), -1)
        self.assertEqual(compare_versions("2.0.0", "1.99.99"), 1)

    def test_invalid_versions_raise(self):
        for bad in ["1.2", "1.2.3.4", "a.b.c", "1.2.-3", "1.2.+3", "", "1..3", " 1.2.3"]:
            with self.subTest(version=bad):
                with self.assertRaises(ValueError):
                    compare_versions(bad, "1.0.0")
                with self.assertRaises(ValueError):
                    compare_versions("1.0.0", bad)

    def test_latest_version(self):
        self.assertEqual(latest_version(["1.2.3", "1.10.0", "1.9.9"]), "1.10.0")
        self.assertEqual(latest_version(["0.1.0"]), "0.1.0")


if __name__ == '__main__':
    unittest.main()
