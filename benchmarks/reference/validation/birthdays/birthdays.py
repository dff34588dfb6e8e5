"""Reference solution for benchmarks/validation/birthdays, written from prompt.txt."""

import calendar
import datetime


def _birthday_in(birth_date: datetime.date, year: int) -> datetime.date:
    """The birthday in that year; February 29 becomes March 1 outside leap years."""
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        return datetime.date(year, 3, 1)
    return birth_date.replace(year=year)


def age_on(birth_date: datetime.date, on_date: datetime.date) -> int:
    """Age in whole years on on_date; it goes up on the birthday itself."""
    if on_date < birth_date:
        raise ValueError("on_date is before birth_date")
    age = on_date.year - birth_date.year
    if on_date < _birthday_in(birth_date, on_date.year):
        age -= 1
    return age


def next_birthday(birth_date: datetime.date, today: datetime.date) -> datetime.date:
    """The first birthday on or after today."""
    birthday = _birthday_in(birth_date, today.year)
    if birthday < today:
        birthday = _birthday_in(birth_date, today.year + 1)
    return birthday
