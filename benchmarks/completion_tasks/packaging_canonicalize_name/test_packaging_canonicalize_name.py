import unittest

from packaging_canonicalize_name import canonicalize_name, InvalidName


class TestPackagingCanonicalizeName(unittest.TestCase):
    def test_01(self):
        self.assertTrue(canonicalize_name('Django') == 'django')

    def test_02(self):
        self.assertTrue(canonicalize_name('oslo.concurrency') == 'oslo-concurrency')

    def test_03(self):
        self.assertTrue(canonicalize_name('A__B--c..D') == 'a-b-c-d')

    def test_04(self):
        self.assertTrue(canonicalize_name('x', validate=True) == 'x')

    def test_05(self):
        with self.assertRaises(InvalidName):
            canonicalize_name('-bad-', validate=True)


if __name__ == '__main__':
    unittest.main()
