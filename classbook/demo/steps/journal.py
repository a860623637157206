"""Demo step: the journal of every lesson up to the demo's "today".

``step_journal(build)`` runs after the timetable step and fills every generated lesson dated up to the
demo's "today" (``journal_until``: ``timezone.localdate()`` clamped into the academic year, so a demo
generated before or after 2026/2027 still shows a journal): topic, homework (about 70% of lessons, due at
the next lesson), register taken, absences ("н", about 4% of student-lessons), marks on about a quarter of
student-lessons on the assignment's effective scale (current work, every tenth lesson a control work for
the whole class, now and then an independent work), a few entries made after the deadline (``is_late``)
and a few control remarks by the deputy.

Bulk writers (``classbook.demo.bulk``) instead of the journal's cell and lesson services: a 1,000-student
school has ~12,000 lessons by late November and ~150,000 journal rows, and the services cost several
queries per cell. Rows are built as plain tuples (``update_rows`` for the lessons, ``insert_rows`` for
marks, attendance and their audit rows, chunks of ``CHUNK`` rows) so the number of queries grows with the
chunks, never with the rows. What the services guarantee, kept here the same way:

- **the same audit rows**: every mark, absence, topic, homework and register gets its ``JournalChange``
  (the kind, the assignment, the lesson, the student, the row's id, the new value, ``is_late``) with the
  lesson's teacher, or the substitute who conducted it, as the actor, at the moment of the entry;
- **the same versions**: every mark and attendance row is new, ``version = 1`` as the service writes;
- **one entry per cell**: a student absent from a lesson gets no mark in it, and a present student at
  most one mark per lesson (slot 0), so no cell holds an absence and a mark, or two marks;
- **the scale and the roster**: marks are values of the assignment's effective scale (the assignment's,
  else the subject's, else the year level's, else the school's default), never special or period-only
  values, and only for students enrolled in the class (in the subgroup) on the lesson's date; cancelled
  lessons get nothing;
- **no period grade** here (``steps.grades`` derives them afterwards from these marks, for closed periods
  only, so none before its marks) and no correction;
- **no future times**: every timestamp derives from the lesson's date and bell and is never later than
  the moment the demo runs; an entry that would be late but whose next evening has not come is not late;
- **deadline flags**: ``is_late`` is set exactly on the entries written after the next evening.

Deterministic for a fixed date: the randomness comes from ``build.rng("journal")``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone

from classbook.demo.build import SchoolBuild, journal_until
from classbook.demo.bulk import insert_rows, insert_select, last_pk, table, update_rows
from classbook.journal.models import (
    Attendance,
    AttendanceCode,
    ChangeKind,
    JournalChange,
    Lesson,
    LessonType,
    Mark,
    Remark,
    WorkType,
)
from classbook.people.models import Enrolment
from classbook.schools.models import ScaleLevel, ScaleValue, Subgroup, TeachingAssignment
from classbook.timetable.models import ChangeKind as LessonChangeKind
from classbook.timetable.models import LessonChange

ABSENCE_RATE = 0.04
HOMEWORK_RATE = 0.70
CURRENT_MARK_RATE = 0.11  # of present students at an ordinary lesson
INDEPENDENT_MARK_RATE = 0.6
LATE_LESSON_RATE = 0.02  # lessons whose entries were made after the deadline
REMARKS = 12
BELL_END = {1: (9, 15), 2: (10, 10), 3: (11, 15), 4: (12, 20), 5: (13, 15), 6: (14, 10), 7: (15, 5), 8: (16, 0)}

# Real topic wording for the main subjects (matched by the start of the subject's name), cycled.
TOPICS: dict[str, list[str]] = {
    "Українська мова": [
        "Повторення вивченого. Текст, його ознаки",
        "Словосполучення і речення",
        "Головні члени речення",
        "Другорядні члени речення",
        "Однорідні члени речення",
        "Звертання. Вставні слова",
        "Складне речення. Розділові знаки",
        "Пряма мова. Діалог",
        "Фонетика. Голосні та приголосні звуки",
        "Орфограма «Ненаголошені [е], [и] в корені слова»",
    ],
    "Українська література": [
        "Усна народна творчість. Казки",
        "Легенди та перекази",
        "Тарас Шевченко. Життєвий і творчий шлях",
        "Іван Франко «Захар Беркут»",
        "Леся Українка. Поезія",
        "Михайло Коцюбинський «Інтермецо»",
        "Урок позакласного читання",
    ],
    "Математика": [
        "Натуральні числа. Порівняння натуральних чисел",
        "Додавання і віднімання натуральних чисел",
        "Множення і ділення натуральних чисел",
        "Розв'язування текстових задач",
        "Звичайні дроби",
        "Десяткові дроби. Округлення",
        "Відсотки. Знаходження відсотка від числа",
        "Рівняння",
        "Кут. Вимірювання кутів",
    ],
    "Алгебра": [
        "Раціональні вирази",
        "Тотожні перетворення виразів",
        "Степінь з цілим показником",
        "Функція та її графік",
        "Квадратні корені. Арифметичний квадратний корінь",
        "Квадратні рівняння. Теорема Вієта",
        "Системи рівнянь з двома змінними",
        "Нерівності та їх властивості",
    ],
    "Геометрія": [
        "Паралельні прямі. Ознаки паралельності",
        "Трикутник. Ознаки рівності трикутників",
        "Чотирикутники. Паралелограм",
        "Теорема Фалеса",
        "Подібні трикутники",
        "Теорема Піфагора",
        "Площі многокутників",
        "Коло і круг",
    ],
    "Історія України": [
        "Україна на початку XX століття",
        "Українська революція 1917-1921 рр.",
        "Утворення Української Народної Республіки",
        "Західноукраїнська Народна Республіка",
        "Україна в умовах нової економічної політики",
        "Голодомор 1932-1933 рр.",
        "Україна в Другій світовій війні",
        "Відновлення незалежності України",
    ],
    "Англійська мова": [
        "My Family and Friends. Present Simple",
        "School Life. Present Continuous",
        "Free Time and Hobbies",
        "Food and Health. Countable and uncountable nouns",
        "Travelling. Past Simple",
        "Shopping. Comparatives and superlatives",
        "Ukraine and the UK. Reading and discussion",
        "Weather and Seasons. Future with will / going to",
    ],
    "Фізика": [
        "Фізика як природнича наука. Методи наукового пізнання",
        "Механічний рух. Швидкість руху",
        "Взаємодія тіл. Сила. Маса",
        "Тиск твердих тіл, рідин і газів",
        "Механічна робота та енергія",
        "Теплові явища. Внутрішня енергія",
        "Електричний струм. Закон Ома",
        "Лабораторна робота: вимірювання густини речовини",
    ],
    "Біологія": [
        "Клітина — одиниця живого",
        "Будова рослинної клітини",
        "Тканини рослин і тварин",
        "Фотосинтез",
        "Різноманітність тварин",
        "Травна система людини",
        "Кровоносна система людини",
        "Лабораторне дослідження: будова клітин під мікроскопом",
    ],
    "Інформатика": [
        "Правила безпеки в комп'ютерному класі",
        "Інформація та інформаційні процеси",
        "Файли і папки. Файлова система",
        "Текстовий редактор. Форматування документа",
        "Електронні таблиці. Формули",
        "Алгоритми та їх виконавці",
        "Змінні та цикли в Python",
        "Безпека в Інтернеті",
    ],
    "Хімія": [
        "Хімічні елементи. Періодична система",
        "Будова атома",
        "Хімічний зв'язок",
        "Кисень. Реакції окиснення",
        "Вода. Розчини",
        "Основні класи неорганічних сполук",
    ],
    "Географія": [
        "Географічна карта. Масштаб",
        "Літосфера. Рельєф Землі",
        "Атмосфера. Погода і клімат",
        "Гідросфера. Світовий океан",
        "Природні зони",
        "Населення України",
    ],
}
GENERIC_TOPICS = [
    "Вступ до курсу «{subject}»",
    "Повторення вивченого",
    "Вивчення нового матеріалу",
    "Практичне заняття",
    "Узагальнення та систематизація знань",
]
LESSONS_PER_TOPIC = 3
HOMEWORK = [
    "§ {n}, вправа {a} (письмово)",
    "Вивчити конспект, виконати вправи {a}-{b}",
    "§ {n}, дати відповіді на запитання в кінці параграфа",
    "Задачі № {a}, {b} (с. {p})",
    "Підготувати повідомлення за темою уроку",
    "Повторити § {n}, с. {p}-{q}",
]
REMARK_TEXTS = [
    "Не записано домашнє завдання.",
    "Тему уроку записано не повністю, звірте з календарним планом.",
    "Недостатня кількість поточних оцінок у частини учнів.",
    "Оцінки за контрольну роботу виставлено із запізненням.",
]


def topics_for(subject: str) -> list[str]:
    for key, topics in TOPICS.items():
        if subject.startswith(key) or key.startswith(subject):
            return topics
    # "Фізика і астрономія", "Біологія і екологія", "Історія: Україна і світ" ...
    for key, topics in TOPICS.items():
        if subject.split()[0].rstrip(":") == key.split()[0]:
            return topics
    return [t.format(subject=subject) for t in GENERIC_TOPICS]


def step_journal(b: SchoolBuild) -> None:
    school, year = b.school, b.year
    deputy = b.staff.get("deputy") or b.staff.get("admin")
    if school is None or year is None or deputy is None or not b.assignments:
        return
    rng = b.rng("journal")
    # A student's ability (the mean of their 12-point marks): most between 6 and 11.
    students = sorted(
        Enrolment.objects.filter(school=school, school_class__year=year).values_list("student_id", flat=True)
    )
    ability = {s: min(11.3, max(4.5, rng.gauss(8.4, 1.5))) for s in dict.fromkeys(students)}
    b.ability = ability  # the previous year's grades (``steps.last_year``) follow the same students
    past_lessons = fill_journal(b, rng, year.start, journal_until(year.start, year.end), lambda s, _a, _d: ability[s])

    # A few control remarks by the deputy on journals of the past weeks (R6.10); one on the demo teacher's.
    if past_lessons:
        chosen = rng.sample(past_lessons, min(REMARKS, len(past_lessons)))
        demo_teacher = b.staff.get("teacher")
        if demo_teacher is not None:
            own = [p for p in past_lessons if p[3] == demo_teacher.pk]
            if own:
                chosen[0] = rng.choice(own)
        b.bulk(
            Remark,
            [
                Remark(
                    school=school,
                    assignment_id=assignment_id,
                    lesson_id=lesson_id,
                    text=rng.choice(REMARK_TEXTS),
                    author=deputy,
                )
                for lesson_id, assignment_id, _present, _teacher in chosen
            ],
        )


MARK_FIELDS = [
    "school",
    "lesson",
    "student",
    "work_type",
    "slot",
    "value",
    "comment",
    "is_late",
    "version",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
]
ATTENDANCE_FIELDS = ["school", "lesson", "student", "code", "reason", "is_late", "version", "recorded_by", "updated_at"]
CHANGE_FIELDS = [
    "school",
    "at",
    "actor",
    "kind",
    "assignment",
    "lesson",
    "student",
    "object_id",
    "old_value",
    "new_value",
    "is_late",
    "reason",
    "announced_at",
]


def fill_journal(
    b: SchoolBuild,
    rng: random.Random,
    start: dt.date,
    until: dt.date,
    centre: Callable[[int, int, dt.date], float],
) -> list[tuple[int, int, int, int]]:
    """Fill the school's lessons dated ``start``-``until`` (topic, homework, register, absences, marks and their
    audit rows); ``centre(student, assignment, date)`` is the mean of the student's marks on the 12-point scale.
    Returns (lesson, assignment, students present, teacher) of the filled lessons."""
    school = b.school
    assert school is not None
    tz = timezone.get_current_timezone()
    now = timezone.now()
    adapt_dt = connection.ops.adapt_datetimefield_value
    adapt_d = connection.ops.adapt_datefield_value
    # The seeded journal is history, not news: its audit rows are written already announced, as
    # ``journal.outbox.settle`` would leave them (the generator settles whatever else is pending at the end).
    settled = adapt_dt(now)

    # --- read what the earlier steps wrote (a handful of queries) ---
    work_types = dict(WorkType.objects.filter(school=school).values_list("code", "pk"))
    absent_code = AttendanceCode.objects.filter(school=school, counts_as_absent=True).order_by("ordinal", "pk").first()
    scale_values: dict[int, list[tuple[int, int, bool, str]]] = defaultdict(list)
    for pk, value_scale_id, code, ordinal, passing in (
        ScaleValue.objects.filter(school=school, period_only=False)
        .exclude(level=ScaleLevel.SPECIAL)
        .values_list("pk", "scale_id", "code", "ordinal", "is_passing")
    ):
        scale_values[value_scale_id].append((pk, ordinal, passing, code))
    pickers = {}
    for scale, levels in scale_values.items():
        ranked = sorted(levels, key=lambda v: (v[2], v[1]))  # failing first, then by order: worse -> better
        pickers[scale] = [(pk, code) for pk, _o, _p, code in ranked]
    assignments = {
        row[0]: row
        for row in TeachingAssignment.objects.filter(school=school).values_list(
            "pk",
            "teacher_id",
            "school_class_id",
            "subgroup_id",
            "subject__name",
            "scale_id",
            "subject__scale_id",
            "school_class__year_level__scale_id",
        )
    }
    default_scale = school.default_scale_id
    roster: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for student_id, class_id, start, end in Enrolment.objects.filter(school=school).values_list(
        "student_id", "school_class_id", "start", "end"
    ):
        roster[class_id].append((student_id, start, end))
    for students in roster.values():
        students.sort()
    in_subgroup: dict[int, set[int]] = defaultdict(set)
    for subgroup_id, student_id in Subgroup.students.through.objects.filter(subgroup__school=school).values_list(
        "subgroup_id", "student_id"
    ):
        in_subgroup[subgroup_id].add(student_id)
    cancelled = set(
        LessonChange.objects.filter(school=school, kind=LessonChangeKind.CANCELLED).values_list("lesson_id", flat=True)
    )
    by_assignment: dict[int, list[tuple[int, dt.date, int | None, int | None]]] = defaultdict(list)
    for pk, assignment_id, date, lesson_number, conductor_id in (
        Lesson.objects.filter(school=school, date__range=(start, until))
        .order_by("date", "number", "pk")
        .values_list("pk", "assignment_id", "date", "number", "conducted_by_id")
    ):
        if pk not in cancelled:
            by_assignment[assignment_id].append((pk, date, lesson_number, conductor_id))

    lesson_updates: list[tuple[Any, ...]] = []
    marks: list[tuple[Any, ...]] = []
    absences: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []  # lesson-level audit rows (topic, homework, register)
    past_lessons: list[tuple[int, int, int, int]] = []  # (lesson, assignment, student count) for remarks
    wt_current, wt_control, wt_independent = (
        work_types["current"],
        work_types.get("control", work_types["current"]),
        work_types.get("independent", work_types["current"]),
    )

    for assignment_id in sorted(by_assignment):
        _pk, teacher_id, class_id, subgroup_id, subject, *scales = assignments[assignment_id]
        scale_id = next((s for s in scales if s), default_scale)
        values = pickers.get(scale_id, []) if scale_id is not None else []
        n_values = len(values)
        topics = topics_for(subject)
        lessons = by_assignment[assignment_id]
        members = in_subgroup.get(subgroup_id) if subgroup_id else None
        for k, (lesson_id, date, number, conducted_by) in enumerate(lessons):
            if date > until:
                break
            actor = conducted_by or teacher_id
            hour, minute = BELL_END.get(number or 0, (15, 0))
            at = dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=tz)
            late = rng.random() < LATE_LESSON_RATE
            if late:  # filled in the next evening, after the deadline
                at = at + dt.timedelta(days=1, hours=4)
            if at > now:
                # Nothing is written in the future (the journal is a record of what happened): a lesson of
                # today not over yet, or one of the year's first day when the demo runs before the year,
                # is filled in "now"; a late entry whose next evening has not come is not late yet.
                at, late = now, False
            at_db = adapt_dt(at)
            is_control = k % 10 == 9
            is_independent = k % 10 == 4
            lesson_type = LessonType.CONTROL if is_control else LessonType.COMBINED
            theme = k // LESSONS_PER_TOPIC
            topic = f"Тема {theme + 1}. {topics[theme % len(topics)]}"
            if is_control:
                topic = f"Контрольна робота. {topic}"
            homework, due = "", None
            if not is_control and rng.random() < HOMEWORK_RATE:
                n = k // 2 + 1
                a = rng.randint(1, 300)
                p = rng.randint(5, 250)
                homework = rng.choice(HOMEWORK).format(n=n, a=a, b=a + rng.randint(1, 4), p=p, q=p + 3)
                due = lessons[k + 1][1] if k + 1 < len(lessons) else date + dt.timedelta(days=7)
            lesson_updates.append((topic, lesson_type, homework, adapt_d(due), at_db, actor, at_db, lesson_id))
            changes.append(
                (
                    school.pk,
                    at_db,
                    actor,
                    ChangeKind.TOPIC,
                    assignment_id,
                    lesson_id,
                    None,
                    lesson_id,
                    "",
                    topic,
                    late,
                    "",
                    settled,
                )
            )
            if homework:
                changes.append(
                    (
                        school.pk,
                        at_db,
                        actor,
                        ChangeKind.HOMEWORK,
                        assignment_id,
                        lesson_id,
                        None,
                        lesson_id,
                        "",
                        homework,
                        late,
                        "",
                        settled,
                    )
                )
            changes.append(
                (
                    school.pk,
                    at_db,
                    actor,
                    ChangeKind.REGISTER,
                    assignment_id,
                    lesson_id,
                    None,
                    lesson_id,
                    "",
                    "taken",
                    late,
                    "",
                    settled,
                )
            )

            present = 0
            for student_id, start, end in roster.get(class_id, ()):
                if start > date or (end is not None and end < date):
                    continue
                if members is not None and student_id not in members:
                    continue
                if absent_code is not None and rng.random() < ABSENCE_RATE:
                    absences.append((school.pk, lesson_id, student_id, absent_code.pk, "", late, 1, actor, at_db))
                    continue
                present += 1
                if not n_values:
                    continue
                if is_control:
                    work_type = wt_control
                elif is_independent and rng.random() < INDEPENDENT_MARK_RATE:
                    work_type = wt_independent
                elif rng.random() < CURRENT_MARK_RATE:
                    work_type = wt_current
                else:
                    continue
                points = min(12, max(1, round(rng.gauss(centre(student_id, assignment_id, date), 1.4))))
                if n_values == 12:
                    index = points - 1
                elif n_values == 2:  # pass / fail
                    index = 1 if points >= 4 else 0
                else:  # verbal levels: 1-3, 4-6, 7-9, 10-12
                    index = min(n_values - 1, (points - 1) * n_values // 12)
                value_id = values[index][0]
                marks.append(
                    (school.pk, lesson_id, student_id, work_type, 0, value_id, "", late, 1, actor, at_db, actor, at_db)
                )
            past_lessons.append((lesson_id, assignment_id, present, teacher_id))

    # --- write: lessons, their audit rows, marks and absences, then theirs (derived in the database) ---
    update_rows(
        Lesson,
        ("topic", "lesson_type", "homework", "homework_due", "register_taken_at", "register_taken_by", "updated_at"),
        lesson_updates,
    )
    insert_rows(b, JournalChange, CHANGE_FIELDS, changes)
    after_mark, after_absence = last_pk(Mark), last_pk(Attendance)
    insert_rows(b, Mark, MARK_FIELDS, marks)
    insert_rows(b, Attendance, ATTENDANCE_FIELDS, absences)
    # Every new mark's and absence's audit row: by its author, at its time, with the value's code.
    lesson, value, code = table(Lesson), table(ScaleValue), table(AttendanceCode)
    for kind, written, after, by, when, joined in (
        (ChangeKind.MARK, table(Mark), after_mark, "created_by_id", "created_at", f"{value} v ON v.id = r.value_id"),
        (
            ChangeKind.ATTENDANCE,
            table(Attendance),
            after_absence,
            "recorded_by_id",
            "updated_at",
            f"{code} v ON v.id = r.code_id",
        ),
    ):
        insert_select(
            b,
            JournalChange,
            CHANGE_FIELDS,
            f"SELECT r.school_id, r.{when}, r.{by}, %s, l.assignment_id, r.lesson_id, r.student_id, r.id, '', v.code, "  # noqa: S608
            f"r.is_late, '', %s FROM {written} r JOIN {lesson} l ON l.id = r.lesson_id JOIN {joined} "
            "WHERE r.school_id = %s AND r.id > %s ORDER BY r.id",
            [kind, settled, school.pk, after],
        )
    return past_lessons
