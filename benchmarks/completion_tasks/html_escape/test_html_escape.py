import unittest

from html_escape import escape


class TestHtmlEscape(unittest.TestCase):
    def test_01(self):
        self.assertTrue(escape('<a href="x">') == '&lt;a href=&quot;x&quot;&gt;')

    def test_02(self):
        self.assertTrue(escape("it's & me") == 'it&#x27;s &amp; me')

    def test_03(self):
        self.assertTrue(escape('"q"', quote=False) == '"q"')

    def test_04(self):
        self.assertTrue(escape('&lt;') == '&amp;lt;')


if __name__ == '__main__':
    unittest.main()
