"""The diary's compiled queries refuse a builder that derives constants from bound values."""

from __future__ import annotations

import datetime as dt

import pytest

from classbook.core.prepared import Prepared
from classbook.journal.models import Lesson


@pytest.mark.django_db
def test_a_transformed_bound_value_is_refused_not_frozen():
    shifted = Prepared(lambda start: Lesson.objects.filter(date__gte=start - dt.timedelta(days=7)).values_list("pk"))
    with pytest.raises(ValueError, match="derives a constant"):
        shifted.rows(start=dt.date(2026, 11, 23))


@pytest.mark.django_db
def test_plain_bound_values_work_and_change_between_calls():
    q = Prepared(lambda start, n: Lesson.objects.filter(date__gte=start, pk__gt=n).values_list("pk"))
    assert q.rows(start=dt.date(2026, 11, 23), n=0) == []
    assert q.rows(start=dt.date(2020, 1, 1), n=5) == []
