import unittest

from csv_line import parse_csv_line


class TestParseCsvLine(unittest.TestCase):
    def test_simple_fields(self):
        self.assertEqual(parse_csv_line("a,b,c"), ["a", "b", "c"])

    def test_quoted_field_with_comma(self):
        self.assertEqual(parse_csv_line('a,"b,c",d'), ["a", "b,c", "d"])

    def test_escaped_quotes(self):
        self.assertEqual(parse_csv_line('"say ""hi""",x'), ['say "hi"', "x"])

    def test_empty_fields(self):
        self.assertEqual(parse_csv_line("a,,c"), ["a", "", "c"])
        self.assertEqual(parse_csv_line("a,"), ["a", ""])

    def test_spaces_are_kept(self):
        self.assertEqual(parse_csv_line(" a , b "), [" a ", " b "])


if __name__ == '__main__':
    unittest.main()
