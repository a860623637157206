"""Who reads and writes portfolios (R8.2); docs/portfolios.md "Who sees what".

- A student's own entries are always seen by the family (the student, guardians whose link lets them see the
  child) and the class teacher of the student's current class. Beyond them an entry is seen only once the class
  teacher approved it: for the teachers of the class (``Sharing.CLASS``) or for the school's staff
  (``Sharing.SCHOOL``). Nobody else: not other students, not other parents, not another school, not a read-only
  authority viewer.
- Entries are added by the student and by the teachers of the student's current class; removed by their author
  or the class teacher; shared (approved, declined, withdrawn) by the class teacher only.
- A project belongs to a class: its members and their families, the class teacher and the teacher who made it
  see all of its entries; other teachers of the class and the staff see what the class teacher approved.
- A student without a current enrolment (departed, or the year closed) has a closed portfolio: read-only, kept
  with the personal file.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.access.scopes import students as visible_students
from classbook.people.models import Enrolment, Student, current_enrolment_q
from classbook.portfolios.models import Entry, Project, Sharing
from classbook.schools.models import SchoolClass

SHARED = (Sharing.CLASS, Sharing.SCHOOL)


def family_ids(ctx: SchoolContext) -> frozenset[int]:
    """The students whose whole portfolio the user reads as family: themselves and the children they may see."""
    ids = set(ctx.child_student_ids)
    if ctx.own_student_id:
        ids.add(ctx.own_student_id)
    return frozenset(ids)


def may_open_portfolios(ctx: SchoolContext) -> bool:
    """The portfolios page and its menu link: students, parents and teachers of a class (context only)."""
    if ctx.is_read_only:
        return False
    return bool(ctx.own_student_id or ctx.child_student_ids or ctx.homeroom_class_ids or ctx.taught_class_ids)


def may_read_portfolios(ctx: SchoolContext) -> bool:
    """A student's portfolio page: the family and teachers, and the staff (what was shared with the school)."""
    return may_open_portfolios(ctx) or (ctx.is_staff_member and not ctx.is_read_only)


def only_own_portfolio(ctx: SchoolContext) -> int | None:
    """A student who is nothing else in the school (no child, no staff role) goes straight to their own
    portfolio: its student id, else None."""
    if ctx.own_student_id and not ctx.child_student_ids and not ctx.is_staff_member:
        return ctx.own_student_id
    return None


def may_create_projects(ctx: SchoolContext) -> bool:
    """Make a project of a class: its class teacher or one of its teachers."""
    return not ctx.is_read_only and bool(ctx.homeroom_class_ids or ctx.taught_class_ids)


def _current(class_ids: frozenset[int], ctx: SchoolContext) -> QuerySet[Enrolment]:
    return Enrolment.objects.filter(current_enrolment_q(ctx.school.pk), school_class_id__in=class_ids)


def portfolio_students(ctx: SchoolContext) -> QuerySet[Student]:
    """Students whose portfolio page the user opens: the roster's rule (``scopes.students``: family, current
    students of their classes, everyone for the administration), never for a read-only viewer."""
    if not may_read_portfolios(ctx):
        return Student.objects.none()
    return visible_students(ctx)


def visible_entries(ctx: SchoolContext) -> QuerySet[Entry]:
    """Every entry the user may read (module docstring), students' and projects'."""
    if not may_read_portfolios(ctx):
        return Entry.objects.none()
    family = family_ids(ctx)
    members = Project.members.through.objects.filter(student_id__in=family).values("project_id")
    cond = Q(student_id__in=family) | Q(project_id__in=members) | Q(project__created_by_id=ctx.user.pk)
    if ctx.homeroom_class_ids:
        homeroom = _current(ctx.homeroom_class_ids, ctx).values("student_id")
        cond |= Q(student_id__in=homeroom) | Q(project__school_class_id__in=ctx.homeroom_class_ids)
    if ctx.taught_class_ids:
        taught = _current(ctx.taught_class_ids, ctx).values("student_id")
        cond |= Q(sharing__in=SHARED) & (
            Q(student_id__in=taught) | Q(project__school_class_id__in=ctx.taught_class_ids)
        )
    if ctx.is_staff_member:
        cond |= Q(sharing=Sharing.SCHOOL)
    return Entry.objects.filter(cond, school=ctx.school).select_related("created_by", "shared_by")


