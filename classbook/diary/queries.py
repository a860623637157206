"""Read models of the students' and parents' diary and the information letter (R5.1, R5.2, R5.6).

Plain data out, a constant number of queries whatever the size of the week or the period:

- ``diary_people``: the students the user may open, with their current class — 1 query;
- ``build_week``: one week of one student — 8 queries (timetable entries, lessons with their changes,
  marks, attendance, homework files, materials published to the lessons, bells, days off);
- ``build_report``: marks by subject, averages, period grades and attendance of one period for one
  student or a whole class — 5 queries (periods are read once by ``periods_of_year``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import BooleanField, Case, OuterRef, Q, Subquery, When
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.context import SchoolContext
from classbook.access.diary import diary_scope_values, diary_student_filter
from classbook.core.collation import name_order
from classbook.core.prepared import Prepared
from classbook.diary.models import DiaryPolicy
from classbook.journal.absences import EXCUSED_FLAG, absence_counts
from classbook.journal.models import Attendance, GradeKind, HomeworkAttachment, Lesson, Mark, PeriodGrade
from classbook.journal.stats import tally_marks, weighted_averages
from classbook.materials.models import Material, MaterialKind
from classbook.people.models import Enrolment, Student
from classbook.schools.models import AcademicYear, SpecialDay, StudyPeriod, Subgroup, TeachingAssignment
from classbook.timetable.models import (
    NON_WORKING_KINDS,
    Bell,
    BellSchedule,
    ChangeKind,
    TimetableEntry,
    parity_matches,
    parity_of,
)

# --- people -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiaryStudent:
    id: int
    name: str
    short_name: str
    class_id: int | None
    class_name: str
    class_teacher: str


def _people_query(school: int, own: int, guardian: int, class_teacher: int, today: dt.date) -> Any:
    # During the overlap of two years the class of the current year names the student's class.
    current = Enrolment.objects.filter(student=OuterRef("pk"), end__isnull=True).order_by(
        "-school_class__year__is_current", "-start"
    )
    return (
        Student.objects.filter(school_id=school)
        .filter(
            diary_student_filter(school=school, own=own, guardian=guardian, class_teacher=class_teacher, today=today)
        )
        .annotate(
            class_id=Subquery(current.values("school_class_id")[:1]),
            class_name=Subquery(current.values("school_class__name")[:1]),
            ct_last=Subquery(current.values("school_class__class_teacher__last_name")[:1]),
            ct_first=Subquery(current.values("school_class__class_teacher__first_name")[:1]),
            ct_patronymic=Subquery(current.values("school_class__class_teacher__patronymic")[:1]),
        )
        .order_by(*name_order("user__"))
        .values_list(
            "pk",
            "user__last_name",
            "user__first_name",
            "user__patronymic",
            "class_id",
            "class_name",
            "ct_last",
            "ct_first",
            "ct_patronymic",
        )
    )


_PEOPLE = Prepared(_people_query)


def diary_people(ctx: SchoolContext) -> list[DiaryStudent]:
    """The students whose diary the user may open, with their current class and class teacher — 1 query.

    The rule is ``access.diary.diary_student_filter``, compiled once (``prepared.py``).
    """
    return [
        DiaryStudent(
            id=pk,
            name=" ".join(p for p in (last, first, patronymic) if p),
            short_name=_short(last, first, patronymic),
            class_id=class_id,
            class_name=class_name or "",
            class_teacher=" ".join(p for p in (ct_last, ct_first, ct_patronymic) if p),
        )
        for pk, last, first, patronymic, class_id, class_name, ct_last, ct_first, ct_patronymic in _PEOPLE.rows(
            **diary_scope_values(ctx)
        )
    ]


def pick(people: list[DiaryStudent], student_id: int) -> DiaryStudent | None:
    return next((p for p in people if p.id == student_id), None)


def policy_or_default(school_id: int) -> DiaryPolicy:
    """The school's diary settings for reading; the defaults, unsaved, when it has none — 1 query."""
    return DiaryPolicy.objects.filter(school_id=school_id).first() or DiaryPolicy(school_id=school_id)


# --- the week -----------------------------------------------------------------------------------


@dataclass
class DiaryMark:
    value: str
    work_type: str
    work_type_short: str
    comment: str
    lesson_id: int | None = None
    date: dt.date | None = None


