import unittest

from text_wrap import wrap_text


class TestWrapText(unittest.TestCase):
    def test_greedy_filling(self):
        text = "the quick brown fox jumps over the lazy dog"
        self.assertEqual(wrap_text(text, 10), ["the quick", "brown fox", "jumps over", "the lazy", "dog"])

    def test_line_of_exactly_width_characters(self):
        self.assertEqual(wrap_text("ab cd", 5), ["ab cd"])
        self.assertEqual(wrap_text("ab cd", 4), ["ab", "cd"])

    def test_any_whitespace_separates_words(self):
        self.assertEqual(wrap_text("  one\ttwo\n\nthree  ", 20), ["one two three"])

    def test_long_words_are_not_broken(self):
        self.assertEqual(wrap_text("a extraordinarily b c", 5), ["a", "extraordinarily", "b c"])

    def test_empty_text_and_bad_width(self):
        self.assertEqual(wrap_text("", 10), [])
        self.assertEqual(wrap_text(" \n ", 10), [])
        with self.assertRaises(ValueError):
            wrap_text("abc", 0)


if __name__ == '__main__':
    unittest.main()
