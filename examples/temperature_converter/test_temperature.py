import unittest

from temperature import TemperatureConverter


class TestTemperatureConverter(unittest.TestCase):
    def setUp(self):
        self.converter = TemperatureConverter()

    def test_celsius_fahrenheit(self):
        self.assertAlmostEqual(self.converter.celsius_to_fahrenheit(100), 212.0)
        self.assertAlmostEqual(self.converter.celsius_to_fahrenheit(-40), -40.0)
        self.assertAlmostEqual(self.converter.fahrenheit_to_celsius(32), 0.0)
        self.assertAlmostEqual(self.converter.fahrenheit_to_celsius(98.6), 37.0)

    def test_celsius_kelvin(self):
        self.assertAlmostEqual(self.converter.celsius_to_kelvin(0), 273.15)
        self.assertAlmostEqual(self.converter.kelvin_to_celsius(0), -273.15)
        self.assertAlmostEqual(self.converter.celsius_to_kelvin(-273.15), 0.0)

    def test_below_absolute_zero_raises_value_error(self):
        with self.assertRaises(ValueError):
            self.converter.celsius_to_fahrenheit(-300)
        with self.assertRaises(ValueError):
            self.converter.fahrenheit_to_celsius(-500)
        with self.assertRaises(ValueError):
            self.converter.celsius_to_kelvin(-274)
        with self.assertRaises(ValueError):
            self.converter.kelvin_to_celsius(-1)


if __name__ == '__main__':
    unittest.main()
