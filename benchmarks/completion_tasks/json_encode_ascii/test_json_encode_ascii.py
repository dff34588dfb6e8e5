import unittest

from json_encode_ascii import py_encode_basestring_ascii


class TestJsonEncodeAscii(unittest.TestCase):
    def test_01(self):
        self.assertTrue(py_encode_basestring_ascii('abc') == '"abc"')

    def test_02(self):
        self.assertTrue(py_encode_basestring_ascii('a"b') == '"a\\"b"')

    def test_03(self):
        self.assertTrue(py_encode_basestring_ascii('é') == '"\\u00e9"')

    def test_04(self):
        self.assertTrue(py_encode_basestring_ascii('\n') == '"\\n"')

    def test_05(self):
        self.assertTrue(py_encode_basestring_ascii('😀') == '"\\ud83d\\ude00"')


if __name__ == '__main__':
    unittest.main()
