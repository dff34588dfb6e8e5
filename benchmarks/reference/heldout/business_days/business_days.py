import datetime


def _is_business_day(day, holidays):
    return day.weekday() < 5 and day not in holidays


def add_business_days(start, days, holidays=()):
    holidays = set(holidays)
    step = datetime.timedelta(days=1 if days >= 0 else -1)
    current = start
    remaining = abs(days)
    while remaining:
        current += step
        if _is_business_day(current, holidays):
            remaining -= 1
    return current


def business_days_between(start, end, holidays=()):
    holidays = set(holidays)
    count = 0
    current = start
    while current < end:
        current += datetime.timedelta(days=1)
        if _is_business_day(current, holidays):
            count += 1
    return count
