import unittest

from word_frequency import top_words, word_counts


class TestWordFrequency(unittest.TestCase):
    def test_counts_are_case_insensitive(self):
        self.assertEqual(
            word_counts("The cat and the hat."), {"the": 2, "cat": 1, "and": 1, "hat": 1}
        )

    def test_punctuation_is_a_separator(self):
        self.assertEqual(word_counts("Hello, hello! HELLO?"), {"hello": 3})

    def test_empty_text(self):
        self.assertEqual(word_counts(""), {})

    def test_top_words_sorted_by_count(self):
        self.assertEqual(top_words("b a c b a b", 2), [("b", 3), ("a", 2)])

    def test_top_words_ties_are_alphabetical(self):
        self.assertEqual(top_words("z y x", 2), [("x", 1), ("y", 1)])


if __name__ == '__main__':
    unittest.main()
