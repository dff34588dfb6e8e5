import unittest

from lru_cache import LRUCache


class TestLRUCache(unittest.TestCase):
    def test_get_and_put(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        self.assertEqual(cache.get("a"), 1)
        self.assertIsNone(cache.get("b"))
        self.assertEqual(len(cache), 1)

    def test_evicts_least_recently_used(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.put("c", 3)
        self.assertIsNone(cache.get("a"))
        self.assertEqual(cache.get("b"), 2)
        self.assertEqual(cache.get("c"), 3)
        self.assertEqual(len(cache), 2)

    def test_get_counts_as_a_use(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.get("a")
        cache.put("c", 3)
        self.assertEqual(cache.keys(), ["a", "c"])
        self.assertIsNone(cache.get("b"))

    def test_put_existing_key_replaces_and_refreshes(self):
        cache = LRUCache(2)
        cache.put("a", 1)
        cache.put("b", 2)
        cache.put("a", 10)
        self.assertEqual(cache.keys(), ["b", "a"])
        self.assertEqual(len(cache), 2)
        cache.put("c", 3)
        self.assertEqual(cache.keys(), ["a", "c"])
        self.assertEqual(cache.get("a"), 10)

    def test_capacity_must_be_positive(self):
        for capacity in (0, -1):
            with self.assertRaises(ValueError):
                LRUCache(capacity)
        cache = LRUCache(1)
        cache.put(1, "x")
        cache.put(2, "y")
        self.assertEqual(cache.keys(), [2])


if __name__ == '__main__':
    unittest.main()
