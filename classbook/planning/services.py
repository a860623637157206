"""Every change to calendar-thematic plans (R3.1-R3.3): import, copy, the shared base, submission and
approval, the deadline, binding to lessons and confirming the suggested topics.

Plans are the teacher's preparation, not the journal's record: their changes go to the administrative
log (``core.AuditEntry``). A lesson's topic becomes part of the journal only when the teacher confirms
the plan's suggestion (or enters a topic of their own) through the journal's ``update_lesson``, which
writes the ``JournalChange`` (R2.7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from classbook.access.journal import can_edit_lesson, school_roles
from classbook.access.planning import may_edit_plan
from classbook.access.rules import ROLE_PERMS, Perm
from classbook.core.audit import log_action
from classbook.core.errors import ConflictError, DomainError, PermissionDeniedError
from classbook.journal import services as journal_services
from classbook.journal.models import Lesson, LessonType
from classbook.planning.files import TopicRow, parse_file
from classbook.planning.models import (
    LessonBinding,
    Plan,
    PlanningDeadline,
    PlanStatus,
    PlanTopic,
)
from classbook.schools.models import AcademicYear, School, TeachingAssignment
from classbook.timetable.models import ChangeKind, LessonChange

if TYPE_CHECKING:
    from classbook.people.models import User

MAX_CONFIRM = 400


@dataclass(frozen=True)
class BindResult:
    bound: int  # lessons that got a plan topic
    suggested: int  # of these, lessons whose topic is still the plan's suggestion (empty in the journal)
    lessons_without_topic: int  # lessons beyond the end of the plan
    hours_without_lesson: int  # planned hours with no lesson left for them


def _ensure_teacher(acting_user: User, assignment: TeachingAssignment) -> None:
    if not may_edit_plan(acting_user, assignment):
        raise PermissionDeniedError(_("Only the teacher of this class and subject may change its plan."))


def is_approver(user: Any, school_id: int) -> bool:
    return any(Perm.APPROVE_PLANS in ROLE_PERMS.get(role, frozenset()) for role in school_roles(user, school_id))


def _ensure_approver(acting_user: User, school_id: int) -> None:
    if not is_approver(acting_user, school_id):
        raise PermissionDeniedError(_("Only the director or a deputy director may approve plans."))


def deadline_for(school: School | int, year: AcademicYear) -> dt.date:
    """The school's deadline for plans of ``year``: set by the administration, or 10 September."""
    return PlanningDeadline.date_for(school if isinstance(school, int) else school.pk, year)


def _plan_of(assignment: TeachingAssignment, acting_user: User, *, lock: bool = True) -> Plan:
    qs = Plan.objects.select_for_update(of=("self",)) if lock else Plan.objects
    plan = qs.filter(assignment=assignment).first()
    if plan is not None:
        return plan
    try:
        with transaction.atomic():  # a savepoint: two first imports of one plan meet at the unique key
            return Plan.objects.create(
                school_id=assignment.school_id,
                assignment=assignment,
                subject_id=assignment.subject_id,
                year_level_id=assignment.school_class.year_level_id,
                year_id=assignment.year_id,
                created_by=acting_user,
            )
    except IntegrityError:
        return qs.get(assignment=assignment)


def _snapshot(plan: Plan) -> list[list[Any]]:
    return [
        [t.section, t.title, t.hours, t.lesson_type, t.homework]
        for t in PlanTopic.objects.filter(plan=plan).order_by("position")
    ]


def _replace_topics(plan: Plan, rows: Sequence[TopicRow]) -> None:
    PlanTopic.objects.filter(plan=plan).delete()
    PlanTopic.objects.bulk_create(
        [
            PlanTopic(
                school_id=plan.school_id,
                plan=plan,
                position=index,
                section=row.section,
                title=row.title,
                hours=row.hours,
                lesson_type=row.lesson_type,
                homework=row.homework,
            )
            for index, row in enumerate(rows, start=1)
        ]
    )


def _changed(plan: Plan, *, expected_version: int | None) -> None:
    """A plan whose topics changed goes back to draft (an approval was of the old topics)."""
    if expected_version is not None and plan.version != expected_version:
        raise ConflictError(_("Somebody changed this plan in the meantime. Reload it and try again."))
    plan.version += 1
    if plan.status != PlanStatus.DRAFT:
        plan.status = PlanStatus.DRAFT
        plan.approved_at = None
        plan.approved_by = None
    plan.save(update_fields=["version", "status", "approved_at", "approved_by", "updated_at"])


