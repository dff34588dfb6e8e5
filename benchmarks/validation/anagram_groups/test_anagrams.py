import unittest

from anagrams import group_anagrams


class TestGroupAnagrams(unittest.TestCase):
    def test_groups_in_order_of_first_appearance(self):
        words = ["listen", "google", "silent", "banana", "enlist", "inlets"]
        self.assertEqual(
            group_anagrams(words),
            [["listen", "silent", "enlist", "inlets"], ["google"], ["banana"]],
        )

    def test_several_groups(self):
        words = ["tan", "eat", "tea", "nat", "bat", "ate"]
        self.assertEqual(group_anagrams(words), [["tan", "nat"], ["eat", "tea", "ate"], ["bat"]])

    def test_case_is_ignored_but_kept(self):
        self.assertEqual(group_anagrams(["Tea", "eat", "ATE", "cat"]), [["Tea", "eat", "ATE"], ["cat"]])

    def test_empty_and_repeated_words(self):
        self.assertEqual(group_anagrams([]), [])
        self.assertEqual(group_anagrams(["a", "b", "a"]), [["a", "a"], ["b"]])


if __name__ == '__main__':
    unittest.main()
