import calendar
import datetime


def last_day_of_month(year, month):
    if not 1 <= month <= 12:
        raise ValueError(month)
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def add_months(day, months):
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, last_day_of_month(year, month).day))