@dataclass
class DiaryAbsence:
    code: str
    name: str
    excused: bool
    late: bool
    reason: str


@dataclass
class DiaryFile:
    id: int
    name: str
    size: int


@dataclass
class DiaryMaterial:
    """A material published to the lesson (R8.1): a file (downloaded by id) or a link."""

    id: int
    title: str
    kind: str
    url: str
    size: int


@dataclass
class DiaryLesson:
    date: dt.date
    number: int | None
    start: dt.time | None
    end: dt.time | None
    subject: str
    teacher: str
    room: str
    status: str = ""  # "", substituted, cancelled, merged, moved_in, moved_out
    note: str = ""
    topic: str = ""
    homework: str = ""
    homework_due: dt.date | None = None
    lesson_id: int | None = None
    marks: list[DiaryMark] = field(default_factory=list)
    absence: DiaryAbsence | None = None
    files: list[DiaryFile] = field(default_factory=list)
    materials: list[DiaryMaterial] = field(default_factory=list)


@dataclass
class DiaryDay:
    date: dt.date
    is_day_off: bool
    lessons: list[DiaryLesson]

    @property
    def is_today(self) -> bool:
        return self.date == timezone.localdate()


@dataclass
class DiaryWeek:
    student: DiaryStudent
    start: dt.date
    end: dt.date
    days: list[DiaryDay]

    @property
    def prev_start(self) -> dt.date:
        return self.start - dt.timedelta(days=7)

    @property
    def next_start(self) -> dt.date:
        return self.start + dt.timedelta(days=7)


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _in_group(student_id: int, class_id: int, prefix: str = "") -> Q:
    """Lessons of the student's class: whole-class ones and those of the subgroups the student is in."""
    subgroups = Subgroup.objects.filter(students=student_id).values("pk")
    return Q(**{f"{prefix}school_class_id": class_id}) & (
        Q(**{f"{prefix}subgroup__isnull": True}) | Q(**{f"{prefix}subgroup_id__in": subgroups})
    )


_BELLS = Prepared(
    lambda school, cls: (
        Bell.objects.filter(school_id=school)
        .filter(
            Q(schedule__is_default=True)
            | Q(
                schedule_id__in=BellSchedule.classes.through.objects.filter(schoolclass_id=cls).values(
                    "bellschedule_id"
                )
            )
        )
        .annotate(
            own=Case(
                When(
                    schedule_id__in=BellSchedule.classes.through.objects.filter(schoolclass_id=cls).values(
                        "bellschedule_id"
                    ),
                    then=True,
                ),
                default=False,
                output_field=BooleanField(),
            )
        )
        .order_by()
        .values_list("own", "number", "start", "end")
    )
)


def bell_times(ctx: SchoolContext, class_id: int) -> dict[int, tuple[dt.time, dt.time]]:
    """The class's bell times (its own schedule, else the school's default one) — 1 query."""
    default: dict[int, tuple[dt.time, dt.time]] = {}
    mine: dict[int, tuple[dt.time, dt.time]] = {}
    for is_own, number, start, end in _BELLS.rows(school=ctx.school.pk, cls=class_id):
        (mine if is_own else default)[number] = (start, end)
    return mine or default


def _short(last: str | None, first: str | None, patronymic: str | None) -> str:
    """``User.short_name`` from the columns (the diary reads rows, not model instances)."""
    initials = "".join(f"{p[0]}." for p in (first, patronymic) if p)
    return f"{last or ''} {initials}".strip()


_TEACHER = ("last_name", "first_name", "patronymic")


def _names(prefix: str) -> list[str]:
    return [f"{prefix}__{name}" for name in _TEACHER]


def _note(kind: str, substitute: str, merged_class: str | None) -> tuple[str, str]:
    """The status and the note of a lesson change as the diary shows them."""
    if kind == ChangeKind.SUBSTITUTED:
        return "substituted", _("Substitute: %(name)s") % {"name": substitute}
    if kind == ChangeKind.CANCELLED:
        return "cancelled", _("Cancelled")
    if kind == ChangeKind.MERGED:
        return "merged", _("Merged with %(group)s") % {"group": merged_class or ""}
    return "", ""


