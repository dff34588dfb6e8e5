"""Reference solution for examples/temperature_converter, written from prompt.txt."""

ABSOLUTE_ZERO_C = -273.15
ABSOLUTE_ZERO_F = -459.67


class TemperatureConverter:
    """Conversions between Celsius, Fahrenheit and Kelvin; ValueError below absolute zero."""

    def celsius_to_fahrenheit(self, c: float) -> float:
        if c < ABSOLUTE_ZERO_C:
            raise ValueError(f"{c} Celsius is below absolute zero")
        return float(c * 9 / 5 + 32)

    def fahrenheit_to_celsius(self, f: float) -> float:
        if f < ABSOLUTE_ZERO_F:
            raise ValueError(f"{f} Fahrenheit is below absolute zero")
        return float((f - 32) * 5 / 9)

    def celsius_to_kelvin(self, c: float) -> float:
        if c < ABSOLUTE_ZERO_C:
            raise ValueError(f"{c} Celsius is below absolute zero")
        return float(c - ABSOLUTE_ZERO_C)

    def kelvin_to_celsius(self, k: float) -> float:
        if k < 0:
            raise ValueError(f"{k} Kelvin is below absolute zero")
        return float(k + ABSOLUTE_ZERO_C)
