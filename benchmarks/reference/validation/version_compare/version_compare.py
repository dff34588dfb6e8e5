"""Reference solution for benchmarks/validation/version_compare, written from prompt.txt."""

import re

VERSION = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")


def _parse(version: str) -> tuple[int, int, int]:
    match = VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise ValueError(f"not a MAJOR.MINOR.PATCH version: {version!r}")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def compare_versions(a: str, b: str) -> int:
    """-1 if a is older than b, 0 if equal, 1 if a is newer."""
    pa, pb = _parse(a), _parse(b)
    return (pa > pb) - (pa < pb)


def latest_version(versions: list[str]) -> str:
    """The newest version string of a non-empty list."""
    if not versions:
        raise ValueError("no versions given")
    return max(versions, key=_parse)