_LESSON_COLUMNS = [
    "pk",
    "date",
    "number",
    "topic",
    "homework",
    "homework_due",
    "assignment__subject__name",
    *_names("assignment__teacher"),
    *_names("conducted_by"),
    "timetable_change__kind",
    "timetable_change__date",
    "timetable_change__number",
    *_names("timetable_change__substitute"),
    "timetable_change__merged_with__assignment__school_class__name",
    "generated_from__entry_id",
    "generated_from__date",
    "generated_from__entry__room__name",
]


def _week_group(student: int, cls: int) -> Q:
    return _in_group(student, cls, "assignment__")


# The week's queries, compiled once (``prepared.py``): values are school, cls, student, start, end.
_ENTRIES = Prepared(
    lambda school, cls, student, start, end: (
        TimetableEntry.objects.filter(
            school_id=school, withdrawn_at__isnull=True, valid_from__lte=end, valid_until__gte=start
        )
        .filter(_week_group(student, cls))
        .order_by()
        .values_list(
            "pk",
            "weekday",
            "number",
            "parity",
            "valid_from",
            "valid_until",
            "year__start",
            "year__end",
            "room__name",
            "assignment__subject__name",
            *_names("assignment__teacher"),
        )
    )
)
_LESSONS = Prepared(
    lambda school, cls, student, start, end: (
        Lesson.objects.filter(school_id=school)
        .filter(_week_group(student, cls))
        .filter(
            Q(date__gte=start, date__lte=end)
            | Q(
                timetable_change__kind=ChangeKind.MOVED,
                timetable_change__date__gte=start,
                timetable_change__date__lte=end,
            )
        )
        .order_by()
        .values_list(*_LESSON_COLUMNS)
    )
)
_MARKS = Prepared(
    lambda school, cls, student, start, end: (
        Mark.objects.filter(
            school_id=school, student_id=student, value__isnull=False, lesson__date__gte=start, lesson__date__lte=end
        )
        .order_by("work_type__ordinal", "slot")
        .values_list("lesson_id", "value__code", "work_type__name", "work_type__short_name", "comment")
    )
)
_ABSENCES = Prepared(
    lambda school, cls, student, start, end: (
        Attendance.objects.filter(
            school_id=school, student_id=student, code__isnull=False, lesson__date__gte=start, lesson__date__lte=end
        )
        .order_by()
        .annotate(excused=EXCUSED_FLAG)
        .values_list("lesson_id", "code__code", "code__name", "excused", "code__is_late", "reason")
    )
)
_FILES = Prepared(
    lambda school, cls, student, start, end: (
        HomeworkAttachment.objects.filter(
            school_id=school,
            removed_at__isnull=True,
            lesson__assignment__school_class_id=cls,
            lesson__date__gte=start,
            lesson__date__lte=end,
        )
        .order_by("uploaded_at", "pk")
        .values_list("pk", "lesson_id", "original_name", "size")
    )
)
# Materials published to the week's lessons of the class; analytical ones are never published to a lesson (a
# database constraint) and are left out here as well. Subgroup lessons the student is not in are not in the week.
_MATERIALS = Prepared(
    lambda school, cls, student, start, end: (
        Material.objects.filter(
            school_id=school,
            withdrawn_at__isnull=True,
            school_class_id=cls,
            lesson__date__gte=start,
            lesson__date__lte=end,
        )
        .exclude(kind=MaterialKind.ANALYTICAL)
        .order_by("created_at", "pk")
        .values_list("pk", "lesson_id", "title", "kind", "url", "size")
    )
)
_DAYS_OFF = Prepared(
    lambda school, cls, student, start, end: (
        SpecialDay.objects.filter(school_id=school, kind__in=NON_WORKING_KINDS, start__lte=end, end__gte=start)
        .order_by()
        .values_list("start", "end")
    )
)


