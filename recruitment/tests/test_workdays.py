import datetime as dt

import pytest

from recruitment.models import HolidayOverride
from recruitment.workdays import add_working_days, is_working_day, working_days_between

D = dt.date


@pytest.mark.django_db
class TestWorkingDays:
    def test_weekend_is_not_a_working_day(self):
        assert is_working_day(D(2025, 3, 14))  # Friday
        assert not is_working_day(D(2025, 3, 15))
        assert not is_working_day(D(2025, 3, 16))

    def test_tet_2025_block_is_off(self):
        # Tết Ất Tỵ: 29/1/2025; the public holiday block runs 25/1 (Sat) to 2/2/2025 (Sun).
        for day in range(25, 32):
            assert not is_working_day(D(2025, 1, day)), day
        assert not is_working_day(D(2025, 2, 1))
        assert not is_working_day(D(2025, 2, 2))
        assert is_working_day(D(2025, 1, 24))
        assert is_working_day(D(2025, 2, 3))

    def test_one_working_day_after_the_friday_before_tet_is_the_monday_after(self):
        assert add_working_days(D(2025, 1, 24), 1) == D(2025, 2, 3)

    def test_thirty_working_days_across_tet_2025(self):
        # From 2/1/2025 (Thu): 16 working days in January before Tết (3, 6-10, 13-17, 20-24/1),
        # nothing from 25/1 to 2/2, then 3-7/2 and 10-14/2 (26) and 17-20/2 (30).
        due = add_working_days(D(2025, 1, 2), 30)
        assert due == D(2025, 2, 20)
        assert working_days_between(D(2025, 1, 2), due) == 30
        assert working_days_between(D(2025, 1, 2), due - dt.timedelta(days=1)) == 29

    def test_sixty_working_days_across_tet_2026(self):
        # Tết Bính Ngọ 17/2/2026: 16..20/2/2026 off.
        start = D(2026, 1, 15)
        due = add_working_days(start, 60)
        assert working_days_between(start, due) == 60
        assert all(not is_working_day(D(2026, 2, d)) for d in range(16, 21))
        naive = start
        n = 0
        while n < 60:  # counting weekends only would end a week earlier
            naive += dt.timedelta(days=1)
            n += naive.weekday() < 5 and naive != D(2026, 1, 1)
        assert due > naive

    def test_national_day_and_reunification_are_off(self):
        assert not is_working_day(D(2025, 9, 2))
        assert not is_working_day(D(2025, 4, 30))

    def test_zero_and_negative(self):
        assert add_working_days(D(2025, 2, 3), 0) == D(2025, 2, 3)
        assert add_working_days(D(2025, 2, 3), -1) == D(2025, 1, 24)
        assert working_days_between(D(2025, 2, 3), D(2025, 1, 24)) == -1

    def test_admin_override_wins_both_ways(self):
        HolidayOverride.objects.create(date=D(2025, 3, 14), is_holiday=True, name="Nghỉ bù")
        HolidayOverride.objects.create(date=D(2025, 3, 15), is_holiday=False, name="Làm bù")
        assert not is_working_day(D(2025, 3, 14))
        assert is_working_day(D(2025, 3, 15))
        assert add_working_days(D(2025, 3, 13), 1) == D(2025, 3, 15)
