import unittest

from rpn import evaluate_rpn


class TestEvaluateRPN(unittest.TestCase):
    def test_simple_expressions(self):
        self.assertEqual(evaluate_rpn("3 4 +"), 7.0)
        self.assertEqual(evaluate_rpn("3 4 + 2 *"), 14.0)
        self.assertEqual(evaluate_rpn("42"), 42.0)
        self.assertIsInstance(evaluate_rpn("3 4 +"), float)

    def test_operand_order(self):
        self.assertEqual(evaluate_rpn("10 4 -"), 6.0)
        self.assertEqual(evaluate_rpn("20 5 /"), 4.0)
        self.assertEqual(evaluate_rpn("7 2 /"), 3.5)

    def test_decimals_negatives_and_longer_expressions(self):
        self.assertEqual(evaluate_rpn("2.5 -3 *"), -7.5)
        self.assertEqual(evaluate_rpn("5 1 2 + 4 * + 3 -"), 14.0)
        self.assertEqual(evaluate_rpn("2 3 4 * 5 - -"), -5.0)

    def test_malformed_expressions_raise_value_error(self):
        for expression in ["", "1 +", "1 2", "1 2 x", "+", "1 2 ^"]:
            with self.subTest(expression=expression):
                with self.assertRaises(ValueError):
                    evaluate_rpn(expression)

    def test_division_by_zero(self):
        with self.assertRaises(ZeroDivisionError):
            evaluate_rpn("1 0 /")


if __name__ == '__main__':
    unittest.main()
