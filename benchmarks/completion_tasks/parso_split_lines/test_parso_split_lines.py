import unittest

from parso_split_lines import split_lines


class TestParsoSplitLines(unittest.TestCase):
    def test_01(self):
        self.assertTrue(split_lines('') == [''])

    def test_02(self):
        self.assertTrue(split_lines('a\nb') == ['a', 'b'])

    def test_03(self):
        self.assertTrue(split_lines('a\r\nb\n') == ['a', 'b', ''])

    def test_04(self):
        self.assertTrue(split_lines('a\fb\n', keepends=True) == ['a\fb\n', ''])

    def test_05(self):
        self.assertTrue(split_lines('a\rb', keepends=True) == ['a\r', 'b'])


if __name__ == '__main__':
    unittest.main()
