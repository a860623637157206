"""Import a OneRoster 1.2 CSV package (bulk rostering files) into a school, all or nothing (issue 13).

Every object is created through the roster and schools services (audited as usual); the package's sourcedIds
and dateLastModified are kept in ``SourcedId`` so the school exports them again. Any problem anywhere — a
column that does not follow the 1.2 binding, a reference to nothing, a row a service refuses — is reported
per file and row (translated) and nothing is saved. The package's one school org becomes the target school,
which keeps its own org sourcedId (docs/oneroster.md, "Round trip"). Gradebook files are not imported.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from classbook.core.audit import log_action
from classbook.core.errors import DomainError
from classbook.oneroster import csvzip, spec
from classbook.oneroster.models import SourcedId
from classbook.oneroster.rows import HOMEROOM_COURSE, ROLE_IN
from classbook.people.models import STAFF_ROLES, Enrolment, Membership, Role, Student, User
from classbook.roster import services as roster
from classbook.schools import services as schools
from classbook.schools.models import (
    AcademicYear,
    PeriodKind,
    School,
    SchoolClass,
    StudyPeriod,
    Subgroup,
    Subject,
    TeachingAssignment,
    YearLevel,
)

Row = dict[str, str]


@dataclass(frozen=True)
class RowError:
    file: str
    row: int  # 2 = the first data row
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"file": f"{self.file}.csv", "row": self.row, "message": self.message}


class ImportRefused(DomainError):
    """The package was refused; ``errors`` says where and why. Nothing was saved."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(_("The OneRoster import was refused: nothing was saved."), code="import_refused")
        self.errors = errors
        self.extra = {"rows": [e.as_dict() for e in errors]}


@dataclass
class ImportResult:
    counts: dict[str, int]


@dataclass
class _Import:
    school: School
    actor: User
    files: dict[str, list[Row]]
    line: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, sourcedId) -> row number
    errors: list[RowError] = field(default_factory=list)
    recorded: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (kind, key) -> (id, date)
    sessions: dict[str, AcademicYear | StudyPeriod] = field(default_factory=dict)
    courses: dict[str, Subject | None] = field(default_factory=dict)
    classes: dict[str, SchoolClass | TeachingAssignment] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    students: dict[str, Student] = field(default_factory=dict)

    def error(self, file: str, sourced_id: str, message: str) -> None:
        self.errors.append(RowError(file, self.line.get((file, sourced_id), 0), message))

    def record(self, kind: str, key: object, row: Row) -> None:
        self.recorded[(kind, str(key))] = (row["sourcedId"], row["dateLastModified"])

    def rows(self, name: str) -> list[Row]:
        return self.files.get(name, [])


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    if isinstance(exc, DomainError):
        return str(exc.message)
    raise exc


def import_package(*, acting_user: User, school: School, data: bytes) -> ImportResult:
    """Read, check and apply a package; raise ``ImportRefused`` with per-row errors (nothing saved)."""
    raw = csvzip.read_zip(data)
    problems = spec.check_package(raw)
    if problems:
        raise ImportRefused([_structure_error(p) for p in problems[:200]])
    files = {n: [dict(zip(rows[0], r, strict=True)) for r in rows[1:]] for n, rows in raw.items() if n != "manifest"}
    if any(r["status"] == "tobedeleted" for rows in files.values() for r in rows):
        raise ImportRefused([RowError("manifest", 0, _("Only bulk packages with active rows can be imported."))])
    job = _Import(school=school, actor=acting_user, files=files)
    for name, rows in files.items():
        for number, row in enumerate(rows, start=2):
            job.line[(name, row["sourcedId"])] = number
    with transaction.atomic():
        _apply(job)
        if not job.errors:
            save_ids(job)
        if job.errors:
            raise ImportRefused(job.errors)
        counts = {name: len(rows) for name, rows in files.items()}
        log_action("oneroster.imported", actor=acting_user, school=school, data={"counts": counts})
    return ImportResult(counts=counts)


def _structure_error(p: spec.Problem) -> RowError:
    detail = f"{p.column}: {p.message}" if p.column else p.message
    return RowError(p.file, p.row, _("Does not follow OneRoster 1.2: %(detail)s") % {"detail": detail})


def _apply(job: _Import) -> None:
    for step in (_org, _sessions, _courses, _homerooms, _people, _scheduled, _class_teachers):
        step(job)
        if job.errors:
            return


