from __future__ import annotations

from classbook.core.models import AuditEntry
from classbook.journal.models import AttendanceCode, WorkType
from classbook.schools.models import MarkingScale
from classbook.schools.services import create_school


def test_new_russian_style_school_gets_five_point_default_scale_and_four_attendance_codes(db):
    school = create_school(acting_user=None, slug="school-7", name="Школа № 7", country="RU")
    assert school.default_scale.kind == "5"
    assert MarkingScale.objects.filter(school=school).count() == 4
    assert sorted(AttendanceCode.objects.filter(school=school).values_list("code", flat=True)) == ["б", "н", "о", "у"]
    assert not AttendanceCode.objects.get(school=school, code="о").counts_as_absent
    assert WorkType.objects.filter(school=school, code="control").exists()
    assert AuditEntry.objects.filter(school=school, action="schools.school.created").exists()


def test_new_ukrainian_school_has_twelve_point_scale_and_one_attendance_code(db):
    school = create_school(acting_user=None, slug="lyceum-3", name="Ліцей № 3")
    assert school.default_scale.kind == "12"
    assert list(AttendanceCode.objects.filter(school=school).values_list("code", flat=True)) == ["н"]
