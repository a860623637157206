"""Marking scales validate marks and map them to levels (R2.5)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from classbook.schools.models import MarkingScale, ScaleKind
from tests.factories import SchoolFactory


@pytest.fixture
def scales(db):
    school = SchoolFactory()
    return {s.kind: s for s in MarkingScale.objects.filter(school=school)}


@pytest.mark.parametrize("bad", ["0", "13", "11+", "10,5", "10.5", "-1", "", "  ", "abc", "1" * 500])
def test_twelve_point_scale_rejects_values_off_the_scale(scales, bad):
    with pytest.raises(ValidationError):
        scales[ScaleKind.TWELVE].parse(bad)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("1", "initial"),
        ("3", "initial"),
        ("4", "average"),
        ("7", "sufficient"),
        ("9", "sufficient"),
        ("10", "high"),
        (" 12 ", "high"),
    ],
)
def test_twelve_point_scale_maps_marks_to_levels(scales, text, level):
    assert scales[ScaleKind.TWELVE].parse(text).level == level


@pytest.mark.parametrize("bad", ["0", "1", "6", "4+", "3,5"])
def test_five_point_scale_rejects_values_off_the_scale_and_one_unless_enabled(scales, bad):
    with pytest.raises(ValidationError):
        scales[ScaleKind.FIVE].parse(bad)


def test_five_point_scale_with_one_enabled_accepts_one(db):
    from classbook.schools.scales import create_standard_scales

    school = SchoolFactory(scales=False, country="RU")
    created = create_standard_scales(school, five_point_with_one=True)
    assert created[ScaleKind.FIVE].parse("1").code == "1"
    school.refresh_from_db()
    assert school.default_scale == created[ScaleKind.FIVE]


@pytest.mark.parametrize("text", ["зар.", "зар", "ЗАР", "зач"])
def test_pass_fail_scale_accepts_both_spellings(scales, text):
    assert scales[ScaleKind.PASS_FAIL].parse(text).code == "зар."


@pytest.mark.parametrize("text", ["н/а", "Н/А", "звільн.", "звільнений"])
def test_special_marks_only_in_period_columns(scales, text):
    scale = scales[ScaleKind.TWELVE]
    with pytest.raises(ValidationError) as err:
        scale.parse(text)
    assert err.value.code == "period_only"
    assert scale.parse(text, period_column=True).level == "special"


def test_scale_error_message_is_translated(scales):
    from django.utils import translation

    with translation.override("uk"), pytest.raises(ValidationError) as err:
        scales[ScaleKind.TWELVE].parse("13")
    assert "13" in err.value.messages[0]