def save_ids(job: _Import) -> None:
    """Keep the package's sourcedIds; one already given to another object of the school refuses its row."""
    ours = {sid for sid, _date in job.recorded.values()}
    taken = SourcedId.objects.filter(school=job.school, sourced_id__in=ours).values_list("kind", "key", "sourced_id")
    for kind, key, sid in taken:
        if job.recorded.get((kind, key), ("",))[0] != sid:
            file = next((f for (f, s) in job.line if s == sid), "manifest")
            job.error(file, sid, _("This sourcedId already names another object of the school."))
    if job.errors:
        return
    now = timezone.now()
    SourcedId.objects.filter(school=job.school, kind__in={k for k, _ in job.recorded}).filter(
        key__in={key for _, key in job.recorded}
    ).delete()
    SourcedId.objects.bulk_create(
        SourcedId(
            school=job.school,
            kind=kind,
            key=key,
            sourced_id=sid,
            source_modified=parse_datetime(date) if date else None,
            recorded_at=now,
        )
        for (kind, key), (sid, date) in job.recorded.items()
    )


# --- steps -------------------------------------------------------------------------------------------


def _org(job: _Import) -> None:
    schools_ = [r for r in job.rows("orgs") if r["type"] == "school"]
    if len(schools_) != 1:
        job.errors.append(RowError("orgs", 0, _("The package must contain exactly one school.")))


def _date(value: str) -> dt.date:
    return dt.date.fromisoformat(value)


def _sessions(job: _Import) -> None:
    rows = job.rows("academicSessions")
    for row in (r for r in rows if r["type"] == "schoolYear"):
        try:
            year = schools.create_row(
                acting_user=job.actor,
                school=job.school,
                model=AcademicYear,
                fields={"name": row["title"], "start": _date(row["startDate"]), "end": _date(row["endDate"])},
            )
        except (ValidationError, DomainError) as exc:
            job.error("academicSessions", row["sourcedId"], _message(exc))
            continue
        job.sessions[row["sourcedId"]] = year
        job.record("session", f"y{year.pk}", row)
    pending = [r for r in rows if r["type"] != "schoolYear"]
    ordinals: dict[tuple[int, str], int] = defaultdict(int)
    while pending:
        ready = [r for r in pending if r["parentSourcedId"] in job.sessions]
        if not ready:
            for r in pending:
                job.error("academicSessions", r["sourcedId"], _("The session lies in no school year of the package."))
            return
        for row in sorted(ready, key=lambda r: (r["startDate"], r["endDate"][::-1])):
            pending.remove(row)
            _period(job, row, ordinals)


def _period(job: _Import, row: Row, ordinals: dict[tuple[int, str], int]) -> None:
    parent = job.sessions[row["parentSourcedId"]]
    year = parent if isinstance(parent, AcademicYear) else parent.year
    start, end = _date(row["startDate"]), _date(row["endDate"])
    kind = {"semester": schools.standard_pattern(job.school), "gradingPeriod": PeriodKind.QUARTER}.get(row["type"])
    if kind is None:
        kind = PeriodKind.YEAR if (start, end) == (year.start, year.end) else PeriodKind.TRIMESTER
    ordinals[(year.pk, kind)] += 1
    fields = {
        "year": year,
        "parent": parent if isinstance(parent, StudyPeriod) else None,
        "kind": kind,
        "name": row["title"],
        "ordinal": ordinals[(year.pk, kind)],
        "start": start,
        "end": end,
    }
    try:
        period = schools.create_row(acting_user=job.actor, school=job.school, model=StudyPeriod, fields=fields)
    except (ValidationError, DomainError) as exc:
        job.error("academicSessions", row["sourcedId"], _message(exc))
        return
    job.sessions[row["sourcedId"]] = period
    job.record("session", f"p{period.pk}", row)


def _courses(job: _Import) -> None:
    existing = {s.name: s for s in Subject.objects.filter(school=job.school)}
    for row in job.rows("courses"):
        if row["courseCode"] == HOMEROOM_COURSE:
            job.courses[row["sourcedId"]] = None
            job.record("course", HOMEROOM_COURSE, row)
            continue
        subject = existing.get(row["title"])
        if subject is None:
            try:
                subject = schools.create_subject(
                    acting_user=job.actor, school=job.school, name=row["title"], short_name=row["courseCode"]
                )
            except (ValidationError, DomainError) as exc:
                job.error("courses", row["sourcedId"], _message(exc))
                continue
        job.courses[row["sourcedId"]] = subject
        job.record("course", f"s{subject.pk}", row)


