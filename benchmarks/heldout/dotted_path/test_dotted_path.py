import unittest

from dotted_path import get_path, set_path


class TestDottedPath(unittest.TestCase):
    def test_dict_keys(self):
        data = {"a": {"b": {"c": 1}}}
        self.assertEqual(get_path(data, "a.b.c"), 1)
        self.assertEqual(get_path(data, "a.b"), {"c": 1})
        self.assertIs(get_path(data, ""), data)

    def test_list_indexes(self):
        data = {"users": [{"name": "ann"}, {"name": "bob"}], "matrix": [[1, 2], [3, 4]]}
        self.assertEqual(get_path(data, "users.1.name"), "bob")
        self.assertEqual(get_path(data, "users.0"), {"name": "ann"})
        self.assertEqual(get_path(data, "matrix.1.0"), 3)
        self.assertEqual(get_path([10, 20], "1"), 20)

    def test_failed_lookups_give_the_default(self):
        data = {"a": {"b": 1}, "users": [{"name": "ann"}, {"name": "bob"}]}
        self.assertIsNone(get_path(data, "a.x"))
        self.assertEqual(get_path(data, "a.x", 0), 0)
        self.assertEqual(get_path(data, "users.2.name", "?"), "?")
        self.assertEqual(get_path(data, "users.first", "?"), "?")
        self.assertEqual(get_path(data, "users.-1.name", "?"), "?")
        self.assertEqual(get_path(data, "a.b.c", "?"), "?")

    def test_falsy_values_are_found(self):
        data = {"n": 0, "s": "", "none": None}
        self.assertEqual(get_path(data, "n", 5), 0)
        self.assertEqual(get_path(data, "s", "x"), "")
        self.assertIsNone(get_path(data, "none", "x"))

    def test_set_path_creates_dicts(self):
        data = {}
        self.assertIs(set_path(data, "a.b.c", 1), data)
        self.assertEqual(data, {"a": {"b": {"c": 1}}})
        set_path(data, "a.x", 2)
        set_path(data, "a.b.c", 3)
        self.assertEqual(data, {"a": {"b": {"c": 3}, "x": 2}})
        self.assertEqual(set_path({"a": 1}, "a", 5), {"a": 5})

    def test_set_path_errors(self):
        with self.assertRaises(ValueError):
            set_path({}, "", 1)
        with self.assertRaises(TypeError):
            set_path({"a": 1}, "a.b", 2)
        with self.assertRaises(TypeError):
            set_path({"a": [1]}, "a.0", 2)


if __name__ == '__main__':
    unittest.main()
