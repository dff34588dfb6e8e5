import unittest

from text_table import format_table


class TestFormatTable(unittest.TestCase):
    def test_text_columns(self):
        table = format_table(["name", "city"], [["Ann", "Oslo"], ["Bartholomew", "Rome"]])
        self.assertEqual(table, "name        | city\n"
                                "------------+-----\n"
                                "Ann         | Oslo\n"
                                "Bartholomew | Rome")

    def test_numbers_are_right_aligned(self):
        table = format_table(["item", "qty", "price"], [["apple", 3, 0.5], ["melon", 12, 2.25]])
        self.assertEqual(table, "item  | qty | price\n"
                                "------+-----+------\n"
                                "apple |   3 |   0.5\n"
                                "melon |  12 |  2.25")

    def test_bools_and_other_values_are_left_aligned_text(self):
        table = format_table(["flag", "n"], [[True, None], [False, 7]])
        self.assertEqual(table, "flag  | n   \n"
                                "------+-----\n"
                                "True  | None\n"
                                "False |    7")

    def test_titles_set_the_width_and_rows_may_be_empty(self):
        self.assertEqual(format_table(["a", "long title"], []), "a | long title\n--+-----------")
        self.assertEqual(format_table(["id", "x"], [[1, "y"]]), "id | x\n---+--\n 1 | y")

    def test_rows_of_the_wrong_length_raise(self):
        with self.assertRaises(ValueError):
            format_table(["a", "b"], [["x"]])
        with self.assertRaises(ValueError):
            format_table(["a", "b"], [["x", "y"], ["x", "y", "z"]])


if __name__ == '__main__':
    unittest.main()
