import unittest

from shlex_quote import quote


class TestShlexQuote(unittest.TestCase):
    def test_01(self):
        self.assertTrue(quote('') == "''")

    def test_02(self):
        self.assertTrue(quote('abc') == 'abc')

    def test_03(self):
        self.assertTrue(quote('a b') == "'a b'")

    def test_04(self):
        self.assertTrue(quote("it's") == "'it'\"'\"'s'")

    def test_05(self):
        self.assertTrue(quote('a@b.c-d') == 'a@b.c-d')


if __name__ == '__main__':
    unittest.main()
