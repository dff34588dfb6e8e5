import unittest

from textwrap_indent import indent


class TestTextwrapIndent(unittest.TestCase):
    def test_01(self):
        self.assertTrue(indent('a\nb\n', '> ') == '> a\n> b\n')

    def test_02(self):
        self.assertTrue(indent('a\n\nb', '  ') == '  a\n\n  b')

    def test_03(self):
        self.assertTrue(indent('a\nb', '+', lambda line: line.startswith('b')) == 'a\n+b')

    def test_04(self):
        self.assertTrue(indent('', 'x') == '')


if __name__ == '__main__':
    unittest.main()
