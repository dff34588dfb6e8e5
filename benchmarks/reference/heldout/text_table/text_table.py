def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def format_table(headers, rows):
    for row in rows:
        if len(row) != len(headers):
            raise ValueError("row length")
    widths = [max([len(str(h))] + [len(str(row[i])) for row in rows]) for i, h in enumerate(headers)]
    lines = [" | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=False)),
             "-+-".join("-" * w for w in widths)]
    for row in rows:
        lines.append(" | ".join(str(v).rjust(w) if _is_number(v) else str(v).ljust(w) for v, w in zip(row, widths, strict=False)))
    return "\n".join(lines)
