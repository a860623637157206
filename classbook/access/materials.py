"""Who publishes and who reads learning and analytical materials (R8.1).

- Everyone with a role in the school opens the materials page; an authority viewer without a role does not.
- Teachers and the administration (administrator, director, deputy) publish: to the school's library, to a
  class they teach or lead (the administration: any class of the school), a subgroup of such a class, or a
  lesson they teach or conduct (the administration: any lesson of the school). The secretary, students and
  parents do not publish.
- Staff read every material of the school but the analytical ones; students and parents read the library and
  what is published to their (their children's) current class and subgroups.
- Analytical materials are read by the administration and their author only.
- The author and the administration edit and withdraw a material; the administrator and the director set
  the school's storage quota.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from classbook.access.context import SchoolContext
from classbook.access.rules import Perm
from classbook.journal.models import Lesson
from classbook.materials.models import Material, MaterialKind
from classbook.people.models import Enrolment, Role, current_enrolment_q
from classbook.schools.models import SchoolClass, Subgroup, Subject, YearLevel

# Publish anywhere in the school, edit and withdraw anyone's material, read analytical materials.
ADMINISTRATION_ROLES = frozenset({Role.ADMIN, Role.DIRECTOR, Role.DEPUTY})
PUBLISHER_ROLES = ADMINISTRATION_ROLES | {Role.TEACHER}


def may_open_materials(ctx: SchoolContext) -> bool:
    """The materials page and its link: everyone with a role in the school."""
    return bool(ctx.roles)


def may_publish_materials(ctx: SchoolContext) -> bool:
    """Publish materials: teachers and the administration, never a read-only viewer."""
    return bool(ctx.roles & PUBLISHER_ROLES) and not ctx.is_read_only


def may_read_analytics(ctx: SchoolContext) -> bool:
    """Every analytical material of the school: the administration (R8.1)."""
    return bool(ctx.roles & ADMINISTRATION_ROLES)


def may_set_quota(ctx: SchoolContext) -> bool:
    """The school's storage quota for materials: its administrator and director."""
    return ctx.has(Perm.MANAGE_SCHOOL_SETTINGS) and not ctx.is_read_only


def _family(ctx: SchoolContext) -> set[int]:
    family = set(ctx.child_student_ids)
    if ctx.own_student_id:
        family.add(ctx.own_student_id)
    return family


def _family_q(ctx: SchoolContext) -> Q:
    """The library, and what is published to a current class or a subgroup of the user or their children."""
    family = _family(ctx)
    if not family:
        return Q(school_class__isnull=True)
    in_class = Enrolment.objects.filter(
        current_enrolment_q(ctx.school.pk), student_id__in=family, school_class_id=OuterRef("school_class_id")
    )
    in_subgroup = Subgroup.students.through.objects.filter(subgroup_id=OuterRef("subgroup_id"), student_id__in=family)
    return (
        Q(school_class__isnull=True)
        | (Q(subgroup__isnull=True) & Q(Exists(in_class)))
        | (Q(subgroup__isnull=False) & Q(Exists(in_subgroup)))
    )


def visible_materials(ctx: SchoolContext) -> QuerySet[Material]:
    """The published (not withdrawn) materials the user may read, in one query."""
    if not may_open_materials(ctx):
        return Material.objects.none()
    qs = Material.objects.filter(school=ctx.school, withdrawn_at__isnull=True)
    if ctx.is_staff_member:
        if may_read_analytics(ctx):
            return qs
        return qs.filter(~Q(kind=MaterialKind.ANALYTICAL) | Q(created_by_id=ctx.user.pk))
    return qs.exclude(kind=MaterialKind.ANALYTICAL).filter(_family_q(ctx))


def may_edit_material(ctx: SchoolContext, material: Material) -> bool:
    """Edit and withdraw: the author (while still a publisher here) and the administration."""
    if not may_publish_materials(ctx) or material.school_id != ctx.school.pk:
        return False
    return material.created_by_id == ctx.user.pk or may_read_analytics(ctx)


def editable_materials(ctx: SchoolContext) -> QuerySet[Material]:
    """The published materials the user may edit or withdraw."""
    if not may_publish_materials(ctx):
        return Material.objects.none()
    qs = Material.objects.filter(school=ctx.school, withdrawn_at__isnull=True)
    return qs if may_read_analytics(ctx) else qs.filter(created_by_id=ctx.user.pk)


def target_classes(ctx: SchoolContext) -> QuerySet[SchoolClass]:
    """Classes the user may publish to: taught or led ones; any class of the school for the administration."""
    if not may_publish_materials(ctx):
        return SchoolClass.objects.none()
    qs = SchoolClass.objects.filter(school=ctx.school)
    if may_read_analytics(ctx):
        return qs
    return qs.filter(pk__in=ctx.homeroom_class_ids | ctx.taught_class_ids)


def target_subgroups(ctx: SchoolContext) -> QuerySet[Subgroup]:
    """Subgroups of the classes the user may publish to."""
    if not may_publish_materials(ctx):
        return Subgroup.objects.none()
    qs = Subgroup.objects.filter(school=ctx.school).select_related("school_class")
    if may_read_analytics(ctx):
        return qs
    return qs.filter(school_class_id__in=ctx.homeroom_class_ids | ctx.taught_class_ids)


def target_lessons(ctx: SchoolContext) -> QuerySet[Lesson]:
    """Lessons the user may publish to: the ones they teach or conduct; any of the school for the administration."""
    if not may_publish_materials(ctx):
        return Lesson.objects.none()
    qs = Lesson.objects.filter(school=ctx.school).select_related("assignment")
    if may_read_analytics(ctx):
        return qs
    return qs.filter(Q(assignment__teacher_id=ctx.user.pk) | Q(conducted_by_id=ctx.user.pk))


def material_subjects(ctx: SchoolContext) -> QuerySet[Subject]:
    """Subjects of the school (filters and the publishing form)."""
    if not may_open_materials(ctx):
        return Subject.objects.none()
    return Subject.objects.filter(school=ctx.school)


def material_year_levels(ctx: SchoolContext) -> QuerySet[YearLevel]:
    """Year levels of the school (filters and the publishing form)."""
    if not may_open_materials(ctx):
        return YearLevel.objects.none()
    return YearLevel.objects.filter(school=ctx.school)
