import unittest

from ipv4 import is_valid_ipv4


class TestIsValidIPv4(unittest.TestCase):
    def test_valid_addresses(self):
        for address in ["192.168.1.1", "0.0.0.0", "255.255.255.255", "10.0.0.254"]:
            with self.subTest(address=address):
                self.assertIs(is_valid_ipv4(address), True)

    def test_values_out_of_range(self):
        for address in ["256.1.1.1", "1.2.3.300", "999.0.0.1"]:
            with self.subTest(address=address):
                self.assertIs(is_valid_ipv4(address), False)

    def test_wrong_number_of_parts(self):
        for address in ["1.2.3", "1.2.3.4.5", "", "1..2.3", "1.2.3.4."]:
            with self.subTest(address=address):
                self.assertIs(is_valid_ipv4(address), False)

    def test_leading_zeros_and_other_characters(self):
        for address in ["01.2.3.4", "1.2.3.04", "a.b.c.d", " 1.2.3.4", "1.2.3.4 ", "1.2.-3.4", "+1.2.3.4"]:
            with self.subTest(address=address):
                self.assertIs(is_valid_ipv4(address), False)


if __name__ == '__main__':
    unittest.main()
