"""Demo steps: the staff with their workload, the students in families with their parents, consents.

- ``step_staff``: the administration, teachers per specialization with balanced loads (teaching
  assignments), class teachers; the demo logins (admin, director, deputy, secretary, teacher).
- ``step_students``: students in families (siblings share surname, patronymic and address), their
  memberships, enrolments and subgroup lists; the parents and guardian links (``_families``).
- ``step_consents``: personal-data consents for most students (about 7% missing).
- ``add_authority``: the education authority over the run's schools with a read-only viewer (R1.1).

Bulk writer: ``SchoolBuild.bulk`` (``bulk_create``, see ``classbook.demo.bulk``). A 1,000-student
school is ~12,000 rows here; the roster services (``roster.services.add_student``, ``add_guardian``,
``add_staff_member``) validate and audit per row and would take minutes. What they guarantee holds by
construction: usernames are unique across the run and the database (``DemoRun.username``), every
user has the one published demo password (hashed once), names fit the gender, birth dates fit the
year level, one enrolment per student starting on the first day of the year, one class teacher per
class and a teacher is class teacher of at most one class, subgroup members belong to the subgroup's
class, guardian links and consents point to students of the same school, membership dates are not
after the year's first day, no date in the future (``JOINED_AT`` is fixed). The class teachers are set
and the director's name with ``update_objects`` (``bulk_update``).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal

from classbook.demo import curriculum
from classbook.demo.build import YEAR_START, DemoRun, Family, Person, SchoolBuild, TeacherPlan, Unit
from classbook.demo.bulk import update_objects
from classbook.demo.names import (
    BOY_NAMES,
    FEMALE_ADULT_NAMES,
    GIRL_NAMES,
    KYIV_STREETS,
    MALE_NAMES,
    MOBILE_CODES,
    SURNAMES,
)
from classbook.people.models import (
    AuthorityViewer,
    Consent,
    ConsentPurpose,
    Enrolment,
    Gender,
    GuardianLink,
    Membership,
    Role,
    Student,
    User,
)
from classbook.schools.models import EducationAuthority, School, SchoolClass, Subgroup, TeachingAssignment

AUTHORITY_NAME = "Департамент освіти і науки м. Києва (демо)"
TARGET_LOAD = Decimal(20)  # weekly hours a teacher usually carries (1.1 of the 18-hour rate)
MIN_LOAD = Decimal(18)  # the teacher's rate in Ukraine
MAX_LOAD = Decimal(30)
MIN_SPEC_HOURS = Decimal(12)  # fewer hours than this go to a teacher of a related subject


def _phone(rng: random.Random) -> str:
    n = rng.randrange(10_000_000)
    return f"+380 {rng.choice(MOBILE_CODES)} {n // 10000:03d} {n // 100 % 100:02d} {n % 100:02d}"


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _adult(
    rng: random.Random, gender: str, born_from: int, born_to: int, surname: tuple[str, str] | None = None
) -> Person:
    last = (surname or rng.choice(SURNAMES))[0 if gender == Gender.MALE else 1]
    father = rng.choice(MALE_NAMES)
    if gender == Gender.MALE:
        first = rng.choice(MALE_NAMES)[0]
        patronymic = father[1]
    else:
        first = rng.choice(FEMALE_ADULT_NAMES)
        patronymic = father[2]
    birth = _date_between(rng, dt.date(born_from, 1, 1), dt.date(born_to, 12, 31))
    return Person(last, first, patronymic, gender, birth)


def _hired_on(rng: random.Random, person: Person) -> dt.date:
    """A first working day at the school after the person's graduation (about 23)."""
    assert person.birth is not None
    earliest = max(dt.date(person.birth.year + 23, 8, 25), dt.date(1990, 8, 25))
    return _date_between(rng, earliest, max(earliest, dt.date(2026, 8, 25)))


def _address(rng: random.Random) -> str:
    return f"м. Київ, {rng.choice(KYIV_STREETS)}, буд. {rng.randint(1, 120)}, кв. {rng.randint(1, 240)}"


def teaching_units(classes: Sequence[SchoolClass], subgroups: dict[str, list[Subgroup]]) -> dict[str, list[Unit]]:
    """What the curriculum asks of each specialization in ``classes`` (split subjects once per subgroup)."""
    units: dict[str, list[Unit]] = defaultdict(list)
    for c in classes:
        level = c.year_level.number
        whole: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        split: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
        for subject, hours in curriculum.level_hours(level).items():
            spec = curriculum.spec_for(subject, level)
            (split if curriculum.is_split(subject, level) else whole)[spec].append((subject, hours))
        for spec, items in whole.items():
            units[spec].append(Unit(c, None, items))
        for spec, items in split.items():
            for sg in subgroups.get(c.name, []):
                units[spec].append(Unit(c, sg, list(items)))
    # Small schools: a subject with a few hours goes to the teacher of a related one.
    changed = True
    while changed:
        changed = False
        for spec in sorted(units, key=lambda s: (sum(u.hours for u in units[s]), s)):
            partner = curriculum.PARTNER_SPEC.get(spec)
            total = sum(u.hours for u in units[spec])
            if partner and units.get(partner) and total < MIN_SPEC_HOURS:
                units[partner].extend(units.pop(spec))
                changed = True
                break
    return dict(units)


def distribute(units: list[Unit], teachers: list[TeacherPlan]) -> None:
    """Largest units first to the least loaded teacher (balanced loads); two subgroups of a
    class go to two different teachers when there are two. Teachers start from the units they already carry.
    A heap keeps it O(n log n)."""
    order = sorted(units, key=lambda u: (-u.hours, u.school_class.name, u.subgroup.name if u.subgroup else ""))
    heap = [(t.load, i) for i, t in enumerate(teachers)]
    heapq.heapify(heap)
    split_classes: list[set[int]] = [{id(u.school_class) for u in t.units if u.subgroup is not None} for t in teachers]
    for unit in order:
        key = id(unit.school_class)
        skipped = []
        load, i = heapq.heappop(heap)
        while unit.subgroup is not None and key in split_classes[i] and heap:
            skipped.append((load, i))
            load, i = heapq.heappop(heap)
        if unit.subgroup is not None and key in split_classes[i] and skipped:
            # Every teacher already has the other subgroup: the least loaded takes both.
            skipped.append((load, i))
            skipped.sort()
            load, i = skipped.pop(0)
        teachers[i].units.append(unit)
        if unit.subgroup is not None:
            split_classes[i].add(key)
        heapq.heappush(heap, (load + unit.hours, i))
        for item in skipped:
            heapq.heappush(heap, item)