def build_week(ctx: SchoolContext, student: DiaryStudent, start: dt.date) -> DiaryWeek:
    """Monday-Saturday of ``student``'s diary: the timetable with its changes, topics, homework with files
    and due dates, materials, marks with work type and comment, absences — 8 queries whatever the week holds.

    Lessons in the journal are the record; timetable slots not (yet) generated into the journal are
    shown from the timetable, so a week ahead still shows its lessons. Rows are read as tuples, not
    model instances: the page is read far more often than anything else (R5.1).
    """
    start = week_start(start)
    end = start + dt.timedelta(days=5)
    days = {start + dt.timedelta(days=i): DiaryDay(start + dt.timedelta(days=i), False, []) for i in range(6)}
    week = DiaryWeek(student=student, start=start, end=end, days=list(days.values()))
    if student.class_id is None:
        return week
    sid, cid = student.id, student.class_id
    values: dict[str, Any] = {"school": ctx.school.pk, "cls": cid, "student": sid, "start": start, "end": end}
    # 1. timetable entries of the class (and the student's subgroups) valid in the week
    entries = _ENTRIES.rows(**values)
    # 2. the journal's lessons of the week, and those moved out of it
    moved = ChangeKind.MOVED
    lessons = _LESSONS.rows(**values)
    # 3-5. the student's marks and absences in the week, the week's homework files of the class
    marks: dict[int, list[DiaryMark]] = defaultdict(list)
    for lesson_id, code, wt_name, wt_short, comment in _MARKS.rows(**values):
        marks[lesson_id].append(DiaryMark(code, wt_name, wt_short or wt_name, comment))
    absences: dict[int, DiaryAbsence] = {}
    for lesson_id, code, name, excused, late, reason in _ABSENCES.rows(**values):
        absences[lesson_id] = DiaryAbsence(code, name, excused, late, reason)
    files: dict[int, list[DiaryFile]] = defaultdict(list)
    for pk, lesson_id, name, size in _FILES.rows(**values):
        files[lesson_id].append(DiaryFile(pk, name, size))
    kinds = dict(MaterialKind.choices)
    materials: dict[int, list[DiaryMaterial]] = defaultdict(list)
    for pk, lesson_id, title, kind, url, size in _MATERIALS.rows(**values):
        materials[lesson_id].append(DiaryMaterial(pk, title, str(kinds.get(kind, kind)), url, size))
    # 6-7. bell times and days off
    times = bell_times(ctx, cid)
    off: set[dt.date] = set()
    for first, last in _DAYS_OFF.rows(**values):
        day = max(first, start)
        while day <= min(last, end):
            off.add(day)
            day += dt.timedelta(days=1)
    for day in week.days:
        day.is_day_off = day.date in off
    nothing = (None, None)

    generated: set[tuple[int, dt.date]] = set()
    for row in lessons:
        (pk, date, number, topic, homework, due, subject) = row[:7]
        teacher = _short(*row[7:10]) if row[10] is None else _short(*row[10:13])
        kind, change_date, change_number = row[13:16]
        substitute = _short(*row[16:19])
        merged_class, entry_id, slot_date, room = row[19:23]
        if entry_id is not None:
            generated.add((entry_id, slot_date))
        room = room or ""
        item = DiaryLesson(
            date=date,
            number=number,
            start=times.get(number, nothing)[0],
            end=times.get(number, nothing)[1],
            subject=subject,
            teacher=teacher,
            room=room,
            topic=topic,
            homework=homework,
            homework_due=due,
            lesson_id=pk,
            marks=marks.get(pk, []),
            absence=absences.get(pk),
            files=files.get(pk, []),
            materials=materials.get(pk, []),
        )
        if kind == moved:
            if start <= change_date <= end:
                days[change_date].lessons.append(
                    DiaryLesson(
                        date=change_date,
                        number=change_number,
                        start=times.get(change_number, nothing)[0],
                        end=times.get(change_number, nothing)[1],
                        subject=subject,
                        teacher=teacher,
                        room=room,
                        status="moved_out",
                        note=_("Moved to %(date)s, lesson %(number)s")
                        % {"date": date.strftime("%d.%m"), "number": number},
                    )
                )
            item.status = "moved_in"
            item.note = _("Moved from %(date)s, lesson %(number)s") % {
                "date": change_date.strftime("%d.%m"),
                "number": change_number,
            }
        elif kind:
            item.status, item.note = _note(kind, substitute, merged_class)
        if date in days:
            days[date].lessons.append(item)
    for pk, weekday, number, parity, valid_from, valid_until, year_start, year_end, room, subject, *names in entries:
        for day in week.days:
            if day.is_day_off or day.date.isoweekday() != weekday or (pk, day.date) in generated:
                continue
            if not (valid_from <= day.date <= valid_until and year_start <= day.date <= year_end):
                continue
            if not parity_matches(parity, parity_of(year_start, day.date)):
                continue
            day.lessons.append(
                DiaryLesson(
                    date=day.date,
                    number=number,
                    start=times.get(number, nothing)[0],
                    end=times.get(number, nothing)[1],
                    subject=subject,
                    teacher=_short(*names),
                    room=room or "",
                )
            )
    for day in week.days:
        day.lessons.sort(key=lambda item: (item.number if item.number is not None else 99, item.status == "moved_out"))
    return week


