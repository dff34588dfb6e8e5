import unittest

from glob_has_magic import has_magic


class TestGlobHasMagic(unittest.TestCase):
    def test_01(self):
        self.assertTrue(has_magic('a*b') is True)

    def test_02(self):
        self.assertTrue(has_magic('abc') is False)

    def test_03(self):
        self.assertTrue(has_magic('[ab]') is True)

    def test_04(self):
        self.assertTrue(has_magic(b'x?') is True)

    def test_05(self):
        self.assertTrue(has_magic(b'plain') is False)


if __name__ == '__main__':
    unittest.main()
