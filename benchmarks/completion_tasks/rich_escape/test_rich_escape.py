import unittest

from rich_escape import escape


class TestRichEscape(unittest.TestCase):
    def test_01(self):
        self.assertTrue(escape('[bold]x[/bold]') == '\\[bold]x\\[/bold]')

    def test_02(self):
        self.assertTrue(escape('no markup') == 'no markup')

    def test_03(self):
        self.assertTrue(escape('a\\') == 'a\\\\')

    def test_04(self):
        self.assertTrue(escape('[1, 2]') == '[1, 2]')


if __name__ == '__main__':
    unittest.main()
