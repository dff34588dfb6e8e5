import unittest

from graph_search import shortest_path


class TestShortestPath(unittest.TestCase):
    def test_follows_edges(self):
        graph = {"A": ["B"], "B": ["C"], "C": []}
        self.assertEqual(shortest_path(graph, "A", "B"), ["A", "B"])
        self.assertEqual(shortest_path(graph, "A", "C"), ["A", "B", "C"])

    def test_fewest_edges_not_first_found(self):
        graph = {"A": ["B", "E"], "B": ["C"], "C": ["D"], "E": ["D"]}
        self.assertEqual(shortest_path(graph, "A", "D"), ["A", "E", "D"])

    def test_ties_follow_neighbour_order(self):
        graph = {"A": ["C", "B"], "B": ["D"], "C": ["D"]}
        self.assertEqual(shortest_path(graph, "A", "D"), ["A", "C", "D"])

    def test_start_is_goal(self):
        self.assertEqual(shortest_path({}, "A", "A"), ["A"])
        self.assertEqual(shortest_path({"A": ["A"]}, "A", "A"), ["A"])

    def test_unreachable_edges_are_directed_and_cycles(self):
        graph = {"A": ["B"], "B": ["A", "C"], "D": ["A"]}
        self.assertIsNone(shortest_path(graph, "A", "D"))
        self.assertIsNone(shortest_path(graph, "C", "A"))
        self.assertIsNone(shortest_path(graph, "A", "Z"))
        self.assertEqual(shortest_path(graph, "D", "C"), ["D", "A", "B", "C"])


if __name__ == '__main__':
    unittest.main()
