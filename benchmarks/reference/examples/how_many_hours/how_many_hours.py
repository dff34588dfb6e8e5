"""Reference solution for examples/how_many_hours, written from prompt.txt."""

import datetime
import re

FORMAT = "%Y-%m-%d:%H:%M"
SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}")


def hours_since(date_string: str, now: datetime.datetime) -> float:
    """Hours from date_string (YYYY-mm-dd:HH:MM) to now, negative when the date is later."""
    if not isinstance(date_string, str) or not SHAPE.fullmatch(date_string):
        raise ValueError(f"not a YYYY-mm-dd:HH:MM date: {date_string!r}")
    date = datetime.datetime.strptime(date_string, FORMAT)
    return (now - date).total_seconds() / 3600
