import unittest

from text_splitters_split_regex import _split_text_with_regex


class TestTextSplittersSplitRegex(unittest.TestCase):
    def test_01(self):
        self.assertTrue(_split_text_with_regex('a b  c', ' ', keep_separator=False) == ['a', 'b', 'c'])

    def test_02(self):
        self.assertTrue(_split_text_with_regex('a.b.c', r'\.', keep_separator='end') == ['a.', 'b.', 'c'])

    def test_03(self):
        self.assertTrue(_split_text_with_regex('a.b.c', r'\.', keep_separator=True) == ['a', '.b', '.c'])

    def test_04(self):
        self.assertTrue(_split_text_with_regex('abc', '', keep_separator=False) == ['a', 'b', 'c'])


if __name__ == '__main__':
    unittest.main()
