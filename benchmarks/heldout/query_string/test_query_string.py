import unittest

from query_string import build_query, parse_query


class TestQueryString(unittest.TestCase):
    def test_repeated_names_collect_their_values(self):
        self.assertEqual(parse_query("page=2&tag=python&tag=web"), {"page": ["2"], "tag": ["python", "web"]})
        self.assertEqual(parse_query("a=1"), {"a": ["1"]})

    def test_question_mark_and_empty_pairs(self):
        self.assertEqual(parse_query("?a=1&&b=2&"), {"a": ["1"], "b": ["2"]})
        self.assertEqual(parse_query(""), {})

    def test_missing_and_extra_equals_signs(self):
        self.assertEqual(parse_query("flag&x="), {"flag": [""], "x": [""]})
        self.assertEqual(parse_query("expr=a=b"), {"expr": ["a=b"]})

    def test_decoding(self):
        self.assertEqual(parse_query("q=fish+%26+chips&name=caf%C3%A9"), {"q": ["fish & chips"], "name": ["café"]})
        self.assertEqual(parse_query("my%20key=1"), {"my key": ["1"]})

    def test_build_query(self):
        self.assertEqual(build_query({"page": ["2"], "tag": ["python", "web"]}), "page=2&tag=python&tag=web")
        self.assertEqual(build_query({}), "")

    def test_round_trip(self):
        params = {"q": ["fish & chips"], "name": ["José", "Zoë"], "eq": ["a=b"], "empty": [""], "my key": ["50%+"]}
        self.assertEqual(parse_query(build_query(params)), params)


if __name__ == '__main__':
    unittest.main()
