"""Demo step: the previous, closed school year 2025/2026 with its period and annual grades.

A school that starts Classbook in September imports last year's results, not last year's journal: so does the
demo. ``step_last_year(build)`` runs last (nothing before it sees these rows) and writes, beside the current
year:

- the year 2025/2026 (not current), its whole-year period and two semesters (I 1 Sep - 26 Dec 2025, II 12 Jan
  - 29 May 2026);
- last year's classes: every class of this year above the first level one level lower (``6-А`` was ``5-А``;
  this year's first grade did not exist), and last year's final-level classes, whose students graduated on
  30 June 2026 and left the school (new students, ``left_on`` set, their student role ended, no parents);
- enrolments from the year's first day, or from the day a student joined the school when that fell inside
  the year (students who joined in the summer of 2026 were not there), all ending on its last day (the year
  is closed: nobody is in two classes at once); subgroups split as this year's (the class list in
  alphabetical order, first half in group 1);
- teaching assignments: the curriculum of each class's level shared among the teachers of each
  specialization who worked at the school then (``people.teaching_units`` and ``people.distribute``, the
  same balancing as this year); where they could not have carried a specialization's hours (30 a week each),
  teachers who have left since taught the rest (inactive accounts, their teacher role ended on 30 June 2026);
  the class teacher is this year's class teacher of the promoted class when they taught the class then (a
  primary teacher follows the class), else the teacher with most hours in it;
- **period grades** of both semesters and **annual grades**, and nothing else: no lessons, marks or
  attendance. A student's grade follows their ability that this year's marks come from (``build.ability``,
  a little lower a year ago), a per-subject strength and some noise, mapped to the journal's scale as the
  journal step maps marks (12 points; pass/fail; verbal levels). A few grades are "н/а" (about one in 250,
  more for weaker students) and a few students (one in 150, at least one) are exempt ("звільн.") from
  physical education for the year. Annual grades are what the school's annual rule gives from the
  semesters (``journal.rules.annual_expectation_of``), as ``steps.grades`` derives them.

Bulk writers (``classbook.demo.bulk``): ``SchoolBuild.bulk`` for the ~2,000 structure, people and enrolment
rows, ``steps.grades.write_grades`` (``insert_rows``) for the ~60,000 grades and their audit rows. The rules
kept are those of ``steps.schools``, ``steps.people`` and ``steps.grades``: rows of the built school only,
one grade per cell on the journal's effective scale for students of the class (subgroup) on the period's
last day, locked at once (version 1, by the journal's teacher) with its ``period_grade`` audit row, set on
the period's last day at 16:30 (long before the demo runs); one enrolment per student and class; a teacher
is class teacher of at most one class of the year; usernames unique across the run.

Deterministic: the randomness comes from ``build.rng("last_year")``.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from classbook.demo import curriculum
from classbook.demo.build import (
    LAST_YEAR_END,
    LAST_YEAR_NAME,
    LAST_YEAR_START,
    Person,
    SchoolBuild,
    TeacherPlan,
    Unit,
)
from classbook.demo.bulk import update_objects
from classbook.demo.names import BOY_NAMES, FEMALE_ADULT_NAMES, GIRL_NAMES, MALE_NAMES, SURNAMES
from classbook.demo.steps.grades import (
    EXEMPT,
    EXEMPT_RATE,
    EXEMPT_SUBJECT,
    NOT_ATTESTED,
    SET_AT,
    ScaleInfo,
    scales_of,
    write_grades,
)
from classbook.demo.steps.people import MAX_LOAD, distribute, teaching_units
from classbook.journal.models import GradeKind, JournalPolicy
from classbook.journal.rules import annual_expectation_of, policy_for
from classbook.people.models import Enrolment, Gender, Membership, Role, Student, User
from classbook.schools.models import (
    AcademicYear,
    PeriodKind,
    SchoolClass,
    StudyPeriod,
    Subgroup,
    TeachingAssignment,
)

NOT_ATTESTED_RATE = 1 / 250  # of grades; more often for weaker students (see ``_points``)
GROWTH = 0.3  # a student's marks a year ago were this much lower on average
FINAL_LEVEL = curriculum.LEVELS[-1]


def step_last_year(b: SchoolBuild) -> None:
    """The closed year 2025/2026: calendar, classes, students, workload, period and annual grades."""
    if b.school is None or b.year is None:
        return
    rng = b.rng("last_year")
    year, periods = _calendar(b)
    classes, successor = _classes(b, year)
    roster = _students(b, rng, classes, successor)
    subgroups = _subgroups(b, classes, roster)
    assignments = _workload(b, rng, year, classes, subgroups, successor)
    _grades(b, rng, periods, assignments, roster, subgroups)


def _calendar(b: SchoolBuild) -> tuple[AcademicYear, list[StudyPeriod]]:
    school = b.school
    assert school is not None
    year = AcademicYear(school=school, name=LAST_YEAR_NAME, start=LAST_YEAR_START, end=LAST_YEAR_END)
    b.bulk(AcademicYear, [year])
    whole = StudyPeriod(
        school=school, year=year, kind=PeriodKind.YEAR, name="Навчальний рік", start=year.start, end=year.end
    )
    b.bulk(StudyPeriod, [whole])
    semesters = [
        StudyPeriod(
            school=school, year=year, parent=whole, kind=PeriodKind.SEMESTER, name=name, ordinal=n, start=s, end=e
        )
        for n, name, s, e in (
            (1, "I семестр", dt.date(2025, 9, 1), dt.date(2025, 12, 26)),
            (2, "II семестр", dt.date(2026, 1, 12), dt.date(2026, 5, 29)),
        )
    ]
    b.bulk(StudyPeriod, semesters)
    return year, [whole, *semesters]


def _classes(b: SchoolBuild, year: AcademicYear) -> tuple[list[SchoolClass], dict[int, SchoolClass]]:
    """Last year's classes; ``successor`` maps each (by id) to this year's class it became (not the graduates)."""
    school = b.school
    assert school is not None
    classes: list[SchoolClass] = []
    successor: dict[int, SchoolClass] = {}
    for c in b.classes:
        level = c.year_level.number
        suffix = c.name.split("-", 1)[1] if "-" in c.name else c.name
        if level > curriculum.LEVELS[0]:
            old = SchoolClass(school=school, year=year, year_level=b.levels[level - 1], name=f"{level - 1}-{suffix}")
            classes.append(old)
            successor[id(old)] = c
        if level == FINAL_LEVEL:  # last year's final classes of the same names: graduated
            classes.append(SchoolClass(school=school, year=year, year_level=c.year_level, name=c.name))
    classes.sort(key=lambda c: (c.year_level.number, c.name))
    b.bulk(SchoolClass, classes)
    return classes, {c.pk: successor[id(c)] for c in classes if id(c) in successor}


def _students(
    b: SchoolBuild, rng: random.Random, classes: list[SchoolClass], successor: dict[int, SchoolClass]
) -> dict[int, list[tuple[Student, dt.date]]]:
    """Each class's students with the day they joined it; the graduates are new students who left."""
    school = b.school
    assert school is not None
    by_class: dict[int, list[Student]] = defaultdict(list)
    for s in b.students:
        by_class[b.student_class[s.pk].pk].append(s)
    roster: dict[int, list[tuple[Student, dt.date]]] = {}
    graduates: list[tuple[SchoolClass, Student]] = []
    for c in classes:
        now = successor.get(c.pk)
        if now is not None:
            joined = [(s, max(LAST_YEAR_START, b.member_since[s.pk])) for s in by_class[now.pk]]
            roster[c.pk] = [(s, day) for s, day in joined if day <= LAST_YEAR_END]
        else:
            graduates += [(c, _graduate(b, rng, len(graduates) + i)) for i in range(b.class_sizes.get(c.name, 30))]
    if graduates:
        b.bulk(User, [s.user for _c, s in graduates])
        b.bulk(Student, [s for _c, s in graduates])
        b.bulk(
            Membership,
            (
                Membership(
                    school=school,
                    user=s.user,
                    role=Role.STUDENT,
                    since=dt.date(LAST_YEAR_END.year - FINAL_LEVEL, 9, 1),
                    until=LAST_YEAR_END,
                    is_active=False,
                )
                for _c, s in graduates
            ),
        )
        for c, s in graduates:
            roster.setdefault(c.pk, []).append((s, LAST_YEAR_START))
            b.ability[s.pk] = min(11.3, max(4.5, rng.gauss(8.4, 1.5)))
    b.bulk(
        Enrolment,
        (
            Enrolment(school=school, student=s, school_class=c, start=day, end=LAST_YEAR_END)
            for c in classes
            for s, day in roster.get(c.pk, [])
        ),
    )
    return roster


