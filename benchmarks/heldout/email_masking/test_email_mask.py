import unittest

from email_mask import mask_email


class TestMaskEmail(unittest.TestCase):
    def test_long_local_part(self):
        self.assertEqual(mask_email("john.doe@example.com"), "j******e@example.com")
        self.assertEqual(mask_email("abc@x.org"), "a*c@x.org")
        self.assertEqual(mask_email("abcd@x.org"), "a**d@x.org")

    def test_short_local_part(self):
        self.assertEqual(mask_email("al@example.com"), "**@example.com")
        self.assertEqual(mask_email("a@b.co"), "*@b.co")

    def test_domain_is_kept_as_it_is(self):
        self.assertEqual(mask_email("Mary.Smith@Mail.Example.COM"), "M********h@Mail.Example.COM")
        self.assertEqual(mask_email("ops+alerts@localhost"), "o********s@localhost")

    def test_invalid_addresses_raise(self):
        for bad in ["no-at-sign", "a@b@c.com", "@example.com", "john@", "@", ""]:
            with self.subTest(email=bad):
                with self.assertRaises(ValueError):
                    mask_email(bad)


if __name__ == '__main__':
    unittest.main()
