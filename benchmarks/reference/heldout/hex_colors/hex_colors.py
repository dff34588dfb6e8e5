HEX = set("0123456789abcdefABCDEF")


def hex_to_rgb(color):
    if not isinstance(color, str) or not color.startswith("#"):
        raise ValueError(color)
    digits = color[1:]
    if len(digits) not in (3, 6) or not set(digits) <= HEX:
        raise ValueError(color)
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))


def rgb_to_hex(red, green, blue):
    for v in (red, green, blue):
        if not 0 <= v <= 255:
            raise ValueError(v)
    return f"#{red:02x}{green:02x}{blue:02x}"
