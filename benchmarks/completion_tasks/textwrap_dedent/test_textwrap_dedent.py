import unittest

from textwrap_dedent import dedent


class TestTextwrapDedent(unittest.TestCase):
    def test_01(self):
        self.assertTrue(dedent('  a\n  b\n') == 'a\nb\n')

    def test_02(self):
        self.assertTrue(dedent('  a\n    b\n') == 'a\n  b\n')

    def test_03(self):
        self.assertTrue(dedent('\ta\n  b\n') == '\ta\n  b\n')

    def test_04(self):
        self.assertTrue(dedent('  a\n   \n  b') == 'a\n\nb')

    def test_05(self):
        self.assertTrue(dedent('no indent') == 'no indent')

    def test_06(self):
        self.assertTrue(dedent('    x\n\t  y\n') == '    x\n\t  y\n')


if __name__ == '__main__':
    unittest.main()