@transaction.atomic
def import_topics(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    rows: Sequence[TopicRow],
    source: str = "file",
    expected_version: int | None = None,
) -> Plan:
    """Replace the plan of ``assignment`` with ``rows`` (already checked) and bind it to the lessons (R3.1).

    The old topics are kept in the audit entry, so nothing is lost.
    """
    _ensure_teacher(acting_user, assignment)
    if not rows:
        raise DomainError(_("The plan has no topics."))
    plan = _plan_of(assignment, acting_user)
    old = _snapshot(plan)
    _changed(plan, expected_version=expected_version)
    _replace_topics(plan, rows)
    result = _bind(plan)
    log_action(
        "planning.plan.imported",
        actor=acting_user,
        school=plan.school,
        obj=plan,
        data={
            "assignment": assignment.pk,
            "source": source,
            "topics": len(rows),
            "hours": sum(r.hours for r in rows),
            "bound": result.bound,
            "previous_topics": old,
        },
    )
    return plan


def import_plan_file(
    *,
    acting_user: User,
    assignment: TeachingAssignment,
    filename: str,
    content: bytes,
    expected_version: int | None = None,
) -> Plan:
    """Import a CSV or XLSX file all or nothing (``PlanFileError`` lists every bad row; nothing changes)."""
    _ensure_teacher(acting_user, assignment)
    rows = parse_file(filename, content)
    return import_topics(
        acting_user=acting_user,
        assignment=assignment,
        rows=rows,
        source=f"file:{filename[:100]}",
        expected_version=expected_version,
    )


def _rows_of(plan: Plan) -> list[TopicRow]:
    return [
        TopicRow(t.section, t.title, t.hours, t.lesson_type, t.homework)
        for t in PlanTopic.objects.filter(plan=plan).order_by("position")
    ]


def _check_source(assignment: TeachingAssignment, source: Plan) -> None:
    if source.school_id != assignment.school_id or source.withdrawn_at is not None:
        raise DomainError(_("This plan cannot be copied."), field="source")
    if source.assignment_id == assignment.pk:
        raise DomainError(_("A plan cannot be copied onto itself."), field="source")
    if source.subject_id != assignment.subject_id or source.year_level_id != assignment.school_class.year_level_id:
        raise DomainError(
            _("Copy a plan of the same subject and year level (a parallel class, an earlier year or the shared base)."),
            field="source",
        )


@transaction.atomic
def copy_plan(
    *, acting_user: User, assignment: TeachingAssignment, source: Plan, expected_version: int | None = None
) -> Plan:
    """Replace the plan of ``assignment`` with a copy of ``source`` (R3.3): a parallel class's plan, last
    year's plan of the same subject and year level, or a plan of the shared base."""
    _ensure_teacher(acting_user, assignment)
    _check_source(assignment, source)
    rows = _rows_of(source)
    if not rows:
        raise DomainError(_("The chosen plan has no topics."), field="source")
    plan = import_topics(
        acting_user=acting_user,
        assignment=assignment,
        rows=rows,
        source=f"plan:{source.pk}",
        expected_version=expected_version,
    )
    Plan.objects.filter(pk=plan.pk).update(copied_from=source)
    plan.copied_from = source
    return plan


@transaction.atomic
def publish_plan(*, acting_user: User, assignment: TeachingAssignment, title: str = "") -> Plan:
    """Put a copy of the assignment's plan into the school's shared base (R3.3)."""
    _ensure_teacher(acting_user, assignment)
    plan = Plan.objects.filter(assignment=assignment).first()
    rows = _rows_of(plan) if plan else []
    if not rows:
        raise DomainError(_("The plan has no topics yet, so there is nothing to publish."))
    title = (title or "").strip()[:200] or f"{assignment.subject} — {assignment.school_class.year_level.number}"
    shared = Plan.objects.create(
        school_id=assignment.school_id,
        assignment=None,
        is_shared=True,
        subject_id=assignment.subject_id,
        year_level_id=assignment.school_class.year_level_id,
        year_id=assignment.year_id,
        title=title,
        status=plan.status if plan else PlanStatus.DRAFT,
        copied_from=plan,
        created_by=acting_user,
    )
    _replace_topics(shared, rows)
    log_action(
        "planning.plan.published",
        actor=acting_user,
        school=shared.school,
        obj=shared,
        data={"from_plan": plan.pk if plan else None, "topics": len(rows), "title": title},
    )
    return shared


