import unittest

from grades import grade_histogram, letter_grade


class TestGrades(unittest.TestCase):
    def test_letter_boundaries(self):
        cases = {100: "A", 90: "A", 89.9: "B", 80: "B", 79.99: "C", 70: "C", 69: "D", 60: "D", 59.5: "F", 0: "F"}
        for score, letter in cases.items():
            with self.subTest(score=score):
                self.assertEqual(letter_grade(score), letter)

    def test_out_of_range_raises(self):
        for score in (-1, -0.5, 100.5, 101):
            with self.subTest(score=score):
                with self.assertRaises(ValueError):
                    letter_grade(score)

    def test_histogram(self):
        histogram = grade_histogram([95, 82, 85, 71, 40, 59, 90])
        self.assertEqual(histogram, {"A": 2, "B": 2, "C": 1, "D": 0, "F": 2})
        self.assertEqual(list(histogram), ["A", "B", "C", "D", "F"])

    def test_empty_histogram(self):
        self.assertEqual(grade_histogram([]), {"A": 0, "B": 0, "C": 0, "D": 0, "F": 0})


if __name__ == '__main__':
    unittest.main()
