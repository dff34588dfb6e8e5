import re


def _number(text, low, high):
    if not text.isdigit():
        raise ValueError(text)
    value = int(text)
    if not low <= value <= high:
        raise ValueError(text)
    return value


def expand_cron_field(field, low, high):
    if not field or not re.fullmatch(r"[0-9*/,-]+", field):
        raise ValueError(field)
    values = set()
    for item in field.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) < 1:
                raise ValueError(item)
            step = int(step_text)
        if base == "*":
            start, end = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = _number(a, low, high), _number(b, low, high)
            if start > end:
                raise ValueError(item)
        else:
            start = _number(base, low, high)
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return sorted(values)
