import unittest

from matrix_utils import matrix_multiply, transpose


class TestMatrixUtils(unittest.TestCase):
    def test_transpose_rectangular(self):
        self.assertEqual(transpose([[1, 2, 3], [4, 5, 6]]), [[1, 4], [2, 5], [3, 6]])

    def test_transpose_edge_cases(self):
        self.assertEqual(transpose([]), [])
        self.assertEqual(transpose([[7]]), [[7]])

    def test_transpose_does_not_modify_input(self):
        matrix = [[1, 2], [3, 4]]
        self.assertEqual(transpose(matrix), [[1, 3], [2, 4]])
        self.assertEqual(matrix, [[1, 2], [3, 4]])

    def test_multiply(self):
        self.assertEqual(matrix_multiply([[1, 2], [3, 4]], [[5, 6], [7, 8]]), [[19, 22], [43, 50]])
        self.assertEqual(matrix_multiply([[1, 2, 3]], [[4], [5], [6]]), [[32]])

    def test_multiply_shape_mismatch_raises_value_error(self):
        with self.assertRaises(ValueError):
            matrix_multiply([[1, 2]], [[1, 2]])


if __name__ == '__main__':
    unittest.main()