def _graduate(b: SchoolBuild, rng: random.Random, serial: int) -> Student:
    """A student of last year's final class, who graduated on the year's last day."""
    assert b.school is not None
    gender = Gender.MALE if rng.random() < 0.5 else Gender.FEMALE
    surname = rng.choice(SURNAMES)
    father = rng.choice(MALE_NAMES)
    male = gender == Gender.MALE
    last, first = surname[0 if male else 1], rng.choice(BOY_NAMES if male else GIRL_NAMES)
    # Grade 1 in September 2025 was born September 2018 - August 2019.
    born_from = dt.date(LAST_YEAR_START.year - 6 - FINAL_LEVEL, 9, 1)
    birth = born_from + dt.timedelta(days=rng.randrange(365))
    user = b.run.new_user(last, first, father[1 if male else 2])
    return Student(
        school=b.school,
        user=user,
        birth_date=birth,
        gender=gender,
        personal_file_number=f"{last[0]}-В{serial + 1:04d}",
        left_on=LAST_YEAR_END,
    )


def _subgroups(
    b: SchoolBuild, classes: list[SchoolClass], roster: dict[int, list[tuple[Student, dt.date]]]
) -> dict[str, list[Subgroup]]:
    """Two groups in classes from the split level on: the class list in alphabetical order, halved."""
    school = b.school
    assert school is not None
    split = [c for c in classes if c.year_level.number >= curriculum.SPLIT_FROM_LEVEL]
    groups = {c.name: [Subgroup(school=school, school_class=c, name=f"Група {g}") for g in (1, 2)] for c in split}
    b.bulk(Subgroup, [g for pair in groups.values() for g in pair])
    through = Subgroup.students.through
    links = []
    for c in split:
        students = sorted(
            (s for s, _day in roster.get(c.pk, [])),
            key=lambda s: (s.user.last_name, s.user.first_name, s.user.patronymic),
        )
        half = (len(students) + 1) // 2
        links += [
            through(subgroup_id=groups[c.name][0 if i < half else 1].pk, student_id=s.pk)
            for i, s in enumerate(students)
        ]
    b.bulk(through, links)
    return groups