# --- the period: marks by subject, grades, attendance (the diary's marks page and the letter) ---------


def periods_of_year(ctx: SchoolContext, on: dt.date | None = None) -> list[StudyPeriod]:
    """The study periods of the academic year around ``on`` (today), in order — 1 query."""
    on = on or timezone.localdate()
    periods = list(
        StudyPeriod.objects.filter(school=ctx.school, year__start__lte=on, year__end__gte=on).order_by("start", "-end")
    )
    if periods:
        return periods
    # Between years (summer): the latest year's periods.
    return list(
        StudyPeriod.objects.filter(
            school=ctx.school,
            year_id=Subquery(
                AcademicYear.objects.filter(school=ctx.school, start__lte=on).order_by("-start").values("pk")[:1]
            ),
        ).order_by("start", "-end")
    )


def current_period(periods: list[StudyPeriod], on: dt.date | None = None) -> StudyPeriod | None:
    """The shortest period containing ``on`` (a quarter rather than its semester), else the last one begun."""
    on = on or timezone.localdate()
    containing = [p for p in periods if p.start <= on <= p.end]
    if containing:
        return min(containing, key=lambda p: (p.end - p.start, p.start))
    begun = [p for p in periods if p.start <= on]
    return begun[-1] if begun else (periods[0] if periods else None)


@dataclass
class DiaryGrade:
    kind: str
    kind_label: str
    title: str
    value: str
    period: str


@dataclass
class SubjectRow:
    subject_id: int
    subject: str
    teacher: str = ""
    marks: list[DiaryMark] = field(default_factory=list)
    average: Decimal | None = None
    grades: list[DiaryGrade] = field(default_factory=list)
    absent: int = 0
    absent_excused: int = 0
    late: int = 0


@dataclass
class AttendanceSummary:
    absent: int = 0
    excused: int = 0
    unexcused: int = 0
    late: int = 0


@dataclass
class StudentReport:
    student: DiaryStudent
    subjects: list[SubjectRow]
    attendance: AttendanceSummary
    show_average: bool
    weighted: bool

    @property
    def marks_count(self) -> int:
        return sum(len(row.marks) for row in self.subjects)


