"""Human names for audit actions (the registry the audit log page and API read).

Every ``log_action("app.thing.verb", ...)`` should have a line here. An action without one is shown
as its raw name, never hidden. Generic ``<app>.<model>.created|updated|deleted`` entries of the
settings and structure pages are named from the model's verbose name.
"""

from __future__ import annotations

from django.apps import apps
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext, pgettext_lazy

ACTION_LABELS: dict[str, Promise] = {
    # accounts and security
    "people.login": _("Logged in"),
    "people.login.new_device": _("Logged in from a new device or network"),
    "people.activation_code.issued": _("Activation code issued"),
    "people.activation_code.revoked": _("Activation code withdrawn"),
    "people.activation_code.used": _("Activation code redeemed"),
    "people.api_token.created": _("API token created"),
    "people.api_token.revoked": _("API token revoked"),
    "people.totp.enabled": _("Two-factor login switched on"),
    "people.totp.disabled": _("Two-factor login switched off"),
    "people.totp.reset": _("Two-factor login reset by an administrator"),
    "people.recovery_codes.created": _("Two-factor recovery codes created"),
    "people.recovery_code.used": _("Two-factor recovery code used"),
    "people.sessions.ended": _("Sessions ended"),
    "people.profile.updated": _("Profile changed"),
    "people.role.granted": _("Role granted"),
    "people.role.removed": _("Role removed"),
    "people.user.deactivated": _("Account deactivated"),
    "people.user.reactivated": _("Account reactivated"),
    # staff, students, families
    "roster.role.granted": _("Role granted"),
    "roster.role.revoked": _("Role removed"),
    "roster.staff.added": _("Staff member added"),
    "roster.staff.updated": _("Staff member changed"),
    "roster.student.added": _("Student added"),
    "roster.student.updated": _("Student's record changed"),
    "roster.student.moved": _("Student moved to another class"),
    "roster.student.withdrawn": _("Student left the school"),
    "roster.students.imported": _("Class list imported"),
    # the book of orders and the year's closing (R7.5, R7.2)
    "records.order.created": _("Order drafted"),
    "records.order.updated": _("Draft order changed"),
    "records.order.deleted": _("Draft order deleted"),
    "records.order.signed": _("Order signed"),
    "records.order.applied": _("Order took effect"),
    "records.order.apply_failed": _("Order could not take effect"),
    "records.year.closed": _("School year closed"),
    "roster.guardian.added": _("Parent added"),
    "roster.guardian.linked": _("Parent linked to a child"),
    "roster.guardian.updated": _("Parent's details changed"),
    "roster.guardian.access_changed": _("Parent's access to the diary changed"),
    "roster.guardian.link_ended": _("Parent's link to a child ended"),
    "roster.consent.recorded": _("Personal-data consent recorded"),
    "roster.consent.withdrawn": _("Personal-data consent withdrawn"),
    # school
    "schools.school.created": _("School created"),
    "schools.year.opened": _("Academic year opened"),
    "schools.studyperiod.generated": _("Study periods generated"),
    "schools.subgroup.students_set": _("Subgroup's students set"),
    "demo.school.seeded": _("Demo data created"),
    # journal
    "journal.period_grade.corrected": _("Period grade corrected"),
    "journal.remark.added": _("Control remark added"),
    "journal.remark.fixed": _("Control remark marked as fixed"),
    "diary.policy.changed": _("Diary settings changed"),
    # webhooks
    "webhooks.subscription.created": _("Webhook added"),
    "webhooks.subscription.updated": _("Webhook changed"),
    "webhooks.subscription.secret_rotated": _("Webhook secret replaced"),
    "webhooks.subscription.deleted": _("Webhook deleted"),
    # signing
    "signing.certificate.uploaded": _("Signing certificate uploaded"),
    "signing.certificate.replaced": _("Signing certificate replaced"),
    "signing.certificate.removed": _("Signing certificate removed"),
    # timetable
    "timetable.bell_schedule.created": _("Bell schedule created"),
    "timetable.bell.set": _("Bell times set"),
    "timetable.bell.deleted": _("Bell removed"),
    "timetable.entry.created": _("Timetable lesson added"),
    "timetable.entry.changed": _("Timetable lesson changed"),
    "timetable.entry.removed": _("Timetable lesson ended"),
    "timetable.entry.deleted": _("Timetable lesson deleted"),
    "timetable.entries.copied": _("Timetable copied"),
    "timetable.lessons.generated": _("Lessons generated"),
    "timetable.lesson.conducted_by": _("Lesson given by another teacher"),
    "timetable.lesson.substituted": _("Lesson substituted"),
    "timetable.lesson.cancelled": _("Lesson cancelled"),
    "timetable.lesson.merged": _("Lesson merged with another class"),
    "timetable.lesson.moved": _("Lesson moved"),
    "timetable.calendar_feed.issued": _("Calendar feed address issued"),
    # plans
    "planning.plan.imported": _("Plan imported"),
    "planning.plan.submitted": _("Plan submitted for approval"),
    "planning.plan.approved": _("Plan approved"),
    "planning.plan.returned": _("Plan returned for changes"),
    "planning.plan.published": _("Plan published"),
    "planning.plan.withdrawn": _("Plan withdrawn"),
    "planning.plan.bound": _("Plan bound to lessons"),
    "planning.deadline.set": _("Plans' deadline set"),
    # messages, notifications, appeals
    "messaging.announcement.published": _("Announcement published"),
    "messaging.announcement.withdrawn": _("Announcement withdrawn"),
    "messaging.conversation.started": _("Conversation started"),
    "messaging.forum_topic.opened": _("Forum topic opened"),
    "messaging.forum_topic.closed": _("Forum topic closed"),
    "messaging.forum_topic.reopened": _("Forum topic reopened"),
    "messaging.forum_reply.hidden": _("Forum reply hidden"),
    "notifications.class_notice.sent": _("Class notice sent"),
    "notifications.phone.settings_saved": _("SMS and Viber settings saved"),
    "notifications.phone.limit_reached": _("SMS and Viber stopped: monthly cost limit reached"),
    "notifications.phone.opted_in": _("Agreed to SMS and Viber notifications"),
    "notifications.phone.opted_out": _("Stopped SMS and Viber notifications"),
    "appeals.absence_report.submitted": _("Absence report submitted"),
    "appeals.absence_report.accepted": _("Absence report accepted"),
    "appeals.absence_report.rejected": _("Absence report rejected"),
    "appeals.absence_report.applied": _("Absence report applied to the journal"),
    "appeals.mark_flag.submitted": _("Mark questioned"),
    "appeals.mark_flag.confirmed": _("Questioned mark confirmed"),
    "appeals.mark_flag.corrected": _("Questioned mark corrected"),
    # surveys (R9.3)
    "surveys.survey.created": _("Survey created"),
    "surveys.survey.updated": _("Survey changed"),
    "surveys.survey.deleted": _("Survey deleted"),
    "surveys.survey.published": _("Survey published"),
    "surveys.survey.closed": _("Survey closed"),
    "surveys.question.added": _("Survey question added"),
    "surveys.question.deleted": _("Survey question deleted"),
    "surveys.question.moved": _("Survey question moved"),
    "surveys.response.submitted": _("Survey answered"),
    # school documents and resources (R8.3)
    "documents.document.created": _("Document added"),
    "documents.document.updated": _("Document changed"),
    "documents.version.added": _("Document version uploaded"),
    "documents.resource.created": _("Resource added to the catalogue"),
    "documents.resource.updated": _("Resource changed"),
    "documents.resource.deleted": _("Resource removed from the catalogue"),
    # portfolios (R8.2)
    "portfolios.entry.added": _("Portfolio entry added"),
    "portfolios.entry.removed": _("Portfolio entry removed"),
    "portfolios.entry.requested": _("Portfolio entry: sharing asked for"),
    "portfolios.entry.shared": _("Portfolio entry shared"),
    "portfolios.entry.unshared": _("Portfolio entry kept in the family"),
    "portfolios.project.created": _("Project created"),
    # materials (R8.1)
    "materials.material.published": _("Material published"),
    "materials.material.updated": _("Material changed"),
    "materials.material.withdrawn": _("Material withdrawn"),
    "materials.settings.quota_changed": _("Materials storage quota changed"),
}

# The filter's groups: an action prefix ending with a dot matches every action under it.
ACTION_GROUPS: dict[str, Promise] = {
    "people.": _("Accounts and security: logins, codes, two-factor, tokens, roles"),
    "roster.": _("Staff, students and parents"),
    "schools.": _("School settings and structure"),
    "journal.": pgettext_lazy("audit group", "Journal"),
    "timetable.": pgettext_lazy("audit group", "Timetable"),
    "planning.": _("Plans"),
    "messaging.": _("Messages, announcements, forum"),
    "notifications.": _("Notices"),
    "appeals.": _("Absence reports and questioned marks"),
    "diary.": pgettext_lazy("audit group", "Diary"),
    "surveys.": _("Surveys"),
    "documents.": _("School documents and resources"),
    "portfolios.": _("Portfolios"),
}

_GENERIC_VERBS = {"created", "updated", "deleted"}


def _generic_label(action: str) -> str | None:
    """``schools.room.deleted`` → "Room: deleted" (named from the model), or None."""
    parts = action.split(".")
    if len(parts) != 3 or parts[2] not in _GENERIC_VERBS:
        return None
    try:
        model = apps.get_model(parts[0], parts[1])
    except (LookupError, ValueError):
        return None
    thing = str(model._meta.verbose_name).capitalize()
    if parts[2] == "created":
        return pgettext("audit", "%(thing)s: created") % {"thing": thing}
    if parts[2] == "updated":
        return pgettext("audit", "%(thing)s: changed") % {"thing": thing}
    return pgettext("audit", "%(thing)s: deleted") % {"thing": thing}


def action_label(action: str) -> str:
    """The translated name of ``action``; the raw action when it has none (never hidden)."""
    label = ACTION_LABELS.get(action)
    if label is not None:
        return str(label)
    return _generic_label(action) or action


def is_known(action: str) -> bool:
    return action in ACTION_LABELS or _generic_label(action) is not None


# Older names of actions still found in the log (named above, not offered in the filter's list).
LEGACY_ACTIONS = frozenset({"roster.role.granted", "roster.role.revoked"})


def action_choices() -> list[tuple[str, str]]:
    """Every named action as (action, label), sorted by label in the current language (for the filter)."""
    pairs = ((a, str(label)) for a, label in ACTION_LABELS.items() if a not in LEGACY_ACTIONS)
    return sorted(pairs, key=lambda pair: pair[1])


# The forecast of period grades (R6.5): whether parents see it.
ACTION_LABELS["reports.forecast.parents_switched"] = _("Forecast for parents switched on or off")

# Archives (issue 12, R6.7, R6.8).
ACTION_LABELS["archive.build.started"] = _("Archive build started")
ACTION_LABELS["archive.delete.refused"] = _("Deleting an archive refused")
ACTION_LABELS["archive.act.drafted"] = _("Destruction act drafted")
ACTION_LABELS["archive.act.confirmed"] = _("Destruction act confirmed, archives destroyed")
ACTION_LABELS["archive.settings.changed"] = _("Archive settings changed")
ACTION_LABELS["printing.copy.printed"] = _("Journal pages or a summary sheet printed")

# The roster's books (issue 13, R7.3, R7.6): certificates issued and parents' requests to change data.
ACTION_LABELS["roster.certificate.recorded"] = _("Document issued recorded in the book")
ACTION_LABELS["roster.certificate.corrected"] = _("Line of the book of certificates issued corrected")
ACTION_LABELS["roster.change_request.submitted"] = _("Request to change personal data sent")
ACTION_LABELS["roster.change_request.accepted"] = _("Request to change personal data accepted")
ACTION_LABELS["roster.change_request.rejected"] = _("Request to change personal data rejected")

# OneRoster 1.2 interop (issue 13, docs/oneroster.md).
ACTION_LABELS["oneroster.exported"] = _("School exported as OneRoster")
ACTION_LABELS["oneroster.imported"] = _("OneRoster package imported")
ACTION_LABELS["oneroster.gradebook_imported"] = _("OneRoster gradebook imported into the journals")
ACTION_LABELS["oneroster.client.registered"] = _("OneRoster platform client registered")
ACTION_LABELS["oneroster.client.revoked"] = _("OneRoster platform client revoked")


# The keys of an entry's data as the audit log page names them ("audience: …" read as code); a key without a
# line here is shown with its underscores as spaces, never hidden.
DETAIL_LABELS: dict[str, Promise] = {
    "anonymous": pgettext_lazy("audit detail", "Anonymous"),
    "project": pgettext_lazy("audit detail", "Project"),
    "room": pgettext_lazy("audit detail", "Room"),
    "size": pgettext_lazy("audit detail", "Size"),
    "subgroup": pgettext_lazy("audit detail", "Subgroup"),
    "subject": pgettext_lazy("audit detail", "Subject"),
    "valid_from": pgettext_lazy("audit detail", "Valid from"),
    "valid_until": pgettext_lazy("audit detail", "Valid until"),
    "weekday": pgettext_lazy("audit detail", "Day of the week"),
    "year_level": pgettext_lazy("audit detail", "Year level"),
    "absences": pgettext_lazy("audit detail", "Absences"),
    "answer": pgettext_lazy("audit detail", "Answer"),
    "applied": pgettext_lazy("audit detail", "Applied"),
    "assignment": pgettext_lazy("audit detail", "Teaching assignment"),
    "audience": pgettext_lazy("audit detail", "Audience"),
    "audiences": pgettext_lazy("audit detail", "Audiences"),
    "author": pgettext_lazy("audit detail", "Author"),
    "average": pgettext_lazy("audit detail", "Average"),
    "bound": pgettext_lazy("audit detail", "Bound"),
    "calendar": pgettext_lazy("audit detail", "Calendar"),
    "certified": pgettext_lazy("audit detail", "Certified"),
    "change": pgettext_lazy("audit detail", "Change"),
    "changes": pgettext_lazy("audit detail", "Changes"),
    "choices": pgettext_lazy("audit detail", "Choices"),
    "class": pgettext_lazy("audit detail", "Class"),
    "classes": pgettext_lazy("audit detail", "Classes"),
    "code": pgettext_lazy("audit detail", "Code"),
    "comment": pgettext_lazy("audit detail", "Comment"),
    "count": pgettext_lazy("audit detail", "Number"),
    "counts": pgettext_lazy("audit detail", "Numbers"),
    "created": pgettext_lazy("audit detail", "Created"),
    "date": pgettext_lazy("audit detail", "Date"),
    "day": pgettext_lazy("audit detail", "Day"),
    "closes_on": pgettext_lazy("audit detail", "Closes on"),
    "deadline": pgettext_lazy("audit detail", "Deadline"),
    "deliveries": pgettext_lazy("audit detail", "Deliveries"),
    "device": pgettext_lazy("audit detail", "Device"),
    "effective_on": pgettext_lazy("audit detail", "Effective from"),
    "end": pgettext_lazy("audit detail", "End"),
    "enrolments": pgettext_lazy("audit detail", "Enrolments"),
    "entries": pgettext_lazy("audit detail", "Entries"),
    "error": pgettext_lazy("audit detail", "Error"),
    "excused": pgettext_lazy("audit detail", "Excused"),
    "existing": pgettext_lazy("audit detail", "Existing"),
    "fields": pgettext_lazy("audit detail", "Fields"),
    "file": pgettext_lazy("audit detail", "File"),
    "files": pgettext_lazy("audit detail", "Files"),
    "from": pgettext_lazy("audit detail", "From"),
    "from_plan": pgettext_lazy("audit detail", "From the plan"),
    "from_year": pgettext_lazy("audit detail", "From the year"),
    "given_by": pgettext_lazy("audit detail", "Given by"),
    "given_on": pgettext_lazy("audit detail", "Given on"),
    "grade": pgettext_lazy("audit detail", "Grade"),
    "guardian": pgettext_lazy("audit detail", "Parent"),
    "guardians_created": pgettext_lazy("audit detail", "Parents added"),
    "guardians_linked": pgettext_lazy("audit detail", "Parents linked"),
    "hours": pgettext_lazy("audit detail", "Hours"),
    "ip": pgettext_lazy("audit detail", "IP address"),
    "kind": pgettext_lazy("audit detail", "Kind"),
    "late": pgettext_lazy("audit detail", "Late"),
    "left": pgettext_lazy("audit detail", "Left"),
    "lesson": pgettext_lazy("audit detail", "Lesson"),
    "lessons_created": pgettext_lazy("audit detail", "Lessons created"),
    "lessons_kept": pgettext_lazy("audit detail", "Lessons kept"),
    "lessons_removed": pgettext_lazy("audit detail", "Lessons removed"),
    "limit": pgettext_lazy("audit detail", "Limit"),
    "lines": pgettext_lazy("audit detail", "Lines"),
    "mark": pgettext_lazy("audit detail", "Mark"),
    "may_see": pgettext_lazy("audit detail", "May see"),
    "members": pgettext_lazy("audit detail", "Members"),
    "merged_with": pgettext_lazy("audit detail", "Merged with"),
    "method": pgettext_lazy("audit detail", "Method"),
    "month": pgettext_lazy("audit detail", "Month"),
    "name": pgettext_lazy("audit detail", "Name"),
    "new": pgettext_lazy("audit detail", "New value"),
    "new_date": pgettext_lazy("audit detail", "New date"),
    "new_number": pgettext_lazy("audit detail", "New number"),
    "note": pgettext_lazy("audit detail", "Note"),
    "number": pgettext_lazy("audit detail", "Number"),
    "old": pgettext_lazy("audit detail", "Old value"),
    "on": pgettext_lazy("audit detail", "On"),
    "opens_on": pgettext_lazy("audit detail", "Opens on"),
    "order": pgettext_lazy("audit detail", "Order"),
    "parents": pgettext_lazy("audit detail", "Parents"),
    "parity": pgettext_lazy("audit detail", "Weeks"),
    "participants": pgettext_lazy("audit detail", "Participants"),
    "per_class": pgettext_lazy("audit detail", "Per class"),
    "phone": pgettext_lazy("audit detail", "Phone"),
    "position": pgettext_lazy("audit detail", "Position"),
    "previous_topics": pgettext_lazy("audit detail", "Previous topics"),
    "previous_valid_until": pgettext_lazy("audit detail", "Previously valid until"),
    "purpose": pgettext_lazy("audit detail", "Purpose"),
    "question": pgettext_lazy("audit detail", "Question"),
    "reason": pgettext_lazy("audit detail", "Reason"),
    "records": pgettext_lazy("audit detail", "Records"),
    "reference_day": pgettext_lazy("audit detail", "Reference day"),
    "relation": pgettext_lazy("audit detail", "Relation"),
    "required": pgettext_lazy("audit detail", "Required"),
    "retain_until": pgettext_lazy("audit detail", "Keep until"),
    "role": pgettext_lazy("audit detail", "Role"),
    "roles": pgettext_lazy("audit detail", "Roles"),
    "schedule": pgettext_lazy("audit detail", "Schedule"),
    "scopes": pgettext_lazy("audit detail", "Scopes"),
    "seed": pgettext_lazy("audit detail", "Seed"),
    "sequence": pgettext_lazy("audit detail", "Sequence number"),
    "since": pgettext_lazy("audit detail", "Since"),
    "skipped_days": pgettext_lazy("audit detail", "Days skipped"),
    "slug": pgettext_lazy("audit detail", "Short name"),
    "source": pgettext_lazy("audit detail", "Source"),
    "spent": pgettext_lazy("audit detail", "Spent"),
    "start": pgettext_lazy("audit detail", "Start"),
    "student": pgettext_lazy("audit detail", "Student"),
    "students": pgettext_lazy("audit detail", "Students"),
    "substitute": pgettext_lazy("audit detail", "Substitute teacher"),
    "suggested": pgettext_lazy("audit detail", "Suggested"),
    "system": pgettext_lazy("audit detail", "System"),
    "target": pgettext_lazy("audit detail", "Target"),
    "teacher": pgettext_lazy("audit detail", "Teacher"),
    "text": pgettext_lazy("audit detail", "Text"),
    "title": pgettext_lazy("audit detail", "Title"),
    "to": pgettext_lazy("audit detail", "To"),
    "topic": pgettext_lazy("audit detail", "Topic"),
    "topics": pgettext_lazy("audit detail", "Topics"),
    "url": pgettext_lazy("audit detail", "Link"),
    "user": pgettext_lazy("audit detail", "User"),
    "user_agent": pgettext_lazy("audit detail", "Browser"),
    "value": pgettext_lazy("audit detail", "Value"),
    "version": pgettext_lazy("audit detail", "Version"),
    "year": pgettext_lazy("audit detail", "Year"),
}


def detail_label(key: str) -> str:
    """The page's name of a data key of an audit entry."""
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")
