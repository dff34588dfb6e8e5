import unittest

from string_capwords import capwords


class TestStringCapwords(unittest.TestCase):
    def test_01(self):
        self.assertTrue(capwords('hello world') == 'Hello World')

    def test_02(self):
        self.assertTrue(capwords('  a  b ') == 'A B')

    def test_03(self):
        self.assertTrue(capwords('a-b c-d', '-') == 'A-B c-D')

    def test_04(self):
        self.assertTrue(capwords('HELLO') == 'Hello')


if __name__ == '__main__':
    unittest.main()