def _class_year(job: _Import, row: Row) -> AcademicYear | None:
    for sid in spec.split_list(row["termSourcedIds"]):
        session = job.sessions.get(sid)
        if session is not None:
            return session if isinstance(session, AcademicYear) else session.year
    job.error("classes", row["sourcedId"], _("The class names no school year of the package."))
    return None


def _year_level(job: _Import, grades: str) -> YearLevel:
    codes = [g for g in spec.split_list(grades) if g.isdigit() and 1 <= int(g) <= 12]
    if not codes:
        raise DomainError(_("The class needs a grade from 01 to 12."))
    number = int(codes[0])
    level = YearLevel.objects.filter(school=job.school, number=number).first()
    return level or schools.create_row(
        acting_user=job.actor, school=job.school, model=YearLevel, fields={"number": number}
    )


def _homerooms(job: _Import) -> None:
    for row in (r for r in job.rows("classes") if r["classType"] == "homeroom"):
        year = _class_year(job, row)
        if year is None:
            continue
        try:
            school_class = schools.create_class(
                acting_user=job.actor,
                school=job.school,
                year=year,
                year_level=_year_level(job, row["grades"]),
                name=row["title"],
            )
        except (ValidationError, DomainError) as exc:
            job.error("classes", row["sourcedId"], _message(exc))
            continue
        job.classes[row["sourcedId"]] = school_class
        job.record("class", f"c{school_class.pk}", row)


def _person(row: Row) -> dict[str, Any]:
    return {
        "last_name": row["familyName"],
        "first_name": row["givenName"],
        "patronymic": row["middleName"],
        "email": row["email"],
        "phone": row["phone"],
    }


def _people(job: _Import) -> None:
    roles: dict[str, list[Row]] = defaultdict(list)
    for r in job.rows("roles"):
        roles[r["userSourcedId"]].append(r)
    users = {r["sourcedId"]: r for r in job.rows("users")}
    for sid in users:
        if not roles[sid]:
            job.error("users", sid, _("The user has no role in the school."))
    for r in job.rows("roles"):
        if r["role"] not in ROLE_IN:
            job.error(
                "roles", r["sourcedId"], _("The role “%(role)s” has no match in Classbook.") % {"role": r["role"][:40]}
            )
    if job.errors:
        return
    demographics = {r["sourcedId"]: r for r in job.rows("demographics")}
    homeroom = {
        e["userSourcedId"]: e
        for e in job.rows("enrollments")
        if e["role"] == "student" and isinstance(job.classes.get(e["classSourcedId"]), SchoolClass)
    }
    kinds = {sid: {ROLE_IN[r["role"]] for r in rs} for sid, rs in roles.items()}
    for sid, row in users.items():
        if Role.STUDENT in kinds[sid]:
            _student(job, row, homeroom.get(sid), demographics.get(sid))
        elif kinds[sid] & STAFF_ROLES:
            _staff(job, row, sorted(kinds[sid] & STAFF_ROLES))
    for sid, row in users.items():
        if kinds[sid] == {Role.PARENT}:
            _guardian(job, row)
    dated = []
    for r in job.rows("roles"):
        user = job.users.get(r["userSourcedId"])
        membership = Membership.objects.filter(school=job.school, user=user, role=ROLE_IN[r["role"]]).first()
        if user is not None and membership is not None:
            job.record("role", f"m{membership.pk}", r)
            # The role keeps the package's dates (it started then, not on the day of the import).
            membership.since = _date(r["beginDate"]) if r["beginDate"] else membership.since
            membership.until = _date(r["endDate"]) if r["endDate"] else None
            dated.append(membership)
    Membership.objects.bulk_update(dated, ["since", "until"])


def _student(job: _Import, row: Row, enrolment: Row | None, demo: Row | None) -> None:
    if enrolment is None:
        job.error("users", row["sourcedId"], _("A student must be enrolled in a homeroom class."))
        return
    school_class = job.classes[enrolment["classSourcedId"]]
    assert isinstance(school_class, SchoolClass)
    data = _person(row) | {"personal_file_number": row["identifier"]}
    if demo is not None:
        data["birth_date"] = _date(demo["birthDate"]) if demo["birthDate"] else None
        data["gender"] = {"male": "m", "female": "f"}.get(demo["sex"], "")
    start = _date(enrolment["beginDate"]) if enrolment["beginDate"] else None
    try:
        student = roster.add_student(acting_user=job.actor, school_class=school_class, data=data, start=start)
    except (ValidationError, DomainError) as exc:
        job.error("users", row["sourcedId"], _message(exc))
        return
    job.users[row["sourcedId"]] = student.user
    job.students[row["sourcedId"]] = student
    job.record("user", f"u{student.user_id}", row)
    enrolment_pk = Enrolment.objects.filter(student=student).values_list("pk", flat=True).get()
    job.record("enrollment", f"e{enrolment_pk}", enrolment)


