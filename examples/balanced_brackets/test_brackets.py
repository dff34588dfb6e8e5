import unittest

from brackets import is_balanced


class TestBalancedBrackets(unittest.TestCase):
    def test_balanced(self):
        self.assertTrue(is_balanced("([]{})"))
        self.assertTrue(is_balanced("func(x[0]) { return; }"))

    def test_empty_string_is_balanced(self):
        self.assertTrue(is_balanced(""))

    def test_wrong_nesting(self):
        self.assertFalse(is_balanced("([)]"))

    def test_unclosed_or_unopened(self):
        self.assertFalse(is_balanced("(("))
        self.assertFalse(is_balanced("a(b)c]"))
        self.assertFalse(is_balanced(")("))


if __name__ == '__main__':
    unittest.main()
