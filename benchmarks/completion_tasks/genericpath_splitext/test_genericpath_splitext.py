import unittest

from genericpath_splitext import _splitext


class TestGenericpathSplitext(unittest.TestCase):
    def test_01(self):
        self.assertTrue(_splitext('a/b.txt', '/', None, '.') == ('a/b', '.txt'))

    def test_02(self):
        self.assertTrue(_splitext('a/.bashrc', '/', None, '.') == ('a/.bashrc', ''))

    def test_03(self):
        self.assertTrue(_splitext('a.b/c', '/', None, '.') == ('a.b/c', ''))

    def test_04(self):
        self.assertTrue(_splitext('x.tar.gz', '/', None, '.') == ('x.tar', '.gz'))

    def test_05(self):
        self.assertTrue(_splitext('c:\\d.e', '\\', '/', '.') == ('c:\\d', '.e'))

    def test_06(self):
        self.assertTrue(_splitext('..', '/', None, '.') == ('..', ''))


if __name__ == '__main__':
    unittest.main()