def _staff(job: _Import, row: Row, roles: list[str]) -> None:
    try:
        user = roster.add_staff_member(acting_user=job.actor, school=job.school, data=_person(row), roles=roles)
    except (ValidationError, DomainError) as exc:
        job.error("users", row["sourcedId"], _message(exc))
        return
    job.users[row["sourcedId"]] = user
    job.record("user", f"u{user.pk}", row)


def _guardian(job: _Import, row: Row) -> None:
    children = [job.students[c] for c in spec.split_list(row["agentSourcedIds"]) if c in job.students]
    if not children:
        job.error("users", row["sourcedId"], _("A parent must name at least one child of the package."))
        return
    try:
        link = roster.add_guardian(acting_user=job.actor, student=children[0], data=_person(row))
        for child in children[1:]:
            roster.link_guardian(acting_user=job.actor, student=child, guardian=link.guardian)
    except (ValidationError, DomainError) as exc:
        job.error("users", row["sourcedId"], _message(exc))
        return
    job.users[row["sourcedId"]] = link.guardian
    job.record("user", f"u{link.guardian_id}", row)


def _scheduled(job: _Import) -> None:
    enrollments: dict[str, list[Row]] = defaultdict(list)
    for e in job.rows("enrollments"):
        enrollments[e["classSourcedId"]].append(e)
    for row in (r for r in job.rows("classes") if r["classType"] == "scheduled"):
        _assignment(job, row, enrollments[row["sourcedId"]])


def _assignment(job: _Import, row: Row, members: list[Row]) -> None:
    year = _class_year(job, row)
    subject = job.courses.get(row["courseSourcedId"])
    teachers = [job.users.get(e["userSourcedId"]) for e in members if e["role"] == "teacher"]
    class_name, _sep, subgroup_name = row["classCode"].partition("/")
    school_class = SchoolClass.objects.filter(school=job.school, year=year, name=class_name).first()
    if year is None:
        return
    if subject is None or school_class is None or not teachers or teachers[0] is None:
        job.error(
            "classes",
            row["sourcedId"],
            _("A scheduled class needs a subject course, a teacher and a homeroom class code."),
        )
        return
    students = [
        job.students[e["userSourcedId"]]
        for e in members
        if e["role"] == "student" and e["userSourcedId"] in job.students
    ]
    try:
        subgroup = None
        if subgroup_name:
            subgroup = Subgroup.objects.filter(school_class=school_class, name=subgroup_name).first()
            if subgroup is None:
                subgroup = schools.create_row(
                    acting_user=job.actor,
                    school=job.school,
                    model=Subgroup,
                    fields={"school_class": school_class, "name": subgroup_name},
                )
                schools.set_subgroup_students(acting_user=job.actor, subgroup=subgroup, students=students)
        assignment = schools.create_assignment(
            acting_user=job.actor,
            school=job.school,
            teacher=teachers[0],
            school_class=school_class,
            subgroup=subgroup,
            subject=subject,
        )
    except (ValidationError, DomainError) as exc:
        job.error("classes", row["sourcedId"], _message(exc))
        return
    job.classes[row["sourcedId"]] = assignment
    job.record("class", f"a{assignment.pk}", row)
    enrolment_of = dict(Enrolment.objects.filter(school_class=school_class).values_list("student_id", "pk"))
    for e in members:
        if e["role"] == "teacher":
            job.record("enrollment", f"t{assignment.pk}", e)
        elif e["userSourcedId"] in job.students:
            student = job.students[e["userSourcedId"]]
            job.record("enrollment", f"s{assignment.pk}-{enrolment_of.get(student.pk)}", e)


def _class_teachers(job: _Import) -> None:
    for e in job.rows("enrollments"):
        school_class = job.classes.get(e["classSourcedId"])
        if e["role"] != "teacher" or not isinstance(school_class, SchoolClass):
            continue
        teacher = job.users.get(e["userSourcedId"])
        try:
            if teacher is None:
                raise DomainError(_("The class teacher is not a user of the package."))
            schools.update_class(acting_user=job.actor, school_class=school_class, class_teacher=teacher)
        except (ValidationError, DomainError) as exc:
            job.error("enrollments", e["sourcedId"], _message(exc))
            continue
        job.record("enrollment", f"h{school_class.pk}", e)
