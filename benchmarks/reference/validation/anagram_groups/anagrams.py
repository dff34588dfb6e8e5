"""Reference solution for benchmarks/validation/anagram_groups, written from prompt.txt."""


def group_anagrams(words: list[str]) -> list[list[str]]:
    """Groups of anagrams (ignoring case), words as given and in input order."""
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault("".join(sorted(word.lower())), []).append(word)
    return list(groups.values())