def step_staff(b: SchoolBuild) -> None:
    """Administration, teachers with their workload (teaching assignments), class teachers."""
    school, year = b.school, b.year
    assert school is not None and year is not None
    rng = b.rng("staff")
    run = b.run

    # Administration: the director, deputies (about one per 400 students), secretary, administrator.
    admin_posts = [
        (Role.DIRECTOR, "director", "директор"),
        (Role.DEPUTY, "deputy", "заступник директора з навчальної роботи"),
    ]
    extra_deputies = [
        "заступник директора з виховної роботи",
        "заступник директора з навчальної роботи (початкова школа)",
        "заступник директора з навчальної роботи (старша школа)",
    ]
    for post in extra_deputies[: max(0, min(3, round(b.students_wanted / 400) - 1))]:
        admin_posts.append((Role.DEPUTY, "", post))
    admin_posts += [
        (Role.SECRETARY, "secretary", "секретар"),
        (Role.ADMIN, "admin", "адміністратор електронного журналу"),
    ]
    admin_people: list[tuple[str, str, str, User, dt.date]] = []
    for role, login, position in admin_posts:
        gender = Gender.FEMALE if rng.random() < 0.75 else Gender.MALE
        person = _adult(rng, gender, 1965, 1992)
        user = run.new_user(
            person.last,
            person.first,
            person.patronymic,
            username=b.demo_username(login) if login else "",
            phone=_phone(rng),
            email="",
        )
        admin_people.append((role, login, position, user, _hired_on(rng, person)))

    # Teachers: one primary teacher per primary class; other specializations by their total hours.
    units = teaching_units(b.classes, b.subgroups)
    for spec in sorted(units, key=lambda s: list(curriculum.SPECIALIZATIONS).index(s)):
        spec_units = units[spec]
        total = sum((u.hours for u in spec_units), Decimal(0))
        if spec == "primary":
            count = sum(1 for c in b.classes if c.year_level.number <= 4) or 1
        else:
            count = max(1, int((total / TARGET_LOAD).to_integral_value()))
            # Fewer, fuller posts rather than teachers under the 18-hour rate, but never over 30 hours.
            while count > 1 and total / count < MIN_LOAD:
                count -= 1
            count = max(count, math.ceil(total / MAX_LOAD))
        share = curriculum.FEMALE_SHARE.get(spec, curriculum.DEFAULT_FEMALE_SHARE)
        plans = []
        for _ in range(count):
            gender = Gender.FEMALE if rng.random() < share else Gender.MALE
            plans.append(TeacherPlan(_adult(rng, gender, 1962, 1999), spec))
        distribute(spec_units, plans)
        b.teachers.extend(p for p in plans if p.units)

    # Class teachers: a primary class's own teacher; otherwise the teacher with most hours in the class.
    hours_in: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for i, t in enumerate(b.teachers):
        for u in t.units:
            hours_in[id(u.school_class)][i] += u.hours
    free = set(range(len(b.teachers)))
    homeroom_teacher: dict[int, TeacherPlan] = {}
    for c in b.classes:
        in_class = hours_in[id(c)]
        candidates = [i for i in in_class if i in free] or sorted(free)[:1] or list(range(len(b.teachers)))[:1]
        chosen = max(candidates, key=lambda i: (in_class.get(i, Decimal(0)), -i))
        best = b.teachers[chosen]
        if best.homeroom is None:
            best.homeroom = c
            free.discard(chosen)
        homeroom_teacher[id(c)] = best

    # The demo teacher: class teacher of the first 5th-grade class (teaches several classes too).
    demo_class = next((c for c in b.classes if c.year_level.number == 5), b.classes[0] if b.classes else None)
    demo_teacher = homeroom_teacher[id(demo_class)] if demo_class else None
    if demo_teacher is not None:
        # First in every list, so ``demo_logins`` finds it as the first teacher by id.
        b.teachers.remove(demo_teacher)
        b.teachers.insert(0, demo_teacher)
    for t in b.teachers:
        p = t.person
        login = b.demo_username("teacher") if t is demo_teacher else ""
        t.user = run.new_user(p.last, p.first, p.patronymic, username=login, phone=_phone(rng))

    b.bulk(User, [u for _, _, _, u, _ in admin_people] + [t.user for t in b.teachers if t.user])
    b.staff = {login: u for _, login, _, u, _ in admin_people if login}
    if demo_teacher is not None and demo_teacher.user is not None:
        b.staff["teacher"] = demo_teacher.user
    school.director_name = next(u.full_name for r, _, _, u, _ in admin_people if r == Role.DIRECTOR)
    update_objects(School, [school], ["director_name"])

    memberships = [
        Membership(
            school=school,
            user=u,
            role=role,
            position=pos,
            since=since,
        )
        for role, _, pos, u, since in admin_people
    ]
    memberships += [
        Membership(
            school=school,
            user=t.user,
            role=Role.TEACHER,
            position=curriculum.SPECIALIZATIONS[t.spec],
            since=_hired_on(rng, t.person),
        )
        for t in b.teachers
    ]
    b.bulk(Membership, memberships)

    for c in b.classes:
        c.class_teacher = homeroom_teacher[id(c)].user
    update_objects(SchoolClass, b.classes, ["class_teacher"])

    b.assignments = [
        TeachingAssignment(
            school=school,
            year=year,
            teacher=t.user,
            school_class=u.school_class,
            subgroup=u.subgroup,
            subject=b.subjects[name],
            hours_per_week=hours,
        )
        for t in b.teachers
        for u in t.units
        for name, hours in u.items
    ]
    b.bulk(TeachingAssignment, b.assignments)


