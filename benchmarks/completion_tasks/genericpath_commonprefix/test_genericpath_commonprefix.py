import unittest

from genericpath_commonprefix import commonprefix


class TestGenericpathCommonprefix(unittest.TestCase):
    def test_01(self):
        self.assertTrue(commonprefix([]) == '')

    def test_02(self):
        self.assertTrue(commonprefix(['/usr/lib', '/usr/local']) == '/usr/l')

    def test_03(self):
        self.assertTrue(commonprefix(['abc']) == 'abc')

    def test_04(self):
        self.assertTrue(commonprefix(['ab', 'cd']) == '')

    def test_05(self):
        self.assertTrue(commonprefix([['a', 'b'], ['a', 'c']]) == ['a'])


if __name__ == '__main__':
    unittest.main()
