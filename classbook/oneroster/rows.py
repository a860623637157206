"""A school as OneRoster 1.2 rows: one read model for the CSV export and the REST provider (issue 13).

``build(school)`` returns, per file, a list of dicts keyed by the 1.2 CSV columns (strings, "" for empty),
sorted by sourcedId so a re-export is byte-identical. ``since`` makes a delta: only rows changed after it,
with ``tobedeleted`` for what ended (an enrolment, a role, a student who left, a cleared mark, a past school
year's rows: ``Build.past``). The mapping is described in docs/oneroster.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Max, Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from classbook.journal.models import GradeKind, Mark, PeriodGrade, WorkType
from classbook.oneroster.ids import Ids, format_datetime
from classbook.oneroster.spec import HEADERS
from classbook.people.models import (
    Consent,
    ConsentPurpose,
    Enrolment,
    GuardianLink,
    Membership,
    Role,
    Student,
    User,
)
from classbook.schools.models import (
    AcademicYear,
    PeriodKind,
    ScaleValue,
    School,
    SchoolClass,
    StudyPeriod,
    Subject,
    TeachingAssignment,
)

Row = dict[str, str]

# Classbook's roles as OneRoster roles (roles.csv); "ext:" values are the spec's extension mechanism.
ROLE_OUT = {
    Role.STUDENT: "student",
    Role.PARENT: "parent",
    Role.TEACHER: "teacher",
    Role.DIRECTOR: "principal",
    Role.DEPUTY: "ext:deputy",
    Role.ADMIN: "siteAdministrator",
    Role.SECRETARY: "ext:secretary",
}
ROLE_IN = {v: k for k, v in ROLE_OUT.items()}
ROLE_ORDER = [Role.DIRECTOR, Role.DEPUTY, Role.ADMIN, Role.SECRETARY, Role.TEACHER, Role.STUDENT, Role.PARENT]
SESSION_TYPE = {
    PeriodKind.YEAR: "term",
    PeriodKind.SEMESTER: "semester",
    PeriodKind.HALF: "semester",
    PeriodKind.TRIMESTER: "term",
    PeriodKind.QUARTER: "gradingPeriod",
    PeriodKind.MODULE: "gradingPeriod",
}
SEX = {"m": "male", "f": "female"}
HOMEROOM_COURSE = "homeroom"


def grade(number: int) -> str:
    """A year level as a OneRoster grade (CEDS code: 01-12)."""
    return f"{number:02d}"


def number(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


@dataclass
class Build:
    school: School
    ids: Ids
    since: dt.datetime | None
    today: dt.date = field(default_factory=timezone.localdate)
    files: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))
    _past: set[int] | None = field(default=None, init=False, repr=False)

    def past(self, year_id: int) -> bool:
        """Whether the school year is over: it ended before today and the school has opened a later year (the
        rule of ``records.services.close_ended_years``: until the next year is opened, the ended year's classes
        are still the school's). A past year, its periods and classes, their enrollments and gradebook are not
        active: a bulk package leaves them out, as it leaves out an ended enrolment."""
        if self._past is None:
            years = list(AcademicYear.objects.filter(school=self.school).values_list("pk", "start", "end"))
            self._past = {
                pk for pk, start, end in years if end < self.today and any(later > start for _pk, later, _end in years)
            }
        return year_id in self._past

    def add(self, name: str, row: dict[str, Any], modified: dt.datetime, *, active: bool = True) -> None:
        """Add a row: in bulk only active rows; in a delta only rows modified after ``since``."""
        if self.since is None and not active:
            return
        if self.since is not None and modified <= self.since:
            return
        full = {column: "" for column in HEADERS[name]}
        full.update({k: "" if v is None else str(v) for k, v in row.items()})
        full["status"] = "active" if active else "tobedeleted"
        full["dateLastModified"] = format_datetime(modified)
        self.files[name].append(full)

    @property
    def org(self) -> str:
        return self.ids.org


def build(
    school: School, *, since: dt.datetime | None = None, files: Iterable[str] = tuple(HEADERS)
) -> dict[str, list[Row]]:
    """The school's OneRoster rows per file (``files`` limits what is built: the REST provider asks for one)."""
    wanted = set(files)
    b = Build(school=school, ids=Ids(school), since=since)
    with translation.override(school.language):
        for name, step in STEPS:
            if wanted & set(name):
                step(b)
    return {name: sorted(b.files.get(name, []), key=lambda r: r["sourcedId"]) for name in HEADERS if name in wanted}


# --- rostering ---------------------------------------------------------------------------------------


def _orgs(b: Build) -> None:
    s = b.school
    modified = b.ids.modified("org", "school", b.ids.audit_time("schools.school", s.pk))
    b.add("orgs", {"sourcedId": b.org, "name": s.name, "type": "school", "identifier": s.slug}, modified)


def _sessions(b: Build) -> None:
    years = list(AcademicYear.objects.filter(school=b.school))
    school_year = {y.pk: str(y.end.year) for y in years}
    for y in years:
        key = f"y{y.pk}"
        row = {
            "sourcedId": b.ids.sid("session", key),
            "title": y.name,
            "type": "schoolYear",
            "startDate": y.start,
            "endDate": y.end,
            "schoolYear": school_year[y.pk],
        }
        time = b.ids.audit_time("schools.academicyear", y.pk)
        b.add("academicSessions", row, b.ids.modified("session", key, time), active=not b.past(y.pk))
    for p in StudyPeriod.objects.filter(school=b.school).order_by("year", "start", "-end"):
        key = f"p{p.pk}"
        parent = b.ids.sid("session", f"p{p.parent_id}" if p.parent_id else f"y{p.year_id}")
        row = {
            "sourcedId": b.ids.sid("session", key),
            "title": p.name,
            "type": SESSION_TYPE[PeriodKind(p.kind)],
            "startDate": p.start,
            "endDate": p.end,
            "parentSourcedId": parent,
            "schoolYear": school_year[p.year_id],
        }
        time = b.ids.audit_time("schools.studyperiod", p.pk)
        b.add("academicSessions", row, b.ids.modified("session", key, time), active=not b.past(p.year_id))


def _courses(b: Build) -> None:
    row = {
        "sourcedId": b.ids.sid("course", HOMEROOM_COURSE),
        "title": _("Homeroom class"),
        "courseCode": HOMEROOM_COURSE,
        "orgSourcedId": b.org,
    }
    b.add("courses", row, b.ids.modified("course", HOMEROOM_COURSE))
    for s in Subject.objects.filter(school=b.school):
        key = f"s{s.pk}"
        row = {
            "sourcedId": b.ids.sid("course", key),
            "title": s.name,
            "courseCode": s.short_name,
            "orgSourcedId": b.org,
            "subjects": s.name,
        }
        b.add("courses", row, b.ids.modified("course", key, b.ids.audit_time("schools.subject", s.pk)))


def homeroom_code(c: SchoolClass) -> str:
    return c.name


def _classes(b: Build) -> None:
    classes = SchoolClass.objects.filter(school=b.school).select_related("year_level")
    for c in classes:
        key = f"c{c.pk}"
        row = {
            "sourcedId": b.ids.sid("class", key),
            "title": c.name,
            "grades": grade(c.year_level.number),
            "courseSourcedId": b.ids.sid("course", HOMEROOM_COURSE),
            "classCode": homeroom_code(c),
            "classType": "homeroom",
            "schoolSourcedId": b.org,
            "termSourcedIds": b.ids.sid("session", f"y{c.year_id}"),
        }
        time = b.ids.audit_time("schools.schoolclass", c.pk)
        b.add("classes", row, b.ids.modified("class", key, time), active=not b.past(c.year_id))
    for a in _assignments(b.school):
        key = f"a{a.pk}"
        group = a.school_class.name + (f"/{a.subgroup.name}" if a.subgroup_id and a.subgroup else "")
        row = {
            "sourcedId": b.ids.sid("class", key),
            "title": f"{a.subject.name} — {group}",
            "grades": grade(a.school_class.year_level.number),
            "courseSourcedId": b.ids.sid("course", f"s{a.subject_id}"),
            "classCode": group,
            "classType": "scheduled",
            "schoolSourcedId": b.org,
            "termSourcedIds": b.ids.sid("session", f"y{a.year_id}"),
            "subjects": a.subject.name,
        }
        time = b.ids.audit_time("schools.teachingassignment", a.pk)
        b.add("classes", row, b.ids.modified("class", key, time), active=not b.past(a.year_id))


def _assignments(school: School) -> list[TeachingAssignment]:
    return list(
        TeachingAssignment.objects.filter(school=school).select_related(
            "school_class__year_level",
            "subgroup",
            "subject",
            "scale",
            "subject__scale",
            "school_class__year_level__scale",
        )
    )


@dataclass
class People:
    students: list[Student]
    memberships: list[Membership]
    links: list[GuardianLink]
    users: dict[int, User]


def _people(school: School) -> People:
    students = list(Student.objects.filter(school=school).select_related("user"))
    memberships = list(Membership.objects.filter(school=school).select_related("user"))
    links = list(GuardianLink.objects.filter(school=school, may_see=True))
    users = {s.user_id: s.user for s in students} | {m.user_id: m.user for m in memberships}
    return People(students, memberships, links, users)


def _users(b: Build) -> None:
    people = _people(b.school)
    current = _current_year_levels(b.school)
    agents: dict[int, list[int]] = defaultdict(list)
    user_of_student = {s.pk: s.user_id for s in people.students}
    for link in people.links:
        if link.ended_on is None:
            agents[user_of_student[link.student_id]].append(link.guardian_id)
            agents[link.guardian_id].append(user_of_student[link.student_id])
    student_of = {s.user_id: s for s in people.students}
    active_roles: dict[int, bool] = defaultdict(bool)
    for m in people.memberships:
        active_roles[m.user_id] |= _role_active(m, b.today)
    for user_id, user in people.users.items():
        key = f"u{user_id}"
        student = student_of.get(user_id)
        row = {
            "sourcedId": b.ids.sid("user", key),
            "enabledUser": "true" if user.is_active else "false",
            "username": user.username,
            "givenName": user.first_name,
            "familyName": user.last_name,
            "middleName": user.patronymic,
            "identifier": student.personal_file_number if student else "",
            "email": user.email,
            "phone": student.phone if student else user.phone,  # a student's phone is in their personal file
            "agentSourcedIds": ",".join(sorted(b.ids.sid("user", f"u{a}") for a in set(agents[user_id]))),
            "grades": grade(current[student.pk]) if student and student.pk in current else "",
            "primaryOrgSourcedId": b.org,
        }
        times = [b.ids.audit_time("people.user", user_id)]
        if student:
            times.append(b.ids.audit_time("people.student", student.pk))
        active = active_roles[user_id] and not (student and student.has_left)
        b.add("users", row, b.ids.modified("user", key, *times), active=active)


def _current_year_levels(school: School) -> dict[int, int]:
    today = timezone.localdate()
    rows = Enrolment.objects.filter(school=school, start__lte=today).exclude(end__lt=today)
    return dict(rows.values_list("student_id", "school_class__year_level__number"))


def _roles(b: Build) -> None:
    memberships = sorted(
        Membership.objects.filter(school=b.school), key=lambda m: (m.user_id, ROLE_ORDER.index(Role(m.role)))
    )
    first: set[int] = set()
    for m in memberships:
        key = f"m{m.pk}"
        primary = m.user_id not in first
        first.add(m.user_id)
        row = {
            "sourcedId": b.ids.sid("role", key),
            "userSourcedId": b.ids.sid("user", f"u{m.user_id}"),
            "roleType": "primary" if primary else "secondary",
            "role": ROLE_OUT[Role(m.role)],
            "beginDate": m.since,
            "endDate": m.until or "",
            "orgSourcedId": b.org,
        }
        active = _role_active(m, b.today)
        b.add("roles", row, b.ids.modified("role", key, b.ids.audit_time("people.membership", m.pk)), active=active)


def _enrollment(
    b: Build, key: str, class_sid: str, user_id: int | None, *, enrolment: Enrolment | None = None
) -> dict[str, Any]:
    """One enrollments.csv row: a teacher's (primary, no dates) or, with ``enrolment``, a student's."""
    row: dict[str, Any] = {
        "sourcedId": b.ids.sid("enrollment", key),
        "classSourcedId": class_sid,
        "schoolSourcedId": b.org,
        "userSourcedId": b.ids.sid("user", f"u{user_id}"),
        "role": "teacher" if enrolment is None else "student",
        "primary": "true" if enrolment is None else "false",
    }
    if enrolment is not None:
        row["beginDate"] = enrolment.start
        row["endDate"] = enrolment.end or ""
    return row


def _enrollments(b: Build) -> None:
    enrolments = list(Enrolment.objects.filter(school=b.school).select_related("student"))
    year_of = dict(SchoolClass.objects.filter(school=b.school).values_list("pk", "year_id"))
    by_class: dict[int, list[Enrolment]] = defaultdict(list)
    for e in enrolments:
        by_class[e.school_class_id].append(e)
        key = f"e{e.pk}"
        row = _enrollment(b, key, b.ids.sid("class", f"c{e.school_class_id}"), e.student.user_id, enrolment=e)
        time = b.ids.audit_time("people.student", e.student_id)
        active = _open(e, b.today) and not b.past(year_of[e.school_class_id])
        b.add("enrollments", row, b.ids.modified("enrollment", key, time), active=active)
    # A teacher's enrollment is active while the teacher is (users.csv leaves out a teacher who has left, and a
    # bulk package must not name a user it does not carry) and the class's year is not past.
    staff = _active_staff(b.school, b.today)
    for c in SchoolClass.objects.filter(school=b.school, class_teacher__isnull=False):
        key = f"h{c.pk}"
        row = _enrollment(b, key, b.ids.sid("class", f"c{c.pk}"), c.class_teacher_id)
        time = b.ids.audit_time("schools.schoolclass", c.pk)
        active = c.class_teacher_id in staff and not b.past(c.year_id)
        b.add("enrollments", row, b.ids.modified("enrollment", key, time), active=active)
    subgroup_students = _subgroup_students(b.school)
    for a in _assignments(b.school):
        cls = b.ids.sid("class", f"a{a.pk}")
        time = b.ids.audit_time("schools.teachingassignment", a.pk)
        row = _enrollment(b, f"t{a.pk}", cls, a.teacher_id)
        past = b.past(a.year_id)
        active = a.teacher_id in staff and not past
        b.add("enrollments", row, b.ids.modified("enrollment", f"t{a.pk}", time), active=active)
        members = by_class[a.school_class_id]
        if a.subgroup_id:
            members = [e for e in members if e.student_id in subgroup_students[a.subgroup_id]]
        for e in members:
            key = f"s{a.pk}-{e.pk}"
            row = _enrollment(b, key, cls, e.student.user_id, enrolment=e)
            stamp = b.ids.audit_time("people.student", e.student_id)
            active = _open(e, b.today) and not past
            b.add("enrollments", row, b.ids.modified("enrollment", key, time, stamp), active=active)


def _role_active(m: Membership, today: dt.date) -> bool:
    """A role is active today while it is switched on and has not ended (users.csv, roles.csv, enrollments.csv)."""
    return m.is_active and (m.until is None or m.until >= today)


def _active_staff(school: School, today: dt.date) -> set[int]:
    """The users with an active role in the school today."""
    return {
        m.user_id
        for m in Membership.objects.filter(school=school).only("user", "is_active", "until")
        if _role_active(m, today)
    }


def _open(e: Enrolment, today: dt.date) -> bool:
    return e.end is None or e.end > today


def _subgroup_students(school: School) -> dict[int, set[int]]:
    from classbook.schools.models import Subgroup

    through = Subgroup.students.through
    result: dict[int, set[int]] = defaultdict(set)
    for subgroup_id, student_id in through.objects.filter(subgroup__school=school).values_list(
        "subgroup_id", "student_id"
    ):
        result[subgroup_id].add(student_id)
    return result


def consenting_students(school: School) -> set[int]:
    """Students whose guardian's consent to personal-data processing is in force (R7.4): only they have
    demographics."""
    return set(
        Consent.objects.filter(
            school=school, purpose=ConsentPurpose.PERSONAL_DATA, withdrawn_on__isnull=True
        ).values_list("student_id", flat=True)
    )


def _demographics(b: Build) -> None:
    allowed = consenting_students(b.school)
    for s in Student.objects.filter(school=b.school, pk__in=allowed).select_related("user"):
        key = f"u{s.user_id}"
        row = {"sourcedId": b.ids.sid("user", key), "birthDate": s.birth_date or "", "sex": SEX.get(s.gender, "")}
        b.add("demographics", row, b.ids.modified("user", key, b.ids.audit_time("people.student", s.pk)))


# --- gradebook ---------------------------------------------------------------------------------------


def _categories(b: Build) -> None:
    for w in WorkType.objects.filter(school=b.school):
        key = f"w{w.pk}"
        row = {"sourcedId": b.ids.sid("category", key), "title": w.name, "weight": number(w.weight)}
        b.add("categories", row, b.ids.modified("category", key, b.ids.audit_time("journal.worktype", w.pk)))
    for kind in GradeKind:
        key = f"g{kind.value}"
        b.add(
            "categories",
            {"sourcedId": b.ids.sid("category", key), "title": str(kind.label)},
            b.ids.modified("category", key),
        )


def _scale_bounds(school: School) -> dict[int, tuple[Decimal | None, Decimal | None]]:
    rows = ScaleValue.objects.filter(school=school, numeric__isnull=False).values("scale_id")
    return {r["scale_id"]: (r["lo"], r["hi"]) for r in rows.annotate(lo=Min("numeric"), hi=Max("numeric"))}


def _period_of(periods: list[StudyPeriod], year_id: int, day: dt.date) -> StudyPeriod | None:
    """The innermost period of the year containing ``day`` (a quarter before its half-year)."""
    inside = [p for p in periods if p.year_id == year_id and p.start <= day <= p.end]
    return min(inside, key=lambda p: (p.end - p.start, p.pk)) if inside else None


def _line_items_and_results(b: Build) -> None:
    assignments = {a.pk: a for a in _assignments(b.school)}
    bounds = _scale_bounds(b.school)
    periods = list(StudyPeriod.objects.filter(school=b.school))
    marks = Mark.objects.filter(school=b.school).select_related("lesson", "work_type", "value", "student")
    items: dict[str, tuple[dict[str, Any], list[dt.datetime]]] = {}  # a past year's line items: inactive
    for m in marks.order_by("pk"):
        a = assignments[m.lesson.assignment_id]
        key = f"l{m.lesson_id}-{m.work_type_id}-{m.slot}"
        if key not in items:
            period = _period_of(periods, a.year_id, m.lesson.date)
            lo, hi = bounds.get(getattr(a.effective_scale(), "pk", 0), (None, None))
            items[key] = (
                {
                    "sourcedId": b.ids.sid("lineItem", key),
                    "title": f"{m.work_type.name} {m.lesson.date:%d.%m.%Y}",
                    "description": m.lesson.topic,
                    "assignDate": m.lesson.date,
                    "dueDate": m.lesson.date,
                    "classSourcedId": b.ids.sid("class", f"a{a.pk}"),
                    "categorySourcedId": b.ids.sid("category", f"w{m.work_type_id}"),
                    "gradingPeriodSourcedId": b.ids.sid("session", f"p{period.pk}") if period else "",
                    "resultValueMin": number(lo),
                    "resultValueMax": number(hi),
                    "schoolSourcedId": b.org,
                },
                [m.lesson.updated_at],
            )
        items[key][1].append(m.updated_at)
        value = m.value
        row = {
            "sourcedId": b.ids.sid("result", f"r{m.pk}"),
            "lineItemSourcedId": items[key][0]["sourcedId"],
            "studentSourcedId": b.ids.sid("user", f"u{m.student.user_id}"),
            "scoreStatus": _score_status(value),
            "score": number(value.numeric) if value else "",
            "scoreDate": m.lesson.date,
            "comment": m.comment,
        }
        active = value is not None and not b.past(a.year_id)
        b.add("results", row, b.ids.modified("result", f"r{m.pk}", m.updated_at), active=active)
    grades = PeriodGrade.objects.filter(school=b.school).select_related("period", "value", "student")
    for g in grades.order_by("pk"):
        a = assignments[g.assignment_id]
        key = f"q{g.assignment_id}-{g.period_id}-{g.kind}-{g.ordinal}"
        if key not in items:
            lo, hi = bounds.get(getattr(a.effective_scale(), "pk", 0), (None, None))
            title = f"{GradeKind(g.kind).label}: {g.period.name}" + (f" — {g.title}" if g.title else "")
            items[key] = (
                {
                    "sourcedId": b.ids.sid("lineItem", key),
                    "title": title,
                    "assignDate": g.period.end,
                    "dueDate": g.period.end,
                    "classSourcedId": b.ids.sid("class", f"a{a.pk}"),
                    "categorySourcedId": b.ids.sid("category", f"g{g.kind}"),
                    "gradingPeriodSourcedId": b.ids.sid("session", f"p{g.period_id}"),
                    "resultValueMin": number(lo),
                    "resultValueMax": number(hi),
                    "schoolSourcedId": b.org,
                },
                [],
            )
        changed = max(g.set_at, g.locked_at or g.set_at)
        items[key][1].append(changed)
        row = {
            "sourcedId": b.ids.sid("result", f"v{g.pk}"),
            "lineItemSourcedId": items[key][0]["sourcedId"],
            "studentSourcedId": b.ids.sid("user", f"u{g.student.user_id}"),
            "scoreStatus": _score_status(g.value),
            "score": number(g.value.numeric),
            "scoreDate": timezone.localdate(g.set_at),
        }
        time = b.ids.audit_time("journal.periodgrade", g.pk)
        b.add("results", row, b.ids.modified("result", f"v{g.pk}", changed, time), active=not b.past(a.year_id))
    year_of = {b.ids.sid("class", f"a{a.pk}"): a.year_id for a in assignments.values()}
    for key, (row, times) in items.items():
        active = not b.past(year_of[row["classSourcedId"]])
        b.add("lineItems", row, b.ids.modified("lineItem", key, *times), active=active)


def _score_status(value: ScaleValue | None) -> str:
    if value is None:
        return "not submitted"
    return "fully graded" if value.numeric is not None else "exempt"


STEPS: list[tuple[tuple[str, ...], Callable[[Build], None]]] = [
    (("orgs",), _orgs),
    (("academicSessions",), _sessions),
    (("courses",), _courses),
    (("classes",), _classes),
    (("users",), _users),
    (("roles",), _roles),
    (("enrollments",), _enrollments),
    (("demographics",), _demographics),
    (("categories",), _categories),
    (("lineItems", "results"), _line_items_and_results),
]