@transaction.atomic
def withdraw_shared(*, acting_user: User, plan: Plan) -> Plan:
    """Take a plan out of the shared base (its publisher, the director or a deputy); kept for the record."""
    if not plan.is_shared or plan.withdrawn_at is not None:
        raise DomainError(_("This plan is not in the shared base."))
    if plan.created_by_id != getattr(acting_user, "pk", None):
        _ensure_approver(acting_user, plan.school_id)
    plan.withdrawn_at = timezone.now()
    plan.save(update_fields=["withdrawn_at", "updated_at"])
    log_action("planning.plan.withdrawn", actor=acting_user, school=plan.school, obj=plan, data={"title": plan.title})
    return plan


@transaction.atomic
def submit_plan(*, acting_user: User, assignment: TeachingAssignment) -> Plan:
    """The teacher hands the plan in for approval; submitted after the deadline counts as late (R3.1)."""
    _ensure_teacher(acting_user, assignment)
    plan = _plan_of(assignment, acting_user)
    if not PlanTopic.objects.filter(plan=plan).exists():
        raise DomainError(_("The plan has no topics yet. Import or copy them first."))
    if plan.status != PlanStatus.DRAFT:
        raise DomainError(_("The plan is already submitted."))
    plan.status = PlanStatus.SUBMITTED
    plan.submitted_at = timezone.now()
    plan.return_note = ""
    plan.save(update_fields=["status", "submitted_at", "return_note", "updated_at"])
    late = timezone.localdate() > deadline_for(plan.school_id, assignment.year)
    log_action("planning.plan.submitted", actor=acting_user, school=plan.school, obj=plan, data={"late": late})
    return plan


@transaction.atomic
def approve_plan(*, acting_user: User, plan: Plan) -> Plan:
    _ensure_approver(acting_user, plan.school_id)
    plan = Plan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    if plan.is_shared or plan.status != PlanStatus.SUBMITTED:
        raise DomainError(_("Only a submitted plan can be approved."))
    plan.status = PlanStatus.APPROVED
    plan.approved_at = timezone.now()
    plan.approved_by = acting_user
    plan.save(update_fields=["status", "approved_at", "approved_by", "updated_at"])
    log_action("planning.plan.approved", actor=acting_user, school=plan.school, obj=plan)
    return plan


@transaction.atomic
def return_plan(*, acting_user: User, plan: Plan, note: str) -> Plan:
    """Send a submitted or approved plan back to the teacher with a note."""
    _ensure_approver(acting_user, plan.school_id)
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Say what the teacher should change."), field="note")
    plan = Plan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    if plan.is_shared or plan.status == PlanStatus.DRAFT:
        raise DomainError(_("Only a submitted or approved plan can be returned."))
    plan.status = PlanStatus.DRAFT
    plan.approved_at = None
    plan.approved_by = None
    plan.return_note = note[:500]
    plan.save(update_fields=["status", "approved_at", "approved_by", "return_note", "updated_at"])
    log_action("planning.plan.returned", actor=acting_user, school=plan.school, obj=plan, data={"note": note[:500]})
    return plan


@transaction.atomic
def set_deadline(*, acting_user: User, year: AcademicYear, deadline: dt.date) -> PlanningDeadline:
    """The school's deadline for plans of ``year`` (default 10 September)."""
    _ensure_approver(acting_user, year.school_id)
    if not (year.start - dt.timedelta(days=120) <= deadline <= year.end):
        raise DomainError(_("The deadline must fall within the academic year or shortly before it."), field="deadline")
    row, _created = PlanningDeadline.objects.update_or_create(
        school_id=year.school_id, year=year, defaults={"deadline": deadline, "set_by": acting_user}
    )
    log_action(
        "planning.deadline.set",
        actor=acting_user,
        school=year.school,
        obj=row,
        data={"year": year.pk, "deadline": deadline.isoformat()},
    )
    return row


# --- binding to lessons --------------------------------------------------------------------------------


def cancelled_lesson_ids(school_id: int) -> Any:
    return LessonChange.objects.filter(school_id=school_id, kind=ChangeKind.CANCELLED).values("lesson_id")


