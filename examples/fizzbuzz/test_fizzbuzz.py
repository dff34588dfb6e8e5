import unittest

from fizzbuzz import fizzbuzz


class TestFizzBuzz(unittest.TestCase):
    def test_first_fifteen(self):
        self.assertEqual(
            fizzbuzz(15),
            ["1", "2", "Fizz", "4", "Buzz", "Fizz", "Bazz", "8", "Fizz", "Buzz",
             "11", "Fizz", "13", "Bazz", "FizzBuzz"],
        )

    def test_zero(self):
        self.assertEqual(fizzbuzz(0), [])

    def test_combinations_with_seven(self):
        result = fizzbuzz(105)
        self.assertEqual(len(result), 105)
        self.assertEqual(result[20], "FizzBazz")
        self.assertEqual(result[34], "BuzzBazz")
        self.assertEqual(result[104], "FizzBuzzBazz")


if __name__ == '__main__':
    unittest.main()
