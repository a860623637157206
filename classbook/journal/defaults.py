"""Default journal rules, work types and attendance codes for a new school, by country (configurable afterwards)."""

from __future__ import annotations

from decimal import Decimal

from classbook.journal.models import AbsenceReasonKind, AttendanceCode, JournalPolicy, WorkType
from classbook.schools.models import School

WORK_TYPES = [
    # code, Ukrainian name, short, weight, several per lesson, control
    ("current", "Поточна", "", Decimal("1"), True, False),
    ("independent", "Самостійна робота", "С/р", Decimal("1"), False, False),
    ("control", "Контрольна робота", "К/р", Decimal("2"), False, True),
    ("laboratory", "Лабораторна робота", "Л/р", Decimal("1.5"), False, True),
    ("practical", "Практична робота", "П/р", Decimal("1.5"), False, True),
    ("test", "Тестування", "Тест", Decimal("1"), False, False),
    ("notebook", "Зошит", "Зош.", Decimal("0.5"), False, False),
    ("oral", "Усна відповідь", "Усн.", Decimal("1"), False, False),
]

ATTENDANCE_CODES = {
    # code, name, counts as absent, excused, late, kind of reason ("" = none of its own)
    "UA": [("н", "Відсутній", True, False, False, "")],
    "RU": [
        ("н", "Отсутствовал", True, False, False, ""),
        ("б", "Болел", True, True, False, AbsenceReasonKind.ILLNESS),
        ("у", "Уважительная причина", True, True, False, ""),
        ("о", "Опоздал", False, False, True, ""),
    ],
}


def create_journal_defaults(school: School) -> None:
    # The rules' defaults live on the model (16:00 deadline on School, 3 correction days, 3/5 marks, ...).
    JournalPolicy.objects.get_or_create(school=school)
    WorkType.objects.bulk_create(
        WorkType(
            school=school,
            code=code,
            name=name,
            short_name=short,
            weight=weight,
            allows_several=several,
            is_control=control,
            ordinal=i,
        )
        for i, (code, name, short, weight, several, control) in enumerate(WORK_TYPES)
    )
    codes = ATTENDANCE_CODES.get(school.country, ATTENDANCE_CODES["UA"])
    AttendanceCode.objects.bulk_create(
        AttendanceCode(
            school=school,
            code=code,
            name=name,
            counts_as_absent=absent,
            is_excused=excused,
            is_late=late,
            reason_kind=kind,
            ordinal=i,
        )
        for i, (code, name, absent, excused, late, kind) in enumerate(codes)
    )
