"""Reference solution for benchmarks/validation/word_wrap, written from prompt.txt."""


def wrap_text(text: str, width: int) -> list[str]:
    """Greedy word wrap into lines of at most width characters; long words get a line of their own."""
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    lines: list[str] = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines
