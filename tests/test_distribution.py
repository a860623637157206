"""The national path, checked: can every school-owned table be distributed by ``school_id``? (issue 15)

A country-wide deployment shards by school on a distributed PostgreSQL engine (Citus-style: every
school-owned table distributed by ``school_id``, co-located). Such an engine refuses, or must broadcast,

1. a **foreign key between two school-owned tables that does not include the school**: it must be
   ``(school_id, x_id) REFERENCES x (school_id, id)`` so both rows live on the same shard;
2. a **unique constraint** (or unique field, one-to-one field, ``unique_together``) on a school-owned
   table **without the school**: uniqueness across shards is not checked;
3. a **table without a school pointing at a school-owned table** (a global table, or a many-to-many
   table Django made without a ``school`` column): a reference table cannot point into a distributed one;
4. a **primary key without the school**: every school-owned table's key is a surrogate (an
   auto-increment integer or a random UUID), so it becomes ``(school_id, id)`` mechanically at
   distribution time; a natural key would not.

Today's exceptions are listed below, each with the reason it stays; the tests fail on a **new** blocker
(add the school to the constraint, or list it here with a reason and update docs/scaling.md) and on a
listed one that has gone (so the list only shrinks). What the national migration does with the listed
ones: docs/scaling.md, "The distribution check". Model definitions only: no database.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import models

from classbook.core.models import SchoolOwned

engine_agnostic = pytest.mark.engine_agnostic

# 1. Foreign keys between school-owned tables (model: its fields), all single-column today. Django's
# ForeignKey is one column; the national migration re-creates each as a composite key in SQL
# (docs/scaling.md). Listing them keeps every new one a conscious decision.
FOREIGN_KEYS_WITHOUT_SCHOOL: dict[str, str] = {
    "schools.studyperiod": "year parent",
    "schools.specialday": "year",
    "schools.scalevalue": "scale",
    "schools.yearlevel": "scale",
    "schools.schoolclass": "year year_level",
    "schools.subgroup": "school_class",
    "schools.subject": "scale",
    "schools.teachingassignment": "year school_class subgroup subject scale",
    "people.enrolment": "student school_class",
    "people.guardianlink": "student",
    "people.consent": "student",
    "roster.issueddocument": "student",
    "roster.changerequest": "student",
    "journal.lesson": "assignment",
    "journal.mark": "lesson student work_type value",
    "journal.attendance": "lesson student code",
    "journal.periodgrade": "assignment student period value",
    "journal.gradecorrection": "grade old_value new_value",
    "journal.journalchange": "assignment lesson student period",
    "journal.remark": "assignment lesson student",
    "journal.homeworkattachment": "lesson",
    "timetable.bell": "schedule",
    "timetable.timetableentry": "year assignment room",
    "timetable.generatedlesson": "lesson entry",
    "timetable.generationrun": "year",
    "timetable.lessonchange": "lesson merged_with",
    "planning.planningdeadline": "year",
    "planning.plan": "assignment subject year_level year copied_from",
    "planning.plantopic": "plan",
    "planning.lessonbinding": "lesson plan topic",
    "notifications.delivery": "notification",
    "notifications.classnotice": "school_class student",
    "appeals.absencereport": "student",
    "appeals.markflag": "mark assignment student",
    "messaging.conversation": "student last_message",
    "messaging.participant": "conversation",
    "messaging.message": "conversation",
    "messaging.messageattachment": "message",
    "messaging.announcement": "year_level school_class",
    "messaging.forumreply": "topic",
    "diary.diaryview": "student",
    "webhooks.delivery": "subscription",
    "printing.printedcopy": "school_class",
    "archive.archivebuild": "period year",
    "archive.archiverecord": "build school_class period destruction_act",
    "archive.archivepart": "build school_class record",
    "records.order": "year corrects",
    "records.orderline": "order student target_class",
    "surveys.question": "survey",
    "surveys.choice": "question",
    "surveys.response": "survey school_class",
    "surveys.answer": "response question choice",
    "surveys.participation": "survey response",
    "documents.resource": "room",
    "documents.document": "current_version",
    "documents.documentversion": "document",
    "portfolios.project": "school_class",
    "portfolios.entry": "student project",
    "materials.material": "subject year_level school_class subgroup lesson",
}

_ONE_TO_ONE = "a one-to-one field (one column, unique by itself): becomes a unique (school, x) at distribution"
_JOURNAL = (
    "a journal table of millions of rows on the grid's hot path: its unique index is rebuilt with the school "
    "by the national migration, not in a city's routine upgrade"
)
_PER_PARENT = "unique per parent row; small table, left for the next pass (the fix is appending `school`)"

# 2. Unique rules without the school: (model, constraint or field name) -> why it stays for now.
UNIQUE_WITHOUT_SCHOOL: dict[tuple[str, str], str] = {
    ("people.student", "user"): "one login is one student record across schools (a move moves the record)",
    ("people.activationcode", "code_hash"): "a hash of a random secret, looked up before the school is known",
    ("people.guardianlink", "guardianlink_unique"): _PER_PARENT,
    ("people.enrolment", "enrolment_unique"): _PER_PARENT,
    ("schools.scalevalue", "scalevalue_unique_code"): _PER_PARENT + "; its form message names the fields",
    ("schools.subgroup", "subgroup_unique_name"): _PER_PARENT + "; its form message names the fields",
    ("schools.teachingassignment", "assignment_unique_whole_class"): _PER_PARENT,
    ("schools.teachingassignment", "assignment_unique_subgroup"): _PER_PARENT,
    ("journal.mark", "mark_unique_cell"): _JOURNAL,
    ("journal.attendance", "attendance_unique_cell"): _JOURNAL,
    ("journal.periodgrade", "periodgrade_unique_cell"): _JOURNAL,
    ("timetable.generatedlesson", "generated_unique_slot"): _JOURNAL,
    ("timetable.generatedlesson", "lesson"): _ONE_TO_ONE,
    ("timetable.lessonchange", "lesson"): _ONE_TO_ONE,
    ("planning.plan", "assignment"): _ONE_TO_ONE,
    ("planning.lessonbinding", "lesson"): _ONE_TO_ONE,
    ("notifications.delivery", "delivery_unique_channel"): _PER_PARENT,
    ("appeals.markflag", "markflag_one_open"): _PER_PARENT,
    ("messaging.participant", "participant_unique"): _PER_PARENT,
    ("webhooks.delivery", "webhook_delivery_unique_event"): _PER_PARENT,
    ("archive.archivepart", "archivepart_once_per_build"): _PER_PARENT,
    ("archive.archivepart", "record"): _ONE_TO_ONE,
    ("surveys.participation", "response"): _ONE_TO_ONE,
    ("documents.documentversion", "documentversion_unique_number"): _PER_PARENT,
}

# 3. Tables without a school that point at school-owned tables: (model, field) -> why.
GLOBAL_POINTING_IN: dict[tuple[str, str], str] = {
    ("schools.school", "default_scale"): "the school row itself: distributed by its id, co-located with its scale",
    ("oneroster.accesstoken", "client"): "a token is looked up before its school is known; a reference table",
    ("schools.subgroup_students", "subgroup"): "Django's many-to-many table: gets a school column",
    ("schools.subgroup_students", "student"): "Django's many-to-many table: gets a school column",
    ("timetable.bellschedule_classes", "bellschedule"): "Django's many-to-many table: gets a school column",
    ("timetable.bellschedule_classes", "schoolclass"): "Django's many-to-many table: gets a school column",
    ("surveys.survey_classes", "survey"): "Django's many-to-many table: gets a school column",
    ("surveys.survey_classes", "schoolclass"): "Django's many-to-many table: gets a school column",
    ("portfolios.project_members", "project"): "Django's many-to-many table: gets a school column",
    ("portfolios.project_members", "student"): "Django's many-to-many table: gets a school column",
}


def school_owned(model: type[models.Model]) -> bool:
    return isinstance(model, type) and issubclass(model, SchoolOwned)


def unique_rules(model: type[models.Model]) -> list[tuple[str, list[str]]]:
    """Every uniqueness rule as (name, fields): constraints, ``unique_together``, unique and one-to-one fields."""
    rules = [(c.name, list(c.fields)) for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    rules += [("unique_together", list(fields)) for fields in model._meta.unique_together]
    rules += [(f.name, [f.name]) for f in model._meta.local_fields if f.unique and not f.primary_key]
    return rules


def blockers(
    all_models: list[type[models.Model]],
    *,
    foreign_keys: dict[str, str],
    unique: dict[tuple[str, str], str],
    pointing_in: dict[tuple[str, str], str],
) -> list[str]:
    """What would block distributing ``all_models`` by school, less the listed exceptions."""
    found = []
    for model in all_models:
        label = model._meta.label_lower
        listed = set(foreign_keys.get(label, "").split())
        for field in model._meta.local_fields:
            target = field.related_model if field.is_relation else None
            if field.name == "school" or not school_owned(target):  # type: ignore[arg-type]
                continue
            if not school_owned(model):
                if (label, field.name) not in pointing_in:
                    found.append(f"{label}.{field.name}: a table without a school points at {target._meta.label}")
            elif field.name not in listed:
                found.append(f"{label}.{field.name}: foreign key to {target._meta.label} without the school")
        if not school_owned(model):
            continue
        for name, fields in unique_rules(model):
            if "school" not in fields and (label, name) not in unique:
                found.append(f"{label}.{name} {fields}: unique without the school")
        pk = model._meta.pk
        if not isinstance(pk, models.AutoField | models.BigAutoField | models.UUIDField):
            found.append(f"{label}.{pk.name}: a natural primary key ({type(pk).__name__}), not a surrogate")
    return found


def every_model() -> list[type[models.Model]]:
    return list(apps.get_models(include_auto_created=True))


@engine_agnostic
def test_no_new_table_blocks_distribution_by_school():
    found = blockers(
        every_model(),
        foreign_keys=FOREIGN_KEYS_WITHOUT_SCHOOL,
        unique=UNIQUE_WITHOUT_SCHOOL,
        pointing_in=GLOBAL_POINTING_IN,
    )
    assert not found, (
        "These would block sharding by school (docs/scaling.md, 'The distribution check'): include `school` in "
        "the unique constraint (append it: fields=[..., 'school']), give a many-to-many its own through model "
        "subclassing SchoolOwned, or list the exception in tests/test_distribution.py with its reason:\n  "
        + "\n  ".join(found)
    )


@engine_agnostic
def test_every_listed_exception_still_exists():
    """A fixed blocker leaves the list, so the list only shrinks and a new one cannot reuse an old entry."""
    models_by_label = {m._meta.label_lower: m for m in every_model()}
    stale = []
    for label, names in FOREIGN_KEYS_WITHOUT_SCHOOL.items():
        model = models_by_label.get(label)
        for name in names.split():
            field = model._meta.get_field(name) if model is not None else None
            if field is None or not school_owned(field.related_model):
                stale.append(f"{label}.{name}")
    current = {(m._meta.label_lower, name) for m in every_model() if school_owned(m) for name, _ in unique_rules(m)}
    stale += [f"{label}.{name}" for label, name in UNIQUE_WITHOUT_SCHOOL if (label, name) not in current]
    for label, name in GLOBAL_POINTING_IN:
        model = models_by_label.get(label)
        if model is None or not school_owned(model._meta.get_field(name).related_model):
            stale.append(f"{label}.{name}")
    assert not stale, "No longer blockers: remove them from tests/test_distribution.py and docs/scaling.md: " + str(
        stale
    )


@engine_agnostic
def test_the_check_can_fail():
    """Without the lists, the check reports each kind of blocker it knows (a check that cannot fail is a defect)."""
    label = {m._meta.label_lower: m for m in every_model()}
    found = blockers(
        [label["journal.mark"], label["timetable.lessonchange"], label["surveys.survey_classes"]],
        foreign_keys={},
        unique={},
        pointing_in={},
    )
    assert "journal.mark.lesson: foreign key to journal.Lesson without the school" in found
    cell = "['lesson', 'student', 'work_type', 'slot']"
    assert f"journal.mark.mark_unique_cell {cell}: unique without the school" in found
    assert "timetable.lessonchange.lesson ['lesson']: unique without the school" in found
    assert any(f.startswith("surveys.survey_classes.survey: a table without a school") for f in found)


@engine_agnostic
def test_the_figures_in_the_docs():
    """docs/scaling.md quotes these counts; a changed list changes them there too."""
    foreign_keys = sum(len(v.split()) for v in FOREIGN_KEYS_WITHOUT_SCHOOL.values())
    assert (foreign_keys, len(UNIQUE_WITHOUT_SCHOOL), len(GLOBAL_POINTING_IN)) == (114, 24, 10)
