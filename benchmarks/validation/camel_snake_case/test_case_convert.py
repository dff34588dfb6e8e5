import unittest

from case_convert import camel_to_snake, snake_to_camel


class TestCaseConvert(unittest.TestCase):
    def test_camel_to_snake(self):
        self.assertEqual(camel_to_snake("myVariableName"), "my_variable_name")
        self.assertEqual(camel_to_snake("PascalCase"), "pascal_case")
        self.assertEqual(camel_to_snake("already"), "already")

    def test_acronyms(self):
        self.assertEqual(camel_to_snake("getHTTPResponse"), "get_http_response")
        self.assertEqual(camel_to_snake("HTMLParser"), "html_parser")
        self.assertEqual(camel_to_snake("userID"), "user_id")

    def test_digits(self):
        self.assertEqual(camel_to_snake("version2Beta"), "version2_beta")
        self.assertEqual(camel_to_snake("sha256"), "sha256")

    def test_snake_to_camel(self):
        self.assertEqual(snake_to_camel("user_id"), "userId")
        self.assertEqual(snake_to_camel("parse_http_response"), "parseHttpResponse")
        self.assertEqual(snake_to_camel("name"), "name")

    def test_round_trip(self):
        for name in ["myVariableName", "parseHttpResponse", "x"]:
            self.assertEqual(snake_to_camel(camel_to_snake(name)), name)


if __name__ == '__main__':
    unittest.main()
