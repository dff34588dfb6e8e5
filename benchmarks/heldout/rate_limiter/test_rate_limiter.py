import unittest

from rate_limiter import RateLimiter


class TestRateLimiter(unittest.TestCase):
    def test_allows_up_to_the_limit(self):
        limiter = RateLimiter(3, 10)
        self.assertTrue(limiter.allow("a", 0))
        self.assertTrue(limiter.allow("a", 1))
        self.assertTrue(limiter.allow("a", 2))
        self.assertFalse(limiter.allow("a", 3))

    def test_the_window_slides(self):
        limiter = RateLimiter(2, 10)
        self.assertTrue(limiter.allow("a", 0))
        self.assertTrue(limiter.allow("a", 5))
        self.assertFalse(limiter.allow("a", 9.5))
        self.assertTrue(limiter.allow("a", 10))
        self.assertFalse(limiter.allow("a", 14))
        self.assertTrue(limiter.allow("a", 15))

    def test_refused_requests_do_not_count(self):
        limiter = RateLimiter(1, 10)
        self.assertTrue(limiter.allow("a", 0))
        self.assertFalse(limiter.allow("a", 5))
        self.assertFalse(limiter.allow("a", 9))
        self.assertTrue(limiter.allow("a", 10))

    def test_keys_are_counted_separately(self):
        limiter = RateLimiter(1, 60)
        self.assertTrue(limiter.allow("ann", 0))
        self.assertTrue(limiter.allow("bob", 0))
        self.assertFalse(limiter.allow("ann", 1))
        self.assertFalse(limiter.allow("bob", 1))
        self.assertTrue(limiter.allow(42, 1))

    def test_invalid_arguments_raise(self):
        for args in [(0, 10), (-1, 10), (5, 0), (5, -2)]:
            with self.subTest(args=args):
                with self.assertRaises(ValueError):
                    RateLimiter(*args)


if __name__ == '__main__':
    unittest.main()
