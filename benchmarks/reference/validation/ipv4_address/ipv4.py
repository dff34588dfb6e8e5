"""Reference solution for benchmarks/validation/ipv4_address, written from prompt.txt."""

import re

PART = re.compile(r"0|[1-9][0-9]{0,2}")


def is_valid_ipv4(address: str) -> bool:
    """True for a dotted decimal IPv4 address: four parts 0-255, no leading zeros."""
    if not isinstance(address, str):
        return False
    parts = address.split(".")
    return len(parts) == 4 and all(PART.fullmatch(p) and int(p) <= 255 for p in parts)