def visible_projects(ctx: SchoolContext) -> QuerySet[Project]:
    """Projects whose page the user opens: members and their families, the class's teachers, the maker, and the
    administration (which reads only what was shared with the school)."""
    if not may_read_portfolios(ctx):
        return Project.objects.none()
    qs = Project.objects.filter(school=ctx.school).select_related("school_class", "created_by")
    if ctx.has(Perm.VIEW_ALL_STUDENTS):
        return qs
    family = Project.members.through.objects.filter(student_id__in=family_ids(ctx)).values("project_id")
    classes = ctx.homeroom_class_ids | ctx.taught_class_ids
    return qs.filter(Q(pk__in=family) | Q(school_class_id__in=classes) | Q(created_by_id=ctx.user.pk))


def project_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes the user may make a project of."""
    if not may_create_projects(ctx):
        return SchoolClass.objects.none()
    return SchoolClass.objects.filter(school=ctx.school, pk__in=ctx.homeroom_class_ids | ctx.taught_class_ids)


def current_class_id(student: Student) -> int | None:
    """The student's class now (the current year's open enrolment), None once it is closed. One query."""
    return (
        Enrolment.objects.filter(current_enrolment_q(student.school_id), student=student)
        .order_by("-start")
        .values_list("school_class_id", flat=True)
        .first()
    )


@dataclass(frozen=True)
class Rights:
    """What the user may do on one portfolio (a student's or a project's); computed once per page."""

    closed: bool  # read-only: the student's enrolment is closed
    may_add: bool
    may_decide: bool  # approve, decline or withdraw sharing: the class teacher
    user_id: int

    def may_remove(self, entry: Entry) -> bool:
        return not self.closed and (self.may_decide or entry.created_by_id == self.user_id)

    def may_request(self, entry: Entry) -> bool:
        return not self.closed and self.may_add and entry.sharing == Sharing.FAMILY


def student_rights(ctx: SchoolContext, student: Student) -> Rights:
    """The student adds to their own portfolio, the teachers of their current class add too, the class teacher
    decides on sharing; nobody writes once the enrolment is closed. One query."""
    class_id = current_class_id(student)
    writable = class_id is not None and not ctx.is_read_only
    teaches = class_id is not None and class_id in (ctx.homeroom_class_ids | ctx.taught_class_ids)
    return Rights(
        closed=class_id is None,
        may_add=writable and (student.pk == ctx.own_student_id or teaches),
        may_decide=writable and class_id in ctx.homeroom_class_ids,
        user_id=ctx.user.pk,
    )


def project_rights(ctx: SchoolContext, project: Project, member_ids: set[int]) -> Rights:
    """Members, the class's teachers and the maker add entries; the class teacher decides on sharing."""
    writable = not ctx.is_read_only
    staff = project.school_class_id in (ctx.homeroom_class_ids | ctx.taught_class_ids)
    member = ctx.own_student_id is not None and ctx.own_student_id in member_ids
    return Rights(
        closed=False,
        may_add=writable and (member or staff or project.created_by_id == ctx.user.pk),
        may_decide=writable and project.school_class_id in ctx.homeroom_class_ids,
        user_id=ctx.user.pk,
    )


def member_ids(project: Project) -> set[int]:
    """The project's members (student ids). One query."""
    return set(Project.members.through.objects.filter(project_id=project.pk).values_list("student_id", flat=True))


def rights_on_project(ctx: SchoolContext, project: Project) -> Rights:
    return project_rights(ctx, project, member_ids(project))


def entry_rights(ctx: SchoolContext, entry: Entry) -> Rights:
    """The rights on the portfolio the entry belongs to."""
    if entry.project is not None:
        return rights_on_project(ctx, entry.project)
    assert entry.student is not None  # a check constraint: a student's or a project's
    return student_rights(ctx, entry.student)


def project_candidates(ctx: SchoolContext) -> QuerySet[Student]:
    """Students who may be made members of a project: the current students of the user's classes."""
    if not may_create_projects(ctx):
        return Student.objects.none()
    enrolled = _current(ctx.homeroom_class_ids | ctx.taught_class_ids, ctx).values("student_id")
    return Student.objects.filter(school=ctx.school, pk__in=enrolled).select_related("user")
