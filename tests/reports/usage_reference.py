"""The usage report computed independently, in plain Python from the raw rows, day by day (docs/reports.md,
"Usage"): no query of the report's, no interval arithmetic — each day of the week is checked on its own."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from classbook.core.models import AuditEntry
from classbook.diary.models import DiaryView
from classbook.people.models import STAFF_ROLES, Enrolment, GuardianLink, Membership
from classbook.schools.models import SchoolClass, TeachingAssignment


def _account(user) -> bool:
    return user.is_active and user.has_usable_password()


def _days(monday: dt.date) -> list[dt.date]:
    return [monday + dt.timedelta(days=i) for i in range(7)]


def _enrolled(e: Enrolment, day: dt.date) -> bool:
    return e.start <= day and (e.end is None or day <= e.end)


def reference(school, class_ids: list[int], monday: dt.date, *, whole_school: bool) -> dict:
    """{class id or None: (staff, of), (students logged, of), (students viewed, of), (parents logged, of),
    (parents viewed, of)} for one week."""
    days = _days(monday)
    members = {m.user_id for m in Membership.objects.filter(school=school)}
    logged = {
        e.subject_id
        for e in AuditEntry.objects.filter(action="people.login", school=None)
        if e.subject_id in members and timezone.localtime(e.at).date() in days
    }
    views = [v for v in DiaryView.objects.filter(school=school) if v.day in days]
    out = {}
    everyone: dict[str, set] = {"staff": set(), "students": set(), "parents": set(), "pv": set()}
    for class_id in class_ids:
        c = SchoolClass.objects.get(pk=class_id)
        staff = {a.teacher for a in TeachingAssignment.objects.filter(school_class=c)}
        if c.class_teacher:
            staff.add(c.class_teacher)
        staff_ids = {u.pk for u in staff if _account(u)}
        in_class = {e.student for e in Enrolment.objects.filter(school_class=c) if any(_enrolled(e, d) for d in days)}
        students = {s for s in in_class if _account(s.user)}
        student_ids = {s.pk for s in students}
        parents = {
            link.guardian_id
            for link in GuardianLink.objects.filter(student__in=in_class, may_see=True)
            if _account(link.guardian) and (link.ended_on is None or link.ended_on > monday)
        }
        in_class_ids = {s.pk for s in in_class}
        parents_viewed = {
            v.viewer_id for v in views if v.as_parent and v.student_id in in_class_ids and v.viewer_id in parents
        }
        own_viewed = {v.student_id for v in views if not v.as_parent and v.student_id in student_ids}
        out[class_id] = (
            (len(staff_ids & logged), len(staff_ids)),
            (len({s.user_id for s in students} & logged), len(students)),
            (len(own_viewed), len(students)),
            (len(parents & logged), len(parents)),
            (len(parents_viewed), len(parents)),
        )
        everyone["staff"] |= staff_ids
        everyone["students"] |= students
        everyone["parents"] |= parents
        everyone["pv"] |= parents_viewed
    if whole_school:
        everyone["staff"] = {
            m.user_id
            for m in Membership.objects.filter(school=school, is_active=True)
            if m.role in STAFF_ROLES and _account(m.user)
        }
    if whole_school or len(class_ids) > 1:
        s_ids = {s.pk for s in everyone["students"]}
        out[None] = (
            (len(everyone["staff"] & logged), len(everyone["staff"])),
            (len({s.user_id for s in everyone["students"]} & logged), len(s_ids)),
            (len({v.student_id for v in views if not v.as_parent and v.student_id in s_ids}), len(s_ids)),
            (len(everyone["parents"] & logged), len(everyone["parents"])),
            (len(everyone["pv"]), len(everyone["parents"])),
        )
    return out