def _children_count(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.8 else 2 if r < 0.97 else 3


def step_students(b: SchoolBuild) -> None:
    """Students in families: siblings share surname, patronymic and address; 1-2 parents each."""
    school = b.school
    assert school is not None
    rng = b.rng("students")
    run = b.run

    # Seats per year level, shuffled, so siblings land in different levels.
    seats: dict[int, list[SchoolClass]] = defaultdict(list)
    for c in b.classes:
        seats[c.year_level.number].extend([c] * b.class_sizes[c.name])
    for lvl in seats:
        rng.shuffle(seats[lvl])
    demo_teacher = b.staff.get("teacher")
    demo_class = next((c for c in b.classes if demo_teacher and c.class_teacher is demo_teacher), None)

    students: list[Student] = []
    users: list[User] = []
    serial = 0
    while any(seats.values()):
        first_family = not b.families
        k = 2 if first_family else _children_count(rng)
        family = Family(
            surname=rng.choice(SURNAMES),
            father_name=rng.choice(MALE_NAMES),
            address=_address(rng),
        )
        chosen: list[SchoolClass] = []
        if first_family and demo_class is not None:
            seats[demo_class.year_level.number].remove(demo_class)
            chosen.append(demo_class)
        while len(chosen) < k:
            taken = {c.year_level.number for c in chosen}
            open_levels = [lvl for lvl in sorted(seats) if seats[lvl] and lvl not in taken]
            if not open_levels:
                break
            lvl = rng.choices(open_levels, weights=[len(seats[lvl]) for lvl in open_levels])[0]
            chosen.append(seats[lvl].pop())
        used_names: set[str] = set()
        for c in chosen:
            level = c.year_level.number
            gender = Gender.MALE if rng.random() < 0.5 else Gender.FEMALE
            pool = BOY_NAMES if gender == Gender.MALE else GIRL_NAMES
            first = rng.choice([n for n in pool if n not in used_names])
            used_names.add(first)
            last = family.surname[0 if gender == Gender.MALE else 1]
            patronymic = family.father_name[1 if gender == Gender.MALE else 2]
            # Grade 1 in September 2026: born September 2019 - August 2020; a few are a year older.
            born_from = dt.date(2020 - level, 9, 1)
            if rng.random() < 0.04:
                born_from = born_from.replace(year=born_from.year - 1)
            birth = _date_between(rng, born_from, born_from.replace(year=born_from.year + 1) - dt.timedelta(days=1))
            serial += 1
            login = b.demo_username("student") if first_family and c is demo_class else ""
            user = run.new_user(last, first, patronymic, username=login, phone=_phone(rng) if level >= 3 else "")
            student = Student(
                school=school,
                user=user,
                birth_date=birth,
                gender=gender,
                address=family.address,
                phone=user.phone,
                personal_file_number=f"{last[0]}-{serial:04d}",
            )
            users.append(user)
            students.append(student)
            family.children.append(student)
            b.student_class[id(student)] = c
        b.families.append(family)

    b.bulk(User, users)
    b.bulk(Student, students)
    b.students = students
    b.student_class = {s.pk: b.student_class[id(s)] for s in students}

    # Students who started in grade 1 here have been members since; about 15% came later.
    memberships = []
    for s in students:
        level = b.student_class[s.pk].year_level.number
        since = (
            dt.date(2027 - level, 9, 1)
            if rng.random() < 0.85
            else _date_between(rng, dt.date(2027 - level, 9, 1), YEAR_START)
        )
        b.member_since[s.pk] = since
        memberships.append(Membership(school=school, user=s.user, role=Role.STUDENT, since=since))
    b.bulk(Membership, memberships)
    b.bulk(
        Enrolment,
        (Enrolment(school=school, student=s, school_class=b.student_class[s.pk], start=YEAR_START) for s in students),
    )

    # Subgroups: the class list in alphabetical order, first half in group 1 (as schools split it).
    by_class: dict[str, list[Student]] = defaultdict(list)
    for s in students:
        by_class[b.student_class[s.pk].name].append(s)
    through = Subgroup.students.through
    links = []
    for name, groups in b.subgroups.items():
        roster = sorted(by_class.get(name, []), key=lambda s: (s.user.last_name, s.user.first_name, s.user.patronymic))
        half = (len(roster) + 1) // 2
        for i, s in enumerate(roster):
            links.append(through(subgroup_id=groups[0 if i < half else 1].pk, student_id=s.pk))
    b.bulk(through, links)

    _families(b, rng)


def _families(b: SchoolBuild, rng: random.Random) -> None:
    """Parents (mother and father, or one of them, or a guardian) and their guardian links."""
    school = b.school
    assert school is not None
    run = b.run
    parent_users: list[User] = []
    for i, family in enumerate(b.families):
        r = rng.random()
        both = i == 0 or r < 0.75
        mother = both or r < 0.95
        father = both or (not mother and r < 0.98)
        if mother:
            p = _adult(rng, Gender.FEMALE, 1972, 1998, family.surname)
            login = b.demo_username("parent") if i == 0 else ""
            user = run.new_user(p.last, p.first, p.patronymic, username=login, phone=_phone(rng))
            family.guardians.append((user, "мати"))
        if father:
            dad = family.father_name
            patronymic = rng.choice(MALE_NAMES)[1]
            user = run.new_user(family.surname[0], dad[0], patronymic, phone=_phone(rng))
            family.guardians.append((user, "батько"))
        if not family.guardians:
            # A grandmother as the legal guardian.
            p = _adult(rng, Gender.FEMALE, 1950, 1966, family.surname if rng.random() < 0.5 else None)
            user = run.new_user(p.last, p.first, p.patronymic, phone=_phone(rng))
            family.guardians.append((user, "опікун"))
        for user, _ in family.guardians:
            if rng.random() < 0.7:
                user.email = f"{user.username}@example.com"
            parent_users.append(user)
    b.bulk(User, parent_users)
    b.parents = parent_users

    memberships, links = [], []
    for i, family in enumerate(b.families):
        # A parent has been a member since their eldest child's first day here.
        since = min(b.member_since[child.pk] for child in family.children)
        for user, relation in family.guardians:
            memberships.append(Membership(school=school, user=user, role=Role.PARENT, since=since))
            # Now and then a court restricts a father's access to the child's data.
            may_see = not (i > 0 and relation == "батько" and rng.random() < 0.01)
            links += [
                GuardianLink(school=school, guardian=user, student=child, relation=relation, may_see=may_see)
                for child in family.children
            ]
    b.bulk(Membership, memberships)
    b.bulk(GuardianLink, links)


def step_consents(b: SchoolBuild) -> None:
    """Personal-data consents for most students (about 7% missing, for the consent report)."""
    school = b.school
    assert school is not None
    rng = b.rng("consents")
    recorder = b.staff.get("secretary") or b.staff.get("admin")
    assert recorder is not None
    consents = []
    number = 0
    for i, family in enumerate(b.families):
        given_by = family.guardians[0][0].full_name
        for child in family.children:
            number += 1
            given_on = _date_between(rng, dt.date(2026, 8, 20), dt.date(2026, 9, 10))
            purposes = []
            if i == 0 or rng.random() < 0.93:
                purposes.append(ConsentPurpose.PERSONAL_DATA)
                if rng.random() < 0.85:
                    purposes.append(ConsentPurpose.NOTIFICATIONS)
                if rng.random() < 0.6:
                    purposes.append(ConsentPurpose.PHOTO)
            consents += [
                Consent(
                    school=school,
                    student=child,
                    purpose=purpose,
                    given_by=given_by,
                    given_on=given_on,
                    document_ref=f"заява № {number}",
                    recorded_by=recorder,
                )
                for purpose in purposes
            ]
    b.bulk(Consent, consents)


def add_authority(run: DemoRun, schools: Sequence[School]) -> None:
    """An education authority over the demo schools with a read-only viewer (R1.1)."""
    authority = EducationAuthority.objects.filter(name=AUTHORITY_NAME).first()
    created = authority is None
    if authority is None:
        (authority,) = run.bulk(EducationAuthority, [EducationAuthority(name=AUTHORITY_NAME)])
        linked: set[int] = set()
    else:  # an earlier run's authority (another slug): add the new schools to it
        linked = set(authority.schools.values_list("pk", flat=True))
    through = EducationAuthority.schools.through
    run.bulk(through, [through(educationauthority=authority, school=s) for s in schools if s.pk not in linked])
    if created:
        rng = random.Random(f"{run.options.seed}:authority")
        p = _adult(rng, Gender.FEMALE, 1970, 1985)
        viewer = run.new_user(p.last, p.first, p.patronymic, username=run.username("viewer"), phone=_phone(rng))
        run.bulk(User, [viewer])
        run.bulk(AuthorityViewer, [AuthorityViewer(authority=authority, user=viewer)])