def _workload(
    b: SchoolBuild,
    rng: random.Random,
    year: AcademicYear,
    classes: list[SchoolClass],
    subgroups: dict[str, list[Subgroup]],
    successor: dict[int, SchoolClass],
) -> list[TeachingAssignment]:
    """The curriculum shared among the teachers who worked here then; class teachers; the assignments."""
    school = b.school
    assert school is not None
    hired = dict(Membership.objects.filter(school=school, role=Role.TEACHER).values_list("user_id", "since"))
    there = [t for t in b.teachers if t.user is not None and hired.get(t.user.pk, LAST_YEAR_END) <= LAST_YEAR_START]
    # A class teacher taught their class the year before too (a primary teacher follows the class).
    keeps = {id(c): successor[c.pk].class_teacher for c in classes if c.pk in successor}
    plans: list[TeacherPlan] = []
    work = sorted(teaching_units(classes, subgroups).items())
    # Where the teachers who are still here could not have carried a specialization's hours (at most
    # ``MAX_LOAD`` each; a primary class has its own teacher), teachers who have left since taught the rest.
    former = {
        spec: [_former_teacher(b, rng, spec) for _ in range(missing)]
        for spec, units in work
        if (missing := _needed(spec, units) - sum(t.spec == spec for t in there)) > 0
    }
    _hire_former(b, [p for plans_ in former.values() for p in plans_])
    for spec, units in work:
        mine = [TeacherPlan(t.person, spec, user=t.user) for t in there if t.spec == spec] + former.get(spec, [])
        by_user = {p.user.pk: p for p in mine if p.user is not None and p.user.pk is not None}
        rest = []
        for u in units:
            teacher = keeps.get(id(u.school_class))
            if u.subgroup is None and teacher is not None and teacher.pk in by_user:
                by_user[teacher.pk].units.append(u)
            else:
                rest.append(u)
        distribute(rest, mine)
        plans += [p for p in mine if p.units]

    hours: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))  # class pk -> teacher pk -> h
    for p in plans:
        assert p.user is not None
        for u in p.units:
            hours[u.school_class.pk][p.user.pk] += u.hours
    users = {p.user.pk: p.user for p in plans if p.user is not None}
    taken: set[int] = set()
    for c in classes:  # the promoted classes first: their teachers keep them
        now = successor.get(c.pk)
        if now is not None and now.class_teacher is not None and now.class_teacher.pk in hours[c.pk]:
            c.class_teacher = now.class_teacher
            taken.add(now.class_teacher.pk)
    for c in classes:
        if c.class_teacher is None:
            free = [pk for pk in hours[c.pk] if pk not in taken]
            if free:
                chosen = max(free, key=lambda pk: (hours[c.pk][pk], -pk))
                c.class_teacher = users[chosen]
                taken.add(chosen)
    update_objects(SchoolClass, classes, ["class_teacher"])
    return b.bulk(
        TeachingAssignment,
        [
            TeachingAssignment(
                school=school,
                year=year,
                teacher=p.user,
                school_class=u.school_class,
                subgroup=u.subgroup,
                subject=b.subjects[name],
                hours_per_week=h,
            )
            for p in plans
            for u in p.units
            for name, h in u.items
        ],
    )


