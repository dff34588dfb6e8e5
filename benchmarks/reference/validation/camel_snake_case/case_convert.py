"""Reference solution for benchmarks/validation/camel_snake_case, written from prompt.txt."""


def camel_to_snake(name: str) -> str:
    """camelCase or PascalCase to snake_case; acronyms are one word ("HTMLParser" -> "html_parser")."""
    out: list[str] = []
    for i, char in enumerate(name):
        if char.isupper() and i > 0:
            prev = name[i - 1]
            nxt = name[i + 1] if i + 1 < len(name) else ""
            if prev.islower() or prev.isdigit() or (prev.isupper() and nxt.islower()):
                out.append("_")
        out.append(char.lower())
    return "".join(out)


def snake_to_camel(name: str) -> str:
    """snake_case to camelCase: the first word as it is, later words capitalised, no underscores."""
    first, *rest = name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)