def build_report(
    ctx: SchoolContext, students: list[DiaryStudent], period: StudyPeriod, policy: DiaryPolicy
) -> list[StudentReport]:
    """Marks by subject with averages (as the school chooses), period grades and attendance of ``period`` for
    each of ``students`` — 5 queries whatever their number (the information letter of a whole class): the
    school's one weighting rule (``journal.stats.weighted_averages``) and the report's four (subjects, marks,
    grades, absences).

    Period grades show as soon as they are set (R5.2): there is no separate publishing step.
    """
    ids = [s.id for s in students]
    class_ids = {s.class_id for s in students if s.class_id}
    rows: dict[int, dict[int, SubjectRow]] = {sid: {} for sid in ids}
    weighted = weighted_averages(ctx.school.pk)  # the school's one rule, the grid's

    def row(sid: int, subject_id: int, name: str) -> SubjectRow:
        found = rows[sid].get(subject_id)
        if found is None:
            found = rows[sid][subject_id] = SubjectRow(subject_id, name)
        return found

    # 1. the subjects of the classes (whole-class and the students' own subgroups), with their teachers
    by_class: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    by_member: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for class_id, member_id, subject_id, subject, last, first, patronymic in (
        TeachingAssignment.objects.filter(school=ctx.school, school_class_id__in=class_ids, year_id=period.year_id)
        .filter(Q(subgroup__isnull=True) | Q(subgroup__students__in=ids))
        .order_by("subject__name", "pk")
        .values_list(
            "school_class_id",
            "subgroup__students",
            "subject_id",
            "subject__name",
            "teacher__last_name",
            "teacher__first_name",
            "teacher__patronymic",
        )
    ):
        teacher = f"{last} {first[:1]}.{patronymic[:1] + '.' if patronymic else ''}".strip()
        (by_member[member_id] if member_id else by_class[class_id]).append((subject_id, subject, teacher))
    for s in students:
        for subject_id, subject, teacher in [*by_class.get(s.class_id or 0, []), *by_member.get(s.id, [])]:
            r = row(s.id, subject_id, subject)
            r.teacher = r.teacher or teacher
    # 2. marks of the period; their count and average by the journal's one definition (``stats.tally_marks``)
    counted: list[tuple[tuple[int, int], str, Decimal | None, Decimal | None]] = []
    for sid, subject_id, subject, date, lesson_id, code, numeric, wt_name, wt_short, weight, comment in (
        Mark.objects.filter(
            school=ctx.school,
            student_id__in=ids,
            value__isnull=False,
            lesson__date__gte=period.start,
            lesson__date__lte=period.end,
        )
        .order_by("lesson__date", "lesson__number", "work_type__ordinal", "slot")
        .values_list(
            "student_id",
            "lesson__assignment__subject_id",
            "lesson__assignment__subject__name",
            "lesson__date",
            "lesson_id",
            "value__code",
            "value__numeric",
            "work_type__name",
            "work_type__short_name",
            "work_type__weight",
            "comment",
        )
    ):
        row(sid, subject_id, subject).marks.append(
            DiaryMark(code, wt_name, wt_short or wt_name, comment, lesson_id=lesson_id, date=date)
        )
        counted.append(((sid, subject_id), code, numeric, weight))
    if policy.show_average:
        for (sid, subject_id), tally in tally_marks(counted, weighted=weighted).items():
            # The one rounding rule of the school (half-up, its decimals): the same figure as the grid.
            rows[sid][subject_id].average = tally.mean(ctx.school)
    # 3. grades of the period and of the periods inside it (quarters in a semester), as soon as set
    kinds = dict(GradeKind.choices)  # the choices of PeriodGrade.kind
    for sid, subject_id, subject, kind, title, code, period_name in (
        PeriodGrade.objects.filter(
            school=ctx.school, student_id__in=ids, period__start__gte=period.start, period__end__lte=period.end
        )
        .order_by("period__start", "kind", "ordinal")
        .values_list(
            "student_id",
            "assignment__subject_id",
            "assignment__subject__name",
            "kind",
            "title",
            "value__code",
            "period__name",
        )
    ):
        row(sid, subject_id, subject).grades.append(
            DiaryGrade(kind, str(kinds.get(kind, kind)), title, code, period_name)
        )
    # 4. absences and lateness of the period, by subject: ``journal.absences.absence_counts``
    summaries = {sid: AttendanceSummary() for sid in ids}
    by_subject = absence_counts(
        Attendance.objects.filter(
            school=ctx.school, student_id__in=ids, lesson__date__gte=period.start, lesson__date__lte=period.end
        ),
        by=("student_id", "lesson__assignment__subject_id", "lesson__assignment__subject__name"),
    )
    for (sid, subject_id, subject), counts in sorted(by_subject.items(), key=lambda item: item[0][:2]):
        r, summary = row(sid, subject_id, subject), summaries[sid]
        r.absent, r.absent_excused, r.late = counts.missed, counts.excused, counts.late
        summary.absent += counts.missed
        summary.excused += counts.excused
        summary.unexcused += counts.unexcused
        summary.late += counts.late
    return [
        StudentReport(
            student=s,
            subjects=sorted(rows[s.id].values(), key=lambda r: r.subject.lower()),
            attendance=summaries[s.id],
            show_average=policy.show_average,
            weighted=weighted,
        )
        for s in students
    ]


def class_people(people: list[DiaryStudent], class_id: int) -> list[DiaryStudent]:
    """The students of one class among those the user may open (the class teacher's letters)."""
    return [p for p in people if p.class_id == class_id]


def period_by_id(ctx: SchoolContext, period_id: int) -> StudyPeriod:
    """A study period of the school by id (404 for another school's or an unknown one) — 1 query."""
    from django.http import Http404

    period = StudyPeriod.objects.filter(school=ctx.school, pk=period_id).first()
    if period is None:
        raise Http404
    return period