def _bind(plan: Plan) -> BindResult:
    """Give the assignment's lessons (date order, cancelled ones left out) the plan's topics: a topic of N
    hours covers the next N lessons. Only ``LessonBinding`` rows change; the lessons themselves never do,
    so a topic the teacher entered or confirmed is never overwritten. Bulk writes, a fixed number of queries.
    """
    assert plan.assignment_id is not None
    slots: list[PlanTopic] = []
    for topic in PlanTopic.objects.filter(plan=plan).order_by("position"):
        slots.extend([topic] * topic.hours)
    lessons = list(
        Lesson.objects.filter(assignment_id=plan.assignment_id)
        .exclude(pk__in=cancelled_lesson_ids(plan.school_id))
        .order_by("date", "number", "pk")
        .values_list("pk", "topic")
    )
    existing = {b.lesson_id: b for b in LessonBinding.objects.filter(lesson__assignment_id=plan.assignment_id)}
    create, update, keep = [], [], set()
    suggested = 0
    for (lesson_id, topic_text), slot in zip(lessons, slots, strict=False):
        keep.add(lesson_id)
        if not topic_text:
            suggested += 1
        binding = existing.get(lesson_id)
        if binding is None:
            create.append(
                LessonBinding(
                    school_id=plan.school_id,
                    lesson_id=lesson_id,
                    plan=plan,
                    topic=slot,
                    suggested_topic=slot.title,
                    suggested_type=slot.lesson_type,
                )
            )
        elif (binding.plan_id, binding.topic_id, binding.suggested_topic, binding.suggested_type) != (
            plan.pk,
            slot.pk,
            slot.title,
            slot.lesson_type,
        ):
            binding.plan, binding.topic = plan, slot
            binding.suggested_topic, binding.suggested_type = slot.title, slot.lesson_type
            update.append(binding)
    stale = [pk for lesson_id, b in existing.items() if lesson_id not in keep for pk in [b.pk]]
    if stale:
        LessonBinding.objects.filter(pk__in=stale).delete()
    LessonBinding.objects.bulk_create(create, batch_size=500)
    LessonBinding.objects.bulk_update(update, ["plan", "topic", "suggested_topic", "suggested_type"], batch_size=500)
    return BindResult(
        bound=len(keep),
        suggested=suggested,
        lessons_without_topic=max(0, len(lessons) - len(slots)),
        hours_without_lesson=max(0, len(slots) - len(lessons)),
    )


@transaction.atomic
def bind_plan(*, acting_user: User, assignment: TeachingAssignment) -> BindResult:
    """Bind the plan to the assignment's lessons again (after lessons were generated, moved or cancelled)."""
    _ensure_teacher(acting_user, assignment)
    plan = Plan.objects.select_for_update(of=("self",)).filter(assignment=assignment).first()
    if plan is None or not PlanTopic.objects.filter(plan=plan).exists():
        raise DomainError(_("The plan has no topics yet. Import or copy them first."))
    result = _bind(plan)
    log_action(
        "planning.plan.bound",
        actor=acting_user,
        school=plan.school,
        obj=plan,
        data={"bound": result.bound, "suggested": result.suggested},
    )
    return result


def confirm_topics(*, acting_user: User, lessons: Iterable[Lesson]) -> int:
    """Confirm the plan's suggested topic (and lesson type) for ``lessons`` that have no topic yet.

    Each confirmation is the journal's own ``update_lesson`` (version check, the teacher or the
    substitute who gave the lesson, a ``JournalChange`` with the teacher as the actor, R2.7), so a
    confirmed topic is recorded exactly like a typed one. Lessons whose topic is already entered are skipped.
    """
    lessons = list(lessons)[:MAX_CONFIRM]
    if not lessons:
        return 0
    bindings = {b.lesson_id: b for b in LessonBinding.objects.filter(lesson_id__in=[lesson.pk for lesson in lessons])}
    today = timezone.localdate()
    done = 0
    with transaction.atomic():
        for lesson in lessons:
            binding = bindings.get(lesson.pk)
            if binding is None or lesson.topic or not binding.suggested_topic:
                continue
            if not can_edit_lesson(acting_user, lesson):
                raise PermissionDeniedError(_("Only the teacher of this lesson may change it."))
            if lesson.date > today:
                raise DomainError(
                    _("A topic can be confirmed on the day of the lesson or later."), code="future_lesson"
                )
            changes: dict[str, Any] = {"topic": binding.suggested_topic}
            if lesson.lesson_type == LessonType.REGULAR and binding.suggested_type:
                changes["lesson_type"] = binding.suggested_type
            journal_services.update_lesson(
                acting_user=acting_user,
                lesson_id=lesson.pk,
                expected_version=lesson.version,
                reason=_("Topic from the calendar-thematic plan"),
                **changes,
            )
            binding.confirmed_at = timezone.now()
            binding.confirmed_by = acting_user
            binding.save(update_fields=["confirmed_at", "confirmed_by"])
            done += 1
    return done
