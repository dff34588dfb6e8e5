import unittest

from usernames import InvalidUsernameError, validate_username


class TestValidateUsername(unittest.TestCase):
    def test_error_is_a_value_error(self):
        self.assertTrue(issubclass(InvalidUsernameError, ValueError))

    def test_valid_names_are_returned(self):
        for name in ["bob", "alice_99", "a1b", "user_name_2", "x" * 16, "admin2"]:
            with self.subTest(name=name):
                self.assertEqual(validate_username(name), name)

    def test_length_limits(self):
        for name in ["", "ab", "x" * 17]:
            with self.subTest(name=name):
                with self.assertRaises(InvalidUsernameError):
                    validate_username(name)

    def test_characters_start_and_end(self):
        for name in ["Bob", "bob smith", "bob-smith", "bób", "9lives", "_bob", "bob_"]:
            with self.subTest(name=name):
                with self.assertRaises(InvalidUsernameError):
                    validate_username(name)

    def test_reserved_names(self):
        for name in ["admin", "root", "system"]:
            with self.subTest(name=name):
                with self.assertRaises(InvalidUsernameError):
                    validate_username(name)


if __name__ == '__main__':
    unittest.main()