def _needed(spec: str, units: list[Unit]) -> int:
    """How many teachers a specialization's units take: one per class in primary, else at most 30 hours each."""
    if spec == "primary":
        return len({id(u.school_class) for u in units})
    return math.ceil(sum((u.hours for u in units), Decimal(0)) / MAX_LOAD)


def _former_teacher(b: SchoolBuild, rng: random.Random, spec: str) -> TeacherPlan:
    """A teacher of ``spec`` who taught here last year and has left since (not yet saved)."""
    female = rng.random() < curriculum.FEMALE_SHARE.get(spec, curriculum.DEFAULT_FEMALE_SHARE)
    surname, father = rng.choice(SURNAMES), rng.choice(MALE_NAMES)
    first = rng.choice(FEMALE_ADULT_NAMES) if female else rng.choice(MALE_NAMES)[0]
    gender = Gender.FEMALE if female else Gender.MALE
    person = Person(surname[1 if female else 0], first, father[2 if female else 1], gender)
    user = b.run.new_user(person.last, person.first, person.patronymic, is_active=False)
    return TeacherPlan(person, spec, user=user)


def _hire_former(b: SchoolBuild, former: list[TeacherPlan]) -> None:
    """The former teachers' accounts (inactive) and their ended teacher role (to the year's last day)."""
    if not former:
        return
    b.bulk(User, [p.user for p in former if p.user is not None])
    b.bulk(
        Membership,
        (
            Membership(
                school=b.school,
                user=p.user,
                role=Role.TEACHER,
                position=curriculum.SPECIALIZATIONS[p.spec],
                since=dt.date(2015, 8, 25),
                until=LAST_YEAR_END,
                is_active=False,
            )
            for p in former
        ),
    )


