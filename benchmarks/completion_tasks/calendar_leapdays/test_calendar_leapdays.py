import unittest

from calendar_leapdays import leapdays


class TestCalendarLeapdays(unittest.TestCase):
    def test_01(self):
        self.assertTrue(leapdays(2000, 2001) == 1)

    def test_02(self):
        self.assertTrue(leapdays(1900, 1901) == 0)

    def test_03(self):
        self.assertTrue(leapdays(2001, 2100) == 24)

    def test_04(self):
        self.assertTrue(leapdays(1, 2001) == 485)

    def test_05(self):
        self.assertTrue(leapdays(2010, 2000) == -3)


if __name__ == '__main__':
    unittest.main()
