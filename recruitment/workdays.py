"""Working days: Monday to Friday, minus Vietnamese public holidays (Tết follows the lunar calendar).

The calendar is the maintained `holidays` package (country "VN"); admins correct it with
`HolidayOverride` rows (a compensatory day off announced late, a make-up working Saturday), which win.
Every legal deadline of DOMAIN.md §4 counts in these days.
"""

import datetime as dt
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

import holidays as holidays_lib

ONE_DAY = dt.timedelta(days=1)


@lru_cache(maxsize=64)
def _official_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays_lib.country_holidays("VN", years=[year]).keys())


# (start, end, overrides, memo) loaded once by `preloaded()` for bulk work (demo, recomputing due dates).
_PRELOADED: ContextVar[tuple[dt.date, dt.date, dict[dt.date, bool], dict] | None] = ContextVar(
    "workdays_preloaded", default=None)


def _overrides(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """Admin corrections in [start, end]: date -> is_holiday. One query per calculation, none when preloaded."""
    from recruitment.models import HolidayOverride

    lo, hi = min(start, end), max(start, end)
    loaded = _PRELOADED.get()
    if loaded is not None and loaded[0] <= lo and hi <= loaded[1]:
        return loaded[2]
    return dict(HolidayOverride.objects.filter(date__range=(lo, hi)).values_list("date", "is_holiday"))


@contextmanager
def preloaded(start: dt.date, end: dt.date):
    """Load the overrides of [start, end] once for many calculations (a bulk job, not a web request)."""
    from recruitment.models import HolidayOverride

    overrides = dict(HolidayOverride.objects.filter(date__range=(start, end)).values_list("date", "is_holiday"))
    token = _PRELOADED.set((start, end, overrides, {}))
    try:
        yield
    finally:
        _PRELOADED.reset(token)


def _is_working(d: dt.date, overrides: dict[dt.date, bool]) -> bool:
    if d in overrides:
        return not overrides[d]
    if d.weekday() >= 5:
        return False
    return d not in _official_holidays(d.year)


def is_working_day(d: dt.date) -> bool:
    return _is_working(d, _overrides(d, d))


def _horizon(start: dt.date, n: int) -> dt.date:
    # Generous upper bound for n working days: weekends plus the longest Tết block fit comfortably.
    return start + dt.timedelta(days=abs(n) * 2 + 30) * (1 if n >= 0 else -1)


def add_working_days(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (start itself not counted); n < 0 walks backwards; n == 0 is start."""
    if n == 0:
        return start
    overrides = _overrides(start, _horizon(start, n))
    loaded = _PRELOADED.get()
    memo = loaded[3] if loaded is not None and overrides is loaded[2] else None
    if memo is not None and (start, n) in memo:
        return memo[(start, n)]
    step = ONE_DAY if n > 0 else -ONE_DAY
    remaining = abs(n)
    day = start
    while remaining:
        day += step
        if _is_working(day, overrides):
            remaining -= 1
    if memo is not None:
        memo[(start, n)] = day
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in (start, end]: add_working_days(start, k) <= end exactly for k <= this. Negative if end < start."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    overrides = _overrides(lo, hi)
    count = 0
    day = lo
    while day < hi:
        day += ONE_DAY
        if _is_working(day, overrides):
            count += 1
    return sign * count