def _grades(
    b: SchoolBuild,
    rng: random.Random,
    periods: list[StudyPeriod],
    assignments: list[TeachingAssignment],
    roster: dict[int, list[tuple[Student, dt.date]]],
    subgroups: dict[str, list[Subgroup]],
) -> None:
    """Both semesters' grades and the annual grades of every journal of the year."""
    school = b.school
    assert school is not None
    whole, semesters = periods[0], periods[1:]
    scales = scales_of(school.pk)
    policy = policy_for(school.pk)
    tz = timezone.get_current_timezone()
    adapt = connection.ops.adapt_datetimefield_value
    everyone = sorted({s.pk for students in roster.values() for s, _day in students})
    exempt = set(rng.sample(everyone, max(1, round(len(everyone) * EXEMPT_RATE)))) if everyone else set()
    groups_of = {g.pk: g for pair in subgroups.values() for g in pair}
    members: dict[int, set[int]] = defaultdict(set)
    for subgroup_id, student_id in Subgroup.students.through.objects.filter(
        subgroup_id__in=list(groups_of)
    ).values_list("subgroup_id", "student_id"):
        members[subgroup_id].add(student_id)
    strength: dict[tuple[int, int], float] = {}
    grades: list[tuple[Any, ...]] = []
    meta: dict[tuple[int, int, int, str], tuple[int, str, Any]] = {}
    period_rows = {p.pk: {"name": p.name, "kind": p.kind, "parent_id": p.parent_id, "start": p.start} for p in periods}

    def at(day: dt.date) -> Any:
        return adapt(min(dt.datetime(day.year, day.month, day.day, *SET_AT, tzinfo=tz), timezone.now()))

    def add(a: TeachingAssignment, scale: ScaleInfo, student: int, period: StudyPeriod, kind: str, value: int) -> None:
        moment = at(whole.end if kind == GradeKind.ANNUAL else period.end)
        grades.append((school.pk, a.pk, student, period.pk, kind, 0, "", value, 1, a.teacher_id, moment, moment))
        meta[(a.pk, student, period.pk, kind)] = (a.teacher_id, scale.info[value].code, moment)

    for a in assignments:
        level = a.school_class.year_level
        scale_id = a.scale_id or a.subject.scale_id or level.scale_id or school.default_scale_id
        scale = scales[scale_id or 0]
        if not scale.ranked:
            continue
        students = roster.get(a.school_class.pk, [])
        if a.subgroup_id is not None:
            students = [(s, day) for s, day in students if s.pk in members[a.subgroup_id]]
        is_exempt_subject = a.subject.name.startswith(EXEMPT_SUBJECT)
        for student, joined in students:
            given = []
            for period in semesters:
                if joined > period.end:
                    continue
                if student.pk in exempt and is_exempt_subject and EXEMPT in scale.by_code:
                    value = scale.by_code[EXEMPT]
                else:
                    value = _value(scale, _points(b, rng, strength, student.pk, a.subject_id))
                add(a, scale, student.pk, period, GradeKind.PERIOD, value)
                given.append(
                    {"kind": GradeKind.PERIOD, "period_id": period.pk, "ordinal": 0, "value": scale.info[value]}
                )
            annual = _annual(scale, given, period_rows, policy) if given else None
            if annual is not None:
                add(a, scale, student.pk, semesters[-1], GradeKind.ANNUAL, annual)
    write_grades(b, grades, meta)


def _annual(
    scale: ScaleInfo, given: list[dict[str, Any]], period_rows: dict[int, dict[str, Any]], policy: JournalPolicy
) -> int | None:
    """What the school's annual rule gives from the semesters; where it leaves the choice to the teacher (verbal
    levels that differ), the teacher gives the second semester's level; "н/а" where a semester is "н/а"."""
    expected = annual_expectation_of(given, period_rows, policy).expected
    annual = scale.by_code.get(expected) if expected else None
    if annual is None and expected and scale.numbers:
        annual = scale.grade(Decimal(expected))
    if annual is None and all(g["value"].code != NOT_ATTESTED for g in given):
        annual = scale.by_code[given[-1]["value"].code]
    return annual or scale.by_code.get(NOT_ATTESTED)


def _points(
    b: SchoolBuild, rng: random.Random, strength: dict[tuple[int, int], float], student: int, subject: int
) -> int | None:
    """A period grade on the 12-point scale: the student's ability a year ago, their strength in the subject and
    some noise; None ("н/а") now and then, more often the weaker the student."""
    ability = b.ability.get(student)
    if ability is None:
        ability = b.ability[student] = min(11.3, max(4.5, rng.gauss(8.4, 1.5)))
    if (student, subject) not in strength:
        strength[(student, subject)] = rng.gauss(0, 0.7)
    if rng.random() < NOT_ATTESTED_RATE * (2.5 if ability < 6 else 0.6):
        return None
    return min(12, max(1, round(rng.gauss(ability - GROWTH + strength[(student, subject)], 0.8))))


def _value(scale: ScaleInfo, points: int | None) -> int:
    """The scale's value for ``points`` as the journal step maps marks ("н/а" for None, where the scale has it)."""
    if points is None and NOT_ATTESTED in scale.by_code:
        return scale.by_code[NOT_ATTESTED]
    points = points or 4
    values = [pk for _passing, _ordinal, pk in scale.ranked]
    if len(values) == 12:
        return values[points - 1]
    if len(values) == 2:  # pass / fail
        return values[1 if points >= 4 else 0]
    return values[min(len(values) - 1, (points - 1) * len(values) // 12)]
